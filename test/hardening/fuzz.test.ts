import { expect } from "chai";
import fc from "fast-check";
import { User } from "../../entities";
import { Caller, envelopeProblem, figures, fuzzSeed, protectedSnapshot, registeredModels, type RawRequest, type Reply } from "./support";
import { startWorld, type World } from "./world";

/**
 * Property-based fuzzing of the real router and the example app over loopback HTTP: random
 * and mutated paths, every method, every content type, broken and hostile bodies, wrong types
 * in every field, with and without session and CSRF token. Every answer must be the JSON
 * envelope (or problem+json when asked), never a 5xx; the server must stay up; and the rows a
 * non-staff caller may not change must be unchanged afterwards.
 *
 * FUZZ_RUNS (default 20000) is the number of requests; FUZZ_SEED a seed, or `random`.
 */
const RUNS = Math.max(8, Number(process.env.FUZZ_RUNS) || 20_000);
/** Requests in flight at once: concurrency is part of what is fuzzed. */
const BATCH = 8;
const LITERAL = "@@lit@@";
const UNDER_MOUNT = /^\/ajax(\/|\?|$)/i;

/** A JSON number literal JSON.stringify cannot write (1e309, 10,000 digits): spliced in after stringify. */
const literal = (text: string) => `${LITERAL}${text}${LITERAL}`;
function toJson(value: unknown): string {
  return JSON.stringify(value).replace(new RegExp(`"${LITERAL}(.*?)${LITERAL}"`, "g"), "$1");
}

const hugeNumbers = fc.constantFrom("1e309", "-1e309", "1".repeat(400), "9".repeat(10_000), "9007199254740993", "-0", "0.1e-400",
  "2147483648", "-2147483649", "1e21", "123456789012345678901234567890.5").map(literal);

/** A value of the wrong type for any field (and sometimes the right one). */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 2, arbitrary: hugeNumbers },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom("", " ", "null", "true", "on", "0x10", "NaN", "Infinity", "2026-02-30", "2026-11-21T25:00:00Z",
    "0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999+14:00", "\u0000", "\ud800", "'; DROP TABLE article; --", "%", "_", "\\") },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.constantFrom(1, 2, 3, 4, 5, 6, 7, 8, 9, 10) },
  { weight: 1, arbitrary: fc.string({ minLength: 990, maxLength: 1100 }) },
  { weight: 1, arbitrary: fc.array(fc.constantFrom("a", "b", "news", "shared", "x,y", '"q r"'), { maxLength: 5 }) },
);

const fieldNames = ["title", "body", "published", "category", "author", "article", "description", "id", "version", "createdAt",
  "updatedAt", "tags", "_version", "csrf_token", "username", "password", "passwordHash", "email", "isStaff", "isActive",
  "filter", "order", "search", "current_page", "items_per_page", "limit", "from", "delayMs", "__proto__", "constructor",
  "toString", "a[b]", "x.y"];

const filterKey = fc.tuple(
  fc.constantFrom("title", "published", "category", "author", "createdAt", "tags", "id", "body", "username", "email", "isStaff", "passwordHash", "article", "zzz"),
  fc.constantFrom("", "__eq", "__ne", "__lt", "__lte", "__gt", "__gte", "__in", "__contains", "__icontains", "__startswith", "__isnull",
    "__all", "__any", "__none", "__regex", "____", "__"),
).map(([field, op]) => `${field}${op}`);

const listBody = fc.record({
  filter: fc.oneof(fc.dictionary(filterKey, anyValue, { maxKeys: 4 }), anyValue),
  order: fc.oneof(fc.constantFrom("id", "-id", "title,-createdAt", "-createdAt", "username", "email", "passwordHash", "body", "-", "", ",,"), anyValue),
  search: fc.oneof(fc.string({ maxLength: 30 }), anyValue),
  current_page: anyValue,
  items_per_page: anyValue,
}, { requiredKeys: [] });

