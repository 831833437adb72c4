import { expect } from "chai";
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { generateClient } from "../src";
import { AJAXError, createClient, type AjaxClient, type ResponseCommand } from "./generated/blog-client";
import { startTestApp, type TestApp } from "./support/app";
import { CookieJar } from "./support/cookie-jar";

/** The package root: compiled tests run from `<outDir>/test/`. */
const ROOT = join(__dirname, "..", "..");
const GENERATED = join(ROOT, "test", "generated", "blog-client.ts");
/** The TypeScript compiler the project builds with. */
const TSC = join(dirname(require.resolve("typescript/package.json")), "bin", "tsc");

/** The error a call rejects with. */
async function failure(call: Promise<unknown>): Promise<AJAXError> {
  try {
    await call;
  } catch (error) {
    if (error instanceof AJAXError) return error;
    throw error;
  }
  throw new Error("the call succeeded");
}

describe("the generated TypeScript client (test/generated/blog-client.ts)", () => {
  let t: TestApp;
  let server: Server;
  let base: string;

  /** A client with its own cookie jar: one browser. */
  const browser = (options: { readsCookies?: boolean; onCommands?: (commands: ResponseCommand[]) => void } = {}): AjaxClient => {
    const jar = new CookieJar();
    return createClient({ baseUrl: base, fetch: jar.fetch, readCookie: options.readsCookies === false ? () => null : jar.get, onCommands: options.onCommands });
  };

  before(async () => {
    t = await startTestApp();
    server = t.app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ajax`;
  });
  after(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await t?.close();
  });

  it("is what the generator makes of the example app's document today (run `npm run client:generate` if not)", () => {
    expect(readFileSync(GENERATED, "utf8") === generateClient(t.ajax.openapi!), "test/generated/blog-client.ts is stale").to.equal(true);
  });

  it("is what the CLI writes from an app module (--app); bad arguments show the usage", function () {
    this.timeout(30_000);
    const folder = mkdtempSync(join(tmpdir(), "ajax-client-cli-"));
    try {
      const cli = join(__dirname, "..", "src", "cli.js");
      const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { cwd: ROOT, encoding: "utf8" });
      const fromApp = run("client", "--app", join(__dirname, "support", "blog-ajax.js"), "--out", join(folder, "app.ts"));
      expect(fromApp.status, fromApp.stderr).to.equal(0);
      expect(readFileSync(join(folder, "app.ts"), "utf8")).to.equal(readFileSync(GENERATED, "utf8"));
      const usage = run("client", "--out", join(folder, "none.ts"));
      expect(usage.status).to.equal(2);
      expect(usage.stderr).to.include("--app <module>");
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it("is what the CLI writes from a running server's document (--url)", async function () {
    this.timeout(30_000);
    const folder = mkdtempSync(join(tmpdir(), "ajax-client-cli-"));
    try {
      const cli = join(__dirname, "..", "src", "cli.js");
      const child = spawn(process.execPath, [cli, "client", "--url", `${base}/openapi.json`, "--out", join(folder, "url.ts")], { cwd: ROOT });
      let stderr = "";
      child.stderr.on("data", (chunk) => { stderr += chunk; });
      const code = await new Promise((resolve) => child.on("close", resolve));
      expect(code, stderr).to.equal(0);
      expect(readFileSync(join(folder, "url.ts"), "utf8")).to.equal(readFileSync(GENERATED, "utf8"));
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it("logs in, creates, reads, lists, updates, tags and deletes with typed calls", async () => {
    const alice = browser();
    expect(await alice.auth.login({ username: "alice", password: "alice-password" })).to.deep.equal({ id: 1, username: "alice", isStaff: true });
    expect((await alice.auth.user()).username).to.equal("alice");
    const news = await alice.blog.category.create({ title: "News" });
    const article = await alice.blog.article.create({ title: "Hello", body: "First", published: true, category: news.id, tags: ["python", "web"] });
    expect(article.tags?.map((tag) => tag.name)).to.deep.equal(["python", "web"]);
    expect(article.category).to.deep.equal({ id: news.id, title: "News", description: null });
    const fetched = await alice.blog.article.get(article.id);
    expect(fetched.title).to.equal("Hello");
    const page = await alice.blog.article.list({ filter: { title__icontains: "hel", tags__all: ["python"] }, order: "-createdAt", items_per_page: 5 });
    expect(page).to.deep.include({ total: 1, current_page: 1, items_per_page: 5 });
    expect(page.data.map((item) => item.id)).to.deep.equal([article.id]);
    const updated = await alice.blog.article.update(article.id, { title: "Hello, world", _version: article.version });
    expect(updated.version).to.equal(article.version + 1);
    expect((await alice.blog.article.tags.add(article.id, { tags: "django" })).map((tag) => tag.name)).to.deep.equal(["django", "python", "web"]);
    expect(await alice.blog.article.tags.similar(article.id)).to.deep.equal([]);
    expect(await alice.blog.article.delete(article.id, { _version: updated.version })).to.deep.equal({ pk: article.id });
    expect(await alice.blog.countdown({ from: 2, delayMs: 0 })).to.deep.equal([2, 1]);
    expect(await alice.auth.logout()).to.equal(null);
  });

  it("rejects with AJAXError carrying status, code, message and field errors", async () => {
    const bob = browser();
    await bob.auth.login({ username: "bob", password: "bob-password" });
    const invalid = await failure(bob.blog.article.create({ title: "Fine", published: "maybe" as never }));
    expect(invalid).to.include({ status: 400, code: 400, message: "Invalid input." });
    expect(invalid.errors).to.deep.equal({ published: ["Must be a valid boolean."] });
    expect(await failure(bob.blog.category.create({ title: "Bob's" }))).to.include({ status: 403, code: 403 });
    expect(await failure(bob.blog.article.get(987654))).to.include({ status: 404, message: "Not found." });
    const stranger = await failure(browser().blog.article.list());
    expect(stranger).to.include({ status: 401, name: "AJAXError" });
    expect(stranger).to.be.instanceOf(Error);
  });

  it("gets a token from csrf.json where it cannot read cookies, and renews it once when login rotates it", async () => {
    const crossOrigin = browser({ readsCookies: false });
    await crossOrigin.auth.login({ username: "alice", password: "alice-password" });
    expect((await crossOrigin.auth.user()).username).to.equal("alice");
  });

  it("hands response commands to onCommands", async () => {
    const seen: ResponseCommand[] = [];
    const page = browser({ onCommands: (commands) => { seen.push(...commands); } });
    expect(await page.blog.sayHi()).to.equal("hi");
    expect(seen).to.deep.equal([{ type: "alert", message: "Hi there!" }]);
  });

  it("makes a wrong field name a compile error (tsc --noEmit), and compiles right calls under strict + exactOptionalPropertyTypes", function () {
    this.timeout(60_000);
    const project = mkdtempSync(join(tmpdir(), "ajax-client-types-"));
    try {
      copyFileSync(GENERATED, join(project, "blog-client.ts"));
      writeFileSync(join(project, "right.ts"), [
        'import { createClient, type BlogArticle, type ListPage } from "./blog-client";',
        "export async function right(): Promise<number> {",
        "  const api = createClient();",
        '  const article: BlogArticle = await api.blog.article.create({ title: "T", tags: ["a"], category: null });',
        '  const page: ListPage<BlogArticle> = await api.blog.article.list({ filter: { title__icontains: "x", author__in: [1] }, order: "-createdAt" });',
        '  await api.blog.article.update(article.id, { title: "U", _version: article.version });',
        "  return (page.total ?? 0) + article.id;",
        "}",
        "",
      ].join("\n"));
      writeFileSync(join(project, "wrong.ts"), [
        'import { createClient } from "./blog-client";',
        "export async function wrong(): Promise<void> {",
        "  const api = createClient();",
        '  const article = await api.blog.article.create({ titel: "T" });',
        "  console.log(article.passwordHash);",
        '  await api.blog.article.list({ filter: { body__icontains: "x" } });',
        "}",
        "",
      ].join("\n"));
      writeFileSync(join(project, "tsconfig.json"), JSON.stringify({
        compilerOptions: {
          strict: true, exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true,
          target: "ES2023", module: "commonjs", lib: ["ES2023"], noEmit: true, skipLibCheck: true,
          types: ["node"], typeRoots: [join(dirname(require.resolve("@types/node/package.json")), "..")],
        },
        files: ["blog-client.ts", "right.ts", "wrong.ts"],
      }));
      const result = spawnSync(process.execPath, [TSC, "-p", "tsconfig.json", "--pretty", "false"], { cwd: project, encoding: "utf8" });
      const output = `${result.stdout}${result.stderr}`;
      expect(result.status, output).to.not.equal(0);
      const errors = output.split("\n").filter((line) => /error TS\d+/.test(line));
      expect(errors.every((line) => line.startsWith("wrong.ts(")), output).to.equal(true);
      expect(output).to.match(/wrong\.ts\(4,\d+\): error TS(2353|2561): .*'titel'/);
      expect(output).to.match(/wrong\.ts\(5,\d+\): error TS2339: .*'passwordHash'/);
      expect(output).to.match(/wrong\.ts\(6,\d+\): error TS2353: .*'body__icontains'/);
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });

  it("runs a batch (one transaction) and offers each model's change feed as subscribe(query, onChange)", async () => {
    const alice = browser();
    await alice.auth.login({ username: "alice", password: "alice-password" });
    const [category, article] = await alice.batch({ ops: [
      { op: "blog/category", body: { title: "Typed batch" } },
      { op: "blog/article", body: { title: "Typed", category: { $ref: "0.id" } } },
    ] }) as [{ id: number }, { category: { id: number } }];
    expect(article.category.id).to.equal(category.id);
    const refused = await failure(alice.batch({ ops: [{ op: "blog/say_hi" }, { op: "blog/nothing" }] }));
    expect([refused.status, refused.message]).to.deep.equal([404, "Not found."]);
    expect(alice.blog.article.subscribe).to.be.a("function");
    // Node 20 has no EventSource: the feed is for browsers (test/browser/live.test.ts runs it there).
    expect(() => alice.blog.article.subscribe({ filter: { published: true } }, () => {})).to.throw(AJAXError, /EventSource/);
  });
});
