import { expect } from "chai";
import { gzipSync } from "node:zlib";
import { Article, Category, User } from "../../entities";
import { Caller, envelopeProblem, protectedSnapshot, registeredModels, type RawRequest, type Reply } from "./support";
import { requireServices } from "../support/services";
import { hardeningDatabases, startWorld, type World } from "./world";

function expectEnvelope(reply: Reply, req: RawRequest, status?: number): void {
  const problem = envelopeProblem(reply, req);
  expect(problem, `${req.method} ${req.path.slice(0, 120)} -> ${reply.status} ${reply.text.slice(0, 300)}`).to.equal(null);
  if (status !== undefined) expect(reply.status, `${req.path.slice(0, 120)}: ${reply.text.slice(0, 300)}`).to.equal(status);
}

/** Keys named __proto__, constructor or prototype anywhere in a value. */
function forbiddenKeys(value: unknown, found: string[] = []): string[] {
  if (value !== null && typeof value === "object") {
    for (const key of Object.keys(value)) {
      if (key === "__proto__" || key === "constructor" || key === "prototype") found.push(key);
      forbiddenKeys((value as Record<string, unknown>)[key], found);
    }
    if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== Array.prototype) found.push("<prototype>");
  }
  return found;
}

/** POSTs and checks the envelope; answers the reply. */
async function call(who: Caller, path: string, body: object | string = {}, headers: Record<string, string> = {}): Promise<Reply> {
  const reply = await who.post(path, body, headers);
  expectEnvelope(reply, { method: "POST", path, headers });
  return reply;
}

function multipart(fields: Array<[string, string]>, boundary = "hardeningBoundary1234"): { body: string; type: string } {
  const parts = fields.map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
  return { body: `${parts.join("")}--${boundary}--\r\n`, type: `multipart/form-data; boundary=${boundary}` };
}