/** A value that is valid for the field most of the time, and anything else otherwise. */
const mostly = <T>(valid: fc.Arbitrary<T>) => fc.oneof({ weight: 9, arbitrary: valid as fc.Arbitrary<unknown> }, { weight: 1, arbitrary: anyValue });
/** Article, category and comment bodies that pass validation often enough to reach the database with edge values. */
const nearlyValid = fc.record({
  title: mostly(fc.oneof(fc.string({ unit: "binary", minLength: 1, maxLength: 200 }), fc.constantFrom("\ud83d\ude00".repeat(200), "a\ud800b", "x".repeat(200), " t "))),
  body: mostly(fc.oneof(fc.string({ unit: "binary", maxLength: 300 }), fc.constant("b".repeat(100_000)))),
  description: mostly(fc.oneof(fc.constant(null), fc.string({ maxLength: 50 }))),
  published: mostly(fc.constantFrom(true, false, "on", "off", "1", "0", 1, 0)),
  category: mostly(fc.constantFrom(1, 2, null, "", "1")),
  article: mostly(fc.integer({ min: 1, max: 9 })),
  tags: mostly(fc.oneof(fc.array(fc.string({ unit: "binary", minLength: 1, maxLength: 30 }), { maxLength: 5 }), fc.string({ maxLength: 60 }))),
  _version: mostly(fc.integer({ min: 1, max: 4 })),
}, { requiredKeys: [] });

const objectBody = fc.oneof(
  { weight: 3, arbitrary: nearlyValid },
  { weight: 3, arbitrary: fc.dictionary(fc.constantFrom(...fieldNames), anyValue, { maxKeys: 6 }) },
  { weight: 2, arbitrary: listBody },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 12 }), anyValue, { maxKeys: 5 }) },
  { weight: 1, arbitrary: fc.record({ username: fc.constantFrom("bob", "carol", "alice", "nobody", ""), password: fc.constantFrom("bob-password", "wrong", "carol-password") }) },
);

/** encodeURIComponent, with lone surrogates (which it refuses) as U+FFFD, as a browser sends them. */
const encode = (text: string) => encodeURIComponent(text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd"));

function formEncode(body: Record<string, unknown>, prefix = ""): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(body)) {
    const name = prefix ? `${prefix}[${key}]` : key;
    if (value !== null && typeof value === "object") {
      if (Array.isArray(value)) value.forEach((item) => out.push(`${encode(name)}[]=${encode(String(item))}`));
      else out.push(...formEncode(value as Record<string, unknown>, name));
    } else {
      out.push(`${encode(name)}=${encode(String(value ?? "").replace(new RegExp(LITERAL, "g"), ""))}`);
    }
  }
  return out;
}