for (const kind of hardeningDatabases()) describe(`hardening: attacks (${kind})`, function () {
  this.timeout(60_000);
  let w: World;
  before(async function () {
    if (kind !== "sqlite") await requireServices(this, [kind]);
    w = await startWorld({ kind });
  });
  after(async () => { await w?.close(); });
  afterEach(() => {
    expect(w.crashes.map(String), "unhandled errors reported by the router").to.deep.equal([]);
  });

  describe("prototype pollution", () => {
    const payloads: Array<{ what: string; type: "json" | "form" | "multipart"; body: string | Array<[string, string]> }> = [
      { what: "JSON __proto__", type: "json", body: '{"__proto__": {"polluted": "yes", "isStaff": true}, "title": "p1"}' },
      { what: "JSON constructor.prototype", type: "json", body: '{"constructor": {"prototype": {"polluted": "yes"}}, "title": "p2"}' },
      { what: "JSON nested __proto__", type: "json", body: '{"filter": {"__proto__": {"polluted": "yes"}}, "a": [{"__proto__": {"polluted": 1}}]}' },
      { what: "form __proto__", type: "form", body: "__proto__[polluted]=yes&__proto__[isStaff]=true&title=p3" },
      { what: "form constructor", type: "form", body: "constructor[prototype][polluted]=yes&title=p4" },
      { what: "form nested", type: "form", body: "a[__proto__][polluted]=yes&a[constructor][prototype][polluted]=yes&filter[__proto__][polluted]=1" },
      { what: "form dotted", type: "form", body: "__proto__.polluted=yes&a.__proto__.polluted=yes&toString=x&hasOwnProperty=x&valueOf=1" },
      { what: "multipart __proto__", type: "multipart", body: [["__proto__[polluted]", "yes"], ["constructor[prototype][polluted]", "yes"], ["title", "p5"]] },
    ];
    const targets = ["/ajax/blog/echo.json", "/ajax/blog/article.json", "/ajax/blog/article/list.json", "/ajax/blog/category.json",
      "/ajax/auth/login.json", "/ajax/vault/account/list.json"];

    it("never reaches Object.prototype through JSON, form or multipart bodies, on any route", async () => {
      const before = await protectedSnapshot(w.t.dataSource, w.seed.bob);
      for (const payload of payloads) {
        for (const path of targets) {
          let reply: Reply;
          if (payload.type === "multipart") {
            const { body, type } = multipart(payload.body as Array<[string, string]>);
            reply = await w.bob.raw({ method: "POST", path, headers: { "Content-Type": type }, body });
          } else {
            reply = await w.bob.raw({
              method: "POST", path, body: payload.body as string,
              headers: { "Content-Type": payload.type === "json" ? "application/json" : "application/x-www-form-urlencoded" },
            });
          }
          expectEnvelope(reply, { method: "POST", path });
          expect(({} as Record<string, unknown>).polluted, `${payload.what} -> ${path}`).to.equal(undefined);
          expect(Object.prototype.hasOwnProperty.call(Object.prototype, "isStaff"), payload.what).to.equal(false);
          if (path === "/ajax/blog/echo.json") {
            expect(reply.status).to.equal(200);
            expect(forbiddenKeys(reply.json.data), payload.what).to.deep.equal([]);
          }
        }
      }
      // Bob did not become staff by any of it: categories are still closed to him.
      const category = await call(w.bob, "/ajax/blog/category.json", { title: "bob may not" });
      expect(category.status).to.equal(403);
      expect(await protectedSnapshot(w.t.dataSource, w.seed.bob)).to.equal(before);
    });

    it("refuses query-like names that name prototype members: filters, ordering, ops", async () => {
      // A forbidden key itself is dropped by the body parser (never reaching a prototype); what remains is checked.
      for (const raw of ['{"filter": {"__proto__": "x"}}', '{"filter": {"constructor": "x"}}', '{"order": "id", "__proto__": {"order": "x"}}']) {
        const req: RawRequest = { method: "POST", path: "/ajax/blog/article/list.json", headers: { "Content-Type": "application/json" }, body: raw };
        const reply = await w.bob.raw(req);
        expectEnvelope(reply, req);
        expect([200, 400]).to.include(reply.status);
      }
      const bodies: object[] = [
        { filter: { toString: "x" } }, { filter: { hasOwnProperty: "x" } },
        { filter: { "title__constructor": "x" } }, { filter: { "title____proto__": "x" } }, { filter: { "valueOf__eq": "1" } },
        { order: "__proto__" }, { order: "constructor" }, { order: "-toString" }, { order: "hasOwnProperty,title" },
        { toString: 1 }, { hasOwnProperty: 1 },
      ];
      for (const body of bodies) {
        const reply = await call(w.bob, "/ajax/blog/article/list.json", body);
        expect(reply.status, JSON.stringify(body)).to.equal(400);
      }
      for (const op of ["constructor", "__proto__", "toString", "hasOwnProperty", "__defineGetter__", "valueOf", "prototype"]) {
        for (const path of [`/ajax/blog/${op}.json`, `/ajax/blog/article/${op}.json`, `/ajax/blog/article/1/${op}.json`,
          `/ajax/blog/article/1/tags/${op}.json`, `/ajax/${op}/article/list.json`, `/ajax/auth/${op}.json`]) {
          expect((await call(w.bob, path)).status, path).to.equal(404);
        }
      }
    });
  });

  describe("mass assignment", () => {
    it("refuses server-set and read-only fields on create with a 400, writing nothing", async () => {
      const count = await w.t.dataSource.getRepository(Article).count();
      const attempts: object[] = [
        { title: "m", author: w.seed.alice }, { title: "m", id: 5000 }, { title: "m", version: 7 },
        { title: "m", createdAt: "2000-01-01T00:00:00Z" }, { title: "m", updatedAt: "2000-01-01T00:00:00Z" },
        { title: "m", author: { id: w.seed.alice } }, { title: "m", isStaff: true }, { title: "m", passwordHash: "x" },
      ];
      for (const body of attempts) {
        const reply = await call(w.bob, "/ajax/blog/article.json", body);
        expect(reply.status, JSON.stringify(body)).to.equal(400);
      }
      // A form post says the same.
      expect((await call(w.bob, "/ajax/blog/article.json", `title=m&author=${w.seed.alice}`)).status).to.equal(400);
      expect(await w.t.dataSource.getRepository(Article).count()).to.equal(count);
    });

    it("refuses a changed read-only field on update and accepts it unchanged", async () => {
      const pk = w.seed.bobs[1]!;
      const current = (await call(w.bob, `/ajax/blog/article/${pk}/get.json`)).json.data;
      for (const change of [{ author: w.seed.alice }, { id: pk + 1 }, { version: current.version + 5 }, { createdAt: "2001-01-01T00:00:00Z" }]) {
        const reply = await call(w.bob, `/ajax/blog/article/${pk}/update.json`, { ...change, _version: current.version });
        expect(reply.status, JSON.stringify(change)).to.equal(400);
      }
      const same = await call(w.bob, `/ajax/blog/article/${pk}/update.json`, { author: w.seed.bob, id: pk, _version: current.version, title: current.title });
      expect(same.status, same.text).to.equal(200);
      const row = await w.t.dataSource.getRepository(Article).findOne({ where: { id: pk }, relations: { author: true } });
      expect(row!.author.id).to.equal(w.seed.bob);
    });

    it("refuses every hidden field in create and update bodies of every registered model (as an unknown field)", async () => {
      const before = await protectedSnapshot(w.t.dataSource, w.seed.bob);
      let checked = 0;
      for (const { app, name, endpoint } of registeredModels(w.t.ajax)) {
        const hidden = endpoint.rules.all.filter((rule) => !rule.readable);
        for (const rule of hidden) {
          for (const who of [w.bob, w.alice]) {
            if (endpoint.ops.includes("create")) {
              const reply = await call(who, `/ajax/${app}/${name}.json`, { [rule.name]: "x" });
              expect(reply.status, `${app}.${name} create ${rule.name}`).to.equal(400);
              expect(reply.json.errors?.[rule.name], `${app}.${name} create ${rule.name}`).to.deep.equal(["Unknown field."]);
              checked++;
            }
            if (endpoint.ops.includes("update")) {
              const pk = app === "vault" || name === "article" ? w.seed.bobs[1] : w.seed.categories[0];
              const reply = await call(who, `/ajax/${app}/${name}/${pk}/update.json`, { [rule.name]: "x", _version: 1 });
              expect([400, 404], `${app}.${name} update ${rule.name}`).to.include(reply.status);
              checked++;
            }
          }
        }
      }
      expect(checked).to.be.above(0);
      expect(await protectedSnapshot(w.t.dataSource, w.seed.bob)).to.equal(before);
    });
  });

  describe("CSRF", () => {
    it("refuses missing, wrong, foreign-session and cross-site tokens with 403 on every kind of route, changing nothing", async () => {
      const before = await protectedSnapshot(w.t.dataSource, w.seed.bob);
      const stranger = w.caller("stranger");
      await stranger.csrf();
      const routes: Array<[string, object]> = [
        ["/ajax/blog/article.json", { title: "csrf" }],
        [`/ajax/blog/article/${w.seed.published[0]}/update.json`, { title: "csrf", _version: 1 }],
        [`/ajax/blog/article/${w.seed.published[0]}/delete.json`, {}],
        [`/ajax/blog/article/${w.seed.published[0]}/tags/clear.json`, {}],
        ["/ajax/blog/category.json", { title: "csrf" }],
        ["/ajax/auth/login.json", { username: "alice", password: "alice-password" }],
        ["/ajax/auth/logout.json", {}],
      ];
      const variants: Array<[string, Record<string, string>]> = [
        ["missing", {}],
        ["empty", { "X-CSRFToken": "" }],
        ["wrong", { "X-CSRFToken": "x".repeat(40) }],
        ["another session's", { "X-CSRFToken": stranger.token! }],
        ["cross-site Origin", { "X-CSRFToken": "<own>", Origin: "https://evil.example" }],
        ["null Origin", { "X-CSRFToken": "<own>", Origin: "null" }],
        ["look-alike Origin", { "X-CSRFToken": "<own>", Origin: `http://127.0.0.1.evil.example` }],
      ];
      for (const [path, body] of routes) {
        for (const [what, headers] of variants) {
          const resolved = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, v === "<own>" ? w.alice.token! : v]));
          const req: RawRequest = { method: "POST", path, headers: { "Content-Type": "application/json", ...resolved }, body: JSON.stringify(body) };
          const reply = await w.alice.raw(req, { csrf: false });
          expectEnvelope(reply, req, 403);
          expect(reply.json.data.message, `${what} ${path}`).to.equal("CSRF token missing or incorrect.");
        }
      }
      // A form field with another session's token is refused too.
      const form = await w.alice.raw({ method: "POST", path: "/ajax/blog/category.json", headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: `title=csrf&csrf_token=${encodeURIComponent(stranger.token!)}` }, { csrf: false });
      expect(form.status).to.equal(403);
      expect(await protectedSnapshot(w.t.dataSource, w.seed.bob)).to.equal(before);
      // Alice is still logged in: a refused logout did nothing.
      expect((await call(w.alice, "/ajax/auth/user.json")).status).to.equal(200);
    });
  });

  describe("sessions", () => {
    it("changes the session id at login; the pre-login id is not logged in (no fixation)", async () => {
      // An anonymous visitor has no session at all now (its CSRF secret is in a cookie); the
      // only session id an attacker can get is one of their own, from a login.
      const victim = w.caller("victim");
      await victim.csrf();
      expect(victim.cookies.get("sessionid")).to.equal(undefined);
      const planter = w.caller("planter");
      await planter.login("bob");
      const planted = planter.cookies.get("sessionid");
      expect(planted).to.be.a("string");
      victim.cookies.set("sessionid", planted!);
      // The page fetches a token for the session it now has, then logs in as alice.
      await victim.csrf();
      expect((await victim.post("/ajax/auth/login.json", { username: "alice", password: "alice-password" })).status).to.equal(200);
      const after = victim.cookies.get("sessionid");
      expect(after).to.be.a("string").and.not.equal(planted);
      const attacker = w.caller("attacker");
      attacker.cookies.set("sessionid", planted!);
      const user = await attacker.raw({ method: "POST", path: "/ajax/auth/user.json", headers: { "X-CSRFToken": victim.token! } }, { csrf: false });
      expect([401, 403]).to.include(user.status);
      expect(user.text).not.to.include("alice");
    });

    it("invalidates the session at logout: the old cookie replayed is logged out", async () => {
      const user = w.caller("leaving");
      await user.login("bob");
      const session = user.cookies.get("sessionid")!;
      const token = user.token!;
      expect((await call(user, "/ajax/auth/user.json")).status).to.equal(200);
      expect((await call(user, "/ajax/auth/logout.json")).status).to.equal(200);
      const replay = w.caller("replay");
      replay.cookies.set("sessionid", session);
      replay.cookies.set("csrftoken", encodeURIComponent(token));
      const reply = await replay.raw({ method: "POST", path: "/ajax/auth/user.json", headers: { "X-CSRFToken": token } }, { csrf: false });
      expect([401, 403]).to.include(reply.status);
      const write = await replay.raw({ method: "POST", path: "/ajax/blog/article.json", headers: { "X-CSRFToken": token, "Content-Type": "application/json" }, body: '{"title":"after logout"}' }, { csrf: false });
      expect([401, 403]).to.include(write.status);
      expect(await w.t.dataSource.getRepository(Article).countBy({ title: "after logout" })).to.equal(0);
    });

    it("ignores forged, tampered and oversized session cookies (a fresh anonymous session, never a 500)", async () => {
      const session = w.bob.cookies.get("sessionid")!;
      const forged = ["s%3Aabc.def", `${session.slice(0, -2)}xx`, "x".repeat(4000), "%", "s%3A" + "%00".repeat(10), ""];
      for (const value of forged) {
        const liar = w.caller("liar");
        liar.cookies.set("sessionid", value);
        const reply = await liar.raw({ method: "POST", path: "/ajax/auth/user.json", headers: { "X-CSRFToken": w.bob.token! } }, { csrf: false });
        expect([401, 403], value.slice(0, 20)).to.include(reply.status);
        expectEnvelope(reply, { method: "POST", path: "/ajax/auth/user.json" });
      }
    });
  });

  describe("login brute force", () => {
    it("answers 429 with Retry-After after 5 failures for one username, even to the right password", async () => {
      const guesser = w.caller("guesser");
      await guesser.csrf();
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) statuses.push((await guesser.post("/ajax/auth/login.json", { username: "carol", password: `guess-${i}` })).status);
      expect(statuses.slice(0, 5)).to.deep.equal([401, 401, 401, 401, 401]);
      expect(statuses.slice(5)).to.deep.equal([429, 429, 429]);
      const right = await call(guesser, "/ajax/auth/login.json", { username: "carol", password: "carol-password" });
      expect(right.status).to.equal(429);
      expect(Number(right.headers["retry-after"])).to.be.above(0);
      // Case and whitespace do not give the guesser a fresh budget.
      expect((await call(guesser, "/ajax/auth/login.json", { username: " CAROL ", password: "x" })).status).to.equal(429);
    });
  });

  describe("oversized bodies", () => {
    it("answers 413 to JSON, form, chunked and multipart bodies past the limits, writing nothing", async () => {
      const count = await w.t.dataSource.getRepository(Article).count();
      const big = "x".repeat(1024 * 1024 + 1);
      const cases: RawRequest[] = [
        { method: "POST", path: "/ajax/blog/article.json", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ title: "big", body: big }) },
        { method: "POST", path: "/ajax/blog/article.json", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: `title=big&body=${big}` },
        { method: "POST", path: "/ajax/blog/article.json", headers: { "Content-Type": "application/json", "Transfer-Encoding": "chunked" }, body: JSON.stringify({ title: "big", body: big }) },
        { method: "POST", path: "/ajax/blog/article.json", headers: { "Content-Type": multipart([]).type }, body: multipart([["title", "big"], ["body", big]]).body },
        { method: "POST", path: "/ajax/blog/article.json", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: Array.from({ length: 1500 }, (_, i) => `f${i}=1`).join("&") },
      ];
      for (const req of cases) {
        const reply = await w.bob.raw(req);
        expectEnvelope(reply, req, 413);
      }
      expect(await w.t.dataSource.getRepository(Article).count()).to.equal(count);
    });
  });

  describe("compressed bodies", () => {
    it("answers 413 to a gzip bomb, 400 to broken gzip and 415 to an unknown encoding, writing nothing", async () => {
      const count = await w.t.dataSource.getRepository(Article).count();
      const bomb = gzipSync(Buffer.from(`{"title": "bomb", "body": "${"0".repeat(20 * 1024 * 1024)}"}`));
      expect(bomb.length).to.be.below(100_000);
      const cases: Array<[RawRequest, number]> = [
        [{ method: "POST", path: "/ajax/blog/article.json", headers: { "Content-Type": "application/json", "Content-Encoding": "gzip" }, body: bomb }, 413],
        [{ method: "POST", path: "/ajax/blog/article.json", headers: { "Content-Type": "application/x-www-form-urlencoded", "Content-Encoding": "deflate" }, body: Buffer.from("not deflate at all") }, 400],
        [{ method: "POST", path: "/ajax/blog/article.json", headers: { "Content-Type": "application/json", "Content-Encoding": "gzip" }, body: bomb.subarray(0, 100) }, 400],
        [{ method: "POST", path: "/ajax/blog/article.json", headers: { "Content-Type": "application/json", "Content-Encoding": "xz" }, body: Buffer.from("{}") }, 415],
        [{ method: "POST", path: "/ajax/blog/article.json", headers: { "Content-Type": "multipart/form-data; boundary=x", "Content-Encoding": "gzip" }, body: bomb }, 400],
      ];
      for (const [req, status] of cases) {
        const reply = await w.bob.raw(req);
        expectEnvelope(reply, req);
        expect(reply.status, `${req.headers!["Content-Encoding"]} ${req.headers!["Content-Type"]}: ${reply.text.slice(0, 200)}`).to.be.oneOf(status === 400 ? [400, 415] : [status]);
      }
      const ok = await w.bob.raw({ method: "POST", path: "/ajax/blog/article.json", headers: { "Content-Type": "application/json", "Content-Encoding": "gzip" },
        body: gzipSync(Buffer.from('{"title": "gzipped"}')) });
      expect(ok.status, ok.text).to.equal(200);
      expect(await w.t.dataSource.getRepository(Article).count()).to.equal(count + 1);
    });
  });

  describe("SQL injection", () => {
    const injections = [
      "' OR '1'='1", "1' OR 1=1 --", "1; DROP TABLE \"user\"; --", "\") OR (\"1\"=\"1", "1 UNION SELECT passwordHash FROM user",
      "%", "_", "!", "\\", "%' --", "\u0000", "' || (SELECT passwordHash FROM \"user\" LIMIT 1) || '", "1)) OR ((1=1",
      "x".repeat(60_000), "%_".repeat(30_000), "ä%Ä_", "[a-z]*", "$1", ":pk", ":...hydratePks", "?",
    ];

    it("treats every injection in every filter, order and search parameter as data: a 400 or a plain answer, nothing more", async () => {
      const before = await protectedSnapshot(w.t.dataSource, w.seed.bob);
      const users = await w.t.dataSource.getRepository(User).count();
      let requests = 0;
      for (const { app, name, endpoint } of registeredModels(w.t.ajax)) {
        if (!endpoint.ops.includes("list")) continue;
        const path = `/ajax/${app}/${name}/list.json`;
        const visibleTotal = (await call(w.bob, path)).json.total as number;
        const filterNames = Array.isArray(endpoint.filterFields) ? endpoint.filterFields : Object.keys(endpoint.filterFields);
        const bodies: object[] = [];
        for (const injection of injections) {
          for (const field of filterNames) {
            for (const op of ["", "__eq", "__ne", "__lt", "__in", "__contains", "__icontains", "__startswith", "__isnull", "__all", "__any", "__none"]) {
              bodies.push({ filter: { [`${field}${op}`]: injection } });
            }
          }
          bodies.push({ order: injection }, { order: `title,${injection}` }, { order: `-${injection}` });
          bodies.push({ search: injection }, { current_page: injection }, { items_per_page: injection });
          bodies.push({ filter: { [injection]: "1" } }, { filter: { [`title__${injection}`]: "1" } });
        }
        for (const body of bodies) {
          requests++;
          const reply = await call(w.bob, path, body);
          expect([200, 400], `${path} ${JSON.stringify(body).slice(0, 200)}: ${reply.text.slice(0, 200)}`).to.include(reply.status);
          if (reply.status === 200) {
            // A filter only narrows what bob may see.
            expect(reply.json.total, JSON.stringify(body).slice(0, 200)).to.be.at.most(visibleTotal);
            expect(reply.text).not.to.include("scrypt$");
          }
        }
      }
      expect(requests).to.be.above(1000);
      expect(await w.t.dataSource.getRepository(User).count()).to.equal(users);
      expect(await protectedSnapshot(w.t.dataSource, w.seed.bob)).to.equal(before);
    });

    it("reads punctuation in a search as a word break, never as syntax, and matches LIKE wildcards literally in text filters", async () => {
      const weird = (await call(w.bob, "/ajax/blog/article.json", { title: "100% o'clock_x \\ !", published: true })).json.data.id;
      for (const search of ["100%", "o'clock_x", "\"clock\" 100*", "(clock) +100 -x"]) {
        const reply = await call(w.bob, "/ajax/blog/article/list.json", { search });
        expect(reply.json.data.map((a: { id: number }) => a.id), search).to.deep.equal([weird]);
      }
      const startsWith = await call(w.bob, "/ajax/blog/article/list.json", { filter: { title__startswith: "100%" } });
      expect(startsWith.json.total).to.equal(1);
      const none = await call(w.bob, "/ajax/blog/article/list.json", { filter: { title__icontains: "%%" } });
      expect(none.json.total).to.equal(0);
    });
  });

  describe("odd primary keys", () => {
    const pks = ["NaN", "1e309", "-0", "0x10", "-1", "1.0", "+1", "%201", "1%20", "Infinity", "0b1", "1_000", "0", "00000000000000001",
      "9007199254740993", "2147483648", "9".repeat(16), "1".repeat(10_000), "%00", "%2e%2e", "..", "%F0%9F%92%A9", "1%00", "true", "null"];

    it("answers 404 (never 500) to every odd pk on every record route of every model", async () => {
      for (const { app, name } of registeredModels(w.t.ajax)) {
        for (const pk of pks) {
          for (const op of ["get", "update", "delete", "tags/add", "tags/similar", "tags/clear"]) {
            const path = `/ajax/${app}/${name}/${pk}/${op}.json`;
            const reply = await call(w.alice, path, op === "tags/add" ? { tags: "x" } : {});
            expect([404, 400, 405], `${path.slice(0, 100)}: ${reply.text.slice(0, 200)}`).to.include(reply.status);
            expect(reply.status === 400 ? pk : "", path.slice(0, 100)).to.not.match(/^\d+$/);
          }
        }
      }
    });

    it("answers 400 (never 500) to odd pks as foreign keys, versions, filters and limits", async () => {
      const before = await protectedSnapshot(w.t.dataSource, w.seed.bob);
      const count = await w.t.dataSource.getRepository(Article).count();
      const values: unknown[] = ["NaN", "1e309", "-0", "0x10", "1".repeat(10_000), 2147483648, 9007199254740991, 9007199254740993, -2147483649,
        1e309, -1e309, 1.5, -0.0, "9007199254740991", "2147483648", "-9223372036854775809", 1e21, "1e21", [], {}, true, "", " "];
      for (const value of values) {
        const json = JSON.stringify({ title: "odd fk", category: value }).replace('"category":null', `"category":${typeof value === "number" && !Number.isFinite(value) ? (value > 0 ? "1e309" : "-1e309") : "null"}`);
        const create = await w.bob.raw({ method: "POST", path: "/ajax/blog/article.json", headers: { "Content-Type": "application/json" }, body: json });
        expectEnvelope(create, { method: "POST", path: "/ajax/blog/article.json" });
        if (value !== "") {
          expect(create.status, `category ${String(value).slice(0, 30)}: ${create.text.slice(0, 200)}`).to.equal(400);
        }
        const comment = await call(w.bob, "/ajax/blog/comment.json", { article: value, body: "odd" });
        expect(comment.status, `article ${String(value).slice(0, 30)}: ${comment.text.slice(0, 200)}`).to.equal(400);
        const update = await call(w.bob, `/ajax/blog/article/${w.seed.bobs[0]}/update.json`, { title: "odd", _version: value });
        expect([400, 409], `_version ${String(value).slice(0, 30)}`).to.include(update.status);
        const versioned = await call(w.bob, `/ajax/blog/article/${w.seed.bobs[0]}/delete.json`, {}, { "If-Match": JSON.stringify(String(value)).slice(0, 2000) });
        expect([400, 409], `If-Match ${String(value).slice(0, 30)}`).to.include(versioned.status);
        for (const field of ["id", "category", "author", "createdAt"]) {
          for (const op of ["", "__gt", "__in", "__lte"]) {
            const list = await call(w.bob, "/ajax/blog/article/list.json", { filter: { [`${field}${op}`]: value } });
            expect([200, 400], `filter ${field}${op} ${String(value).slice(0, 30)}`).to.include(list.status);
          }
        }
        const similar = await call(w.bob, `/ajax/blog/article/${w.seed.bobs[1]}/tags/similar.json`, { limit: value });
        expect([200, 400], `limit ${String(value).slice(0, 30)}`).to.include(similar.status);
        const page = await call(w.bob, "/ajax/blog/article/list.json", { current_page: value, items_per_page: value });
        expect([200, 400], `page ${String(value).slice(0, 30)}`).to.include(page.status);
      }
      // Only the deliberately valid values above ("" and " " as a null category) created anything.
      expect(await w.t.dataSource.getRepository(Article).count()).to.be.at.most(count + 2);
      expect(await w.t.dataSource.getRepository(Category).count()).to.equal(2);
      expect(await protectedSnapshot(w.t.dataSource, w.seed.bob)).to.equal(before);
    });
  });
});