function multipartEncode(body: Record<string, unknown>, boundary: string): string {
  const parts = formEncode(body).map((pair) => {
    const [name, value] = pair.split("=").map((part) => decodeURIComponent(part ?? ""));
    return `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  });
  return `${parts.join("")}--${boundary}--\r\n`;
}

const deepJson = fc.tuple(fc.constantFrom("[", '{"a":'), fc.integer({ min: 30, max: 10_000 }), fc.boolean()).map(([open, depth, balanced]) => {
  const close = open === "[" ? "]" : "}";
  return `{"x":${open.repeat(depth)}1${balanced ? close.repeat(depth) : ""}}`;
});

/** A body of any kind, with the content type it claims (which may be a lie). */
const bodyAndType: fc.Arbitrary<{ body?: string | Buffer; type?: string }> = fc.oneof(
  { weight: 6, arbitrary: objectBody.map((body) => ({ body: toJson(body), type: "application/json" })) },
  { weight: 3, arbitrary: objectBody.map((body) => ({ body: formEncode(body).join("&"), type: "application/x-www-form-urlencoded" })) },
  { weight: 1, arbitrary: objectBody.map((body) => ({ body: multipartEncode(body, "fuzzBoundary42"), type: "multipart/form-data; boundary=fuzzBoundary42" })) },
  { weight: 1, arbitrary: fc.tuple(objectBody, fc.nat()).map(([body, cut]) => { const text = toJson(body); return { body: text.slice(0, cut % Math.max(1, text.length)), type: "application/json" }; }) },
  { weight: 1, arbitrary: deepJson.map((body) => ({ body, type: "application/json" })) },
  { weight: 1, arbitrary: fc.integer({ min: 30, max: 3000 }).map((depth) => ({ body: `${"a".concat("[b]".repeat(depth))}=1&${"[".repeat(depth)}=x`, type: "application/x-www-form-urlencoded" })) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 3000 }).map((bytes) => ({ body: Buffer.from(bytes) })) },
  { weight: 2, arbitrary: fc.tuple(fc.oneof(fc.uint8Array({ maxLength: 500 }).map((b) => Buffer.from(b)), fc.string({ maxLength: 200 })), fc.constantFrom(
    "application/json", "application/json; charset=utf-16", "application/json; charset=latin1", "application/vnd.api+json", "APPLICATION/JSON",
    "application/x-www-form-urlencoded; charset=iso-8859-1", "multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; boundary=fuzzBoundary42",
    "text/plain", "application/xml", "application/octet-stream", "*/*", "", ";", "application/json, text/html", "image/png", "text/event-stream",
  )).map(([body, type]) => ({ body, type })) },
  { weight: 2, arbitrary: fc.constant({}) },
  { weight: 1, arbitrary: hugeNumbers.map((n) => ({ body: toJson({ title: n, category: n, _version: n, limit: n, current_page: n }), type: "application/json" })) },
);

/** Paths: real routes with odd pieces in them, and mutations of every kind. */
const pkSegment = fc.oneof(
  { weight: 14, arbitrary: fc.integer({ min: 0, max: 9 }).map(String) },
  { weight: 3, arbitrary: fc.constantFrom("NaN", "1e309", "-0", "0x10", "-1", "1.5", "%00", "..", ".", "%2e%2e", "%2F", "", "%E2%80%AE",
    "1".repeat(10_000), "9007199254740993", "2147483648", "00001", "%20", "+1", "null", "undefined", "%C0%AE", "%uFFFF", "%") },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 12 }).map(encodeURIComponent) },
);
const nameSegment = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom("blog", "vault", "auth", "article", "category", "comment", "user", "account", "echo", "stats", "say_hi",
    "countdown", "upload", "list", "get", "update", "delete", "tags", "add", "remove", "set", "clear", "similar", "login", "logout") },
  { weight: 2, arbitrary: fc.constantFrom("constructor", "__proto__", "toString", "prototype", "hasOwnProperty", "Blog", "ARTICLE", "blog ", "csrf",
    "interface", "client", "openapi", "docs", "ajax", "..", ".", "%2e%2e", "%00", "", "%2F", "a".repeat(65), "a".repeat(5000), "\u00e9".repeat(3)) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", minLength: 1, maxLength: 20 }).map(encodeURIComponent) },
  { weight: 1, arbitrary: fc.stringMatching(/^[a-z][a-z0-9_]{0,12}$/) },
);
const realModel = fc.constantFrom(["blog", "article"], ["blog", "article"], ["blog", "category"], ["blog", "comment"], ["blog", "user"],
  ["vault", "article"], ["vault", "account"], ["blog", "account"], ["vault", "nope"]);
const routePath = fc.oneof(
  { weight: 10, arbitrary: fc.tuple(realModel, pkSegment, fc.constantFrom("get", "get", "update", "update", "delete", "tags/add", "tags/remove",
    "tags/set", "tags/clear", "tags/similar", "tags/nope", "nope")).map(([[app, model], pk, op]) => `/ajax/${app}/${model}/${pk}/${op}.json`) },
  { weight: 8, arbitrary: fc.tuple(realModel, fc.constantFrom("list", "list", "create", "create", "nope"))
    .map(([[app, model], op]) => (op === "create" ? `/ajax/${app}/${model}.json` : `/ajax/${app}/${model}/${op}.json`)) },
  { weight: 3, arbitrary: fc.constantFrom("/ajax/blog/echo.json", "/ajax/blog/stats.json", "/ajax/blog/say_hi.json", "/ajax/blog/countdown.json",
    "/ajax/blog/upload.json", "/ajax/auth/login.json", "/ajax/auth/user.json", "/ajax/auth/logout.json", "/ajax/csrf.json", "/ajax/interface.js",
    "/ajax/client.js", "/ajax/openapi.json", "/ajax/docs", "/ajax", "/ajax/") },
  { weight: 3, arbitrary: fc.array(fc.oneof(nameSegment, pkSegment), { minLength: 0, maxLength: 7 }).chain((segments) =>
    fc.constantFrom(".json", "", ".js", ".JSON", "/", ".json/", ".json?x=1", ".json%00", ".json#frag").map((suffix) => `/ajax/${segments.join("/")}${suffix}`)) },
);
const mutatedPath = fc.tuple(routePath, fc.oneof({ weight: 20, arbitrary: fc.constant("none") },
  fc.constantFrom("double", "trailing", "dot", "encode", "query", "backslash", "upper")))
  .map(([path, mutation]) => {
    switch (mutation) {
      case "double": return path.replace(/\/(?=[^/]*$)/, "//");
      case "trailing": return `${path}/`;
      case "dot": return path.replace("/ajax/", "/ajax/./");
      case "encode": return `/ajax/${path.slice("/ajax/".length).replace(/[a-z]/, (c) => `%${c.charCodeAt(0).toString(16)}`)}`;
      case "query": return `${path}?filter[title]=x&__proto__[a]=1`;
      case "backslash": return path.replace(/\/(?=[^/]*$)/, "%5C");
      case "upper": return path.toUpperCase();
      default: return path;
    }
  })
  // Node refuses to send a path with spaces or characters past U+00FF; Latin-1 bytes go raw.
  .map((path) => path.replace(/[^\u0021-\u00ff]/gu, (c) => encodeURIComponent(c)));

type Who = "anonymous" | "session" | "bob" | "carol";
interface FuzzRequest { who: Who; csrf: "own" | "none" | "wrong" | "foreign"; req: RawRequest }

const fuzzRequest: fc.Arbitrary<FuzzRequest> = fc.record({
  who: fc.constantFrom<Who>("anonymous", "session", "bob", "bob", "carol"),
  csrf: fc.oneof({ weight: 12, arbitrary: fc.constant<FuzzRequest["csrf"]>("own") }, fc.constantFrom<FuzzRequest["csrf"]>("none", "wrong", "foreign")),
  method: fc.oneof({ weight: 20, arbitrary: fc.constant("POST") },
    fc.constantFrom("GET", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND", "SEARCH", "MKCOL", "LINK")),
  path: mutatedPath,
  content: bodyAndType,
  accept: fc.constantFrom(undefined, undefined, "application/json", "application/problem+json", "text/event-stream", "text/html", "*/*"),
  origin: fc.oneof({ weight: 12, arbitrary: fc.constant(undefined) }, fc.constantFrom("https://evil.example", "null", "http://127.0.0.1")),
  ifMatch: fc.constantFrom(undefined, undefined, undefined, '"1"', 'W/"2"', "*", "1e309", "x".repeat(300)),
}).map(({ who, csrf, method, path, content, accept, origin, ifMatch }) => {
  const headers: Record<string, string> = {};
  if (content.type !== undefined) headers["Content-Type"] = content.type;
  if (accept) headers.Accept = accept;
  if (origin) headers.Origin = origin;
  if (ifMatch) headers["If-Match"] = ifMatch;
  const hasBody = method !== "GET" && method !== "HEAD" && content.body !== undefined;
  return { who, csrf, req: { method, path, headers, body: hasBody ? content.body : undefined } };
});

describe("hardening: fuzzing the router and the example app", function () {
  this.timeout(10 * 60_000);
  let w: World;
  let callers: Record<Who, Caller>;
  let stranger: Caller;

  before(async () => {
    w = await startWorld({
      // Login limits are tested on their own; here they would soon lock the fuzzer's own callers out.
      ajax: { auth: { userEntity: User, loginLimit: { perIp: 1_000_000, perUsername: 1_000_000 } } },
    });
    const session = w.caller("session");
    await session.csrf();
    stranger = w.caller("stranger");
    await stranger.csrf();
    callers = { anonymous: w.caller("anonymous"), session, bob: w.bob, carol: w.carol };
  });
  after(async () => { await w?.close(); });

  async function restoreCallers(): Promise<void> {
    await callers.bob.login("bob");
    await callers.carol.login("carol");
    callers.session = w.caller("session");
    await callers.session.csrf();
    callers.anonymous = w.caller("anonymous");
  }

  it(`answers ${RUNS} generated requests with the JSON envelope, no 5xx, nothing it may not change changed, and stays up`, async () => {
    const protectedBefore = await protectedSnapshot(w.t.dataSource, [w.seed.bob, w.seed.carol]);
    const seed = fuzzSeed();
    let sent = 0;
    const statuses = new Map<number, number>();
    const started = Date.now();

    const exchange = async ({ who, csrf, req }: FuzzRequest): Promise<{ reply: Reply; req: RawRequest; who: Who }> => {
      const caller = callers[who];
      const headers = { ...req.headers };
      if (req.method === "POST" && who !== "anonymous") {
        if (csrf === "own" && caller.token) headers["X-CSRFToken"] = caller.token;
        if (csrf === "wrong") headers["X-CSRFToken"] = "wrong-token";
        if (csrf === "foreign") headers["X-CSRFToken"] = stranger.token!;
      }
      const sentReq = { ...req, headers };
      let reply: Reply;
      try {
        reply = await caller.raw(sentReq, { csrf: false });
      } catch (error) {
        throw new Error(`${error instanceof Error ? error.message : String(error)}: ${who} ${req.method} ${req.path.slice(0, 200)} ${JSON.stringify(headers)} body=${String(req.body ?? "").slice(0, 300)}`);
      }
      sent++;
      statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
      return { reply, req: sentReq, who };
    };

    const property = fc.asyncProperty(fc.array(fuzzRequest, { minLength: BATCH, maxLength: BATCH }), async (batch) => {
      const results = await Promise.all(batch.map(exchange));
      let authChanged = false;
      for (const { reply, req, who } of results) {
        const where = `${who} ${req.method} ${req.path.slice(0, 200)} ${JSON.stringify(req.headers)} body=${String(req.body ?? "").slice(0, 300)}`;
        if (req.path.startsWith("/ajax/auth/") && reply.status === 200) authChanged = true;
        // Outside the mount the demo's static files answer (HTML 404s are theirs); only a 5xx is wrong there.
        const problem = UNDER_MOUNT.test(req.path) ? envelopeProblem(reply, req) : reply.status >= 500 ? `status ${reply.status}` : null;
        if (problem) throw new Error(`${problem}: ${where} -> ${reply.status} ${reply.text.slice(0, 300)}`);
        for (const secret of w.secrets) {
          if (reply.text.includes(secret)) throw new Error(`leaked a hidden value: ${where}`);
        }
      }
      if (w.crashes.length > 0) throw new Error(`the router reported a crash: ${String(w.crashes[0])}`);
      if (authChanged) await restoreCallers();
    });
    const result = await fc.check(property, { numRuns: Math.ceil(RUNS / BATCH), seed, endOnFailure: true });
    if (result.failed) {
      // The counterexample holds 10,000-digit numbers: the error says what failed and how to replay it.
      const cause = result.errorInstance instanceof Error ? result.errorInstance.message : String(result.errorInstance);
      throw new Error(`fuzzing failed (FUZZ_SEED=${result.seed}, path ${result.counterexamplePath}): ${cause.slice(0, 3000)}`);
    }

    const seconds = (Date.now() - started) / 1000;
    // Still up: a fresh browser gets a token, logs in and reads.
    const fresh = w.caller("after");
    await fresh.login("bob");
    expect((await fresh.post("/ajax/blog/article/list.json")).status).to.equal(200);
    expect(await protectedSnapshot(w.t.dataSource, [w.seed.bob, w.seed.carol])).to.equal(protectedBefore);
    expect(w.crashes).to.deep.equal([]);
    expect(sent).to.be.at.least(RUNS);
    expect(statuses.get(500) ?? 0).to.equal(0);
    figures.fuzz = { requests: sent, seconds: Math.round(seconds), seed, statuses: Object.fromEntries([...statuses].sort(([a], [b]) => a - b)), fiveHundreds: 0 };
    console.log(`      fuzzed ${sent} requests in ${seconds.toFixed(0)} s (seed ${seed}); statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
    expect(registeredModels(w.t.ajax).length).to.be.above(0);
  });

  it("answers nearly valid writes (edge values that reach the database) with 200 or a clear 4xx, as JSON", async () => {
    const runs = Math.max(200, Math.ceil(RUNS / 10));
    const protectedBefore = await protectedSnapshot(w.t.dataSource, [w.seed.bob, w.seed.carol]);
    await restoreCallers();
    // Targets of their own: the first property may have deleted bob's seeded articles.
    const targets: number[] = [];
    for (const title of ["write target 1", "write target 2"]) {
      const created = await w.bob.post("/ajax/blog/article.json", { title, tags: "t" });
      expect(created.status, created.text).to.equal(200);
      targets.push(created.json.data.id);
    }
    const statuses = new Map<number, number>();
    const write = fc.record({
      target: fc.constantFrom("/ajax/blog/article.json", "/ajax/vault/article.json", "/ajax/blog/comment.json", "/ajax/blog/category.json",
        `/ajax/blog/article/${targets[0]}/update.json`, `/ajax/blog/article/${targets[1]}/update.json`, `/ajax/blog/article/${targets[1]}/tags/set.json`),
      body: nearlyValid,
      form: fc.boolean(),
    });
    const result = await fc.check(fc.asyncProperty(fc.array(write, { minLength: BATCH, maxLength: BATCH }), async (batch) => {
      await Promise.all(batch.map(async ({ target, body, form }) => {
        // The fields of the target, each nearly valid (an unknown field would make every write a 400).
        const keys = target.includes("/tags/") ? ["tags"] : target.includes("comment") ? ["article", "body"] : target.includes("category") ? ["title", "description"]
          : target.includes("/update") ? ["title", "body", "published", "category", "tags", "_version"] : ["title", "body", "published", "category", "tags"];
        const payload = Object.fromEntries(Object.entries(body).filter(([key]) => keys.includes(key)));
        const encoded = form ? formEncode(payload as Record<string, unknown>).join("&") : toJson(payload);
        const req: RawRequest = { method: "POST", path: target, headers: { "Content-Type": form ? "application/x-www-form-urlencoded" : "application/json" }, body: encoded };
        const reply = await w.bob.raw(req);
        statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
        const problem = envelopeProblem(reply, req);
        if (problem) throw new Error(`${problem}: ${target} ${encoded.slice(0, 300)} -> ${reply.status} ${reply.text.slice(0, 300)}`);
        if (![200, 400, 403, 404, 409].includes(reply.status)) throw new Error(`status ${reply.status}: ${target} ${encoded.slice(0, 300)}`);
      }));
      if (w.crashes.length > 0) throw new Error(`the router reported a crash: ${String(w.crashes[0])}`);
    }), { numRuns: Math.ceil(runs / BATCH), seed: fuzzSeed() + 1, endOnFailure: true });
    if (result.failed) {
      const cause = result.errorInstance instanceof Error ? result.errorInstance.message : String(result.errorInstance);
      throw new Error(`fuzzing writes failed (seed ${result.seed}, path ${result.counterexamplePath}): ${cause.slice(0, 3000)}`);
    }
    // Enough of them got through to the database to mean something.
    expect(statuses.get(200) ?? 0, JSON.stringify(Object.fromEntries(statuses))).to.be.above(runs / 25);
    expect(await protectedSnapshot(w.t.dataSource, [w.seed.bob, w.seed.carol])).to.equal(protectedBefore);
    figures.fuzzWrites = { requests: [...statuses.values()].reduce((a, b) => a + b, 0), statuses: Object.fromEntries([...statuses].sort(([a], [b]) => a - b)) };
  });
});
