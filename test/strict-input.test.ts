import { expect } from "chai";
import { DataSource } from "typeorm";
import blog from "../endpoints/blog";
import { Article, User } from "../entities";
import { parseTrustProxy } from "../app";
import { dataSourceOptions, entities } from "../ormconfig";
import { AjaxSession, createAjax, purgeExpiredSessions, Tag, TaggedItem } from "../src";
import { Client, loggedIn, startTestApp, type TestApp } from "./support/app";
import { CookieClient, listen } from "./support/http";
import { createLabApp } from "./support/lab";

/** Issue 11: one order of checks, strict bodies, valid Unicode, keys in order, no session rows for visitors, headers. */
describe("strict input and one order of checks (CONTRACT.md §3)", () => {
  let t: TestApp;
  let alice: Client;
  let bob: Client;
  let published: number;
  let draft: number;

  before(async () => {
    t = await startTestApp({ ajax: { apps: [blog, createLabApp()] } });
    alice = await loggedIn(t.app, "alice");
    bob = await loggedIn(t.app, "bob");
    published = (await alice.post("/ajax/blog/article.json", { title: "alice's", published: true, tags: ["one"] })).body.data.id;
    draft = (await alice.post("/ajax/blog/article.json", { title: "alice's draft", published: false })).body.data.id;
  });
  after(() => t.close());

  const sessionRows = () => t.dataSource.getRepository(AjaxSession).count();

  it("refuses an unknown field on get, delete, declared ops and the auth ops, and deletes nothing on a misspelt _version", async () => {
    const unknownField = (response: { status: number; body: any }, field: string) => {
      expect(response.status, JSON.stringify(response.body)).to.equal(400);
      expect(response.body.errors).to.deep.equal({ [field]: ["Unknown field."] });
    };
    unknownField(await alice.post(`/ajax/blog/article/${published}/get.json`, { extra: 1 }), "extra");
    const mine = (await alice.post("/ajax/blog/article.json", { title: "to delete" })).body.data;
    unknownField(await alice.post(`/ajax/blog/article/${mine.id}/delete.json`, { _verison: mine.version }), "_verison");
    expect(await t.dataSource.getRepository(Article).countBy({ id: mine.id })).to.equal(1);
    const wrongPk = await alice.post(`/ajax/blog/article/${mine.id}/delete.json`, { pk: published });
    expect(wrongPk.status).to.equal(400);
    expect(wrongPk.body.errors).to.have.property("pk");
    expect((await alice.post(`/ajax/blog/article/${mine.id}/delete.json`, { pk: mine.id, _version: mine.version })).status).to.equal(200);
    unknownField(await alice.post("/ajax/auth/user.json", { x: 1 }), "x");
    unknownField(await new Client(t.app).post("/ajax/auth/login.json", { username: "alice", password: "alice-password", remember: true }), "remember");
    const other = await loggedIn(t.app, "bob");
    unknownField(await other.post("/ajax/auth/logout.json", { everywhere: true }), "everywhere");
    expect((await other.post("/ajax/auth/user.json")).status).to.equal(200);
  });

  it("checks permission before the body: the same 403 or 404 whatever a caller without permission sends", async () => {
    for (const body of [{}, { tags: "x" }, { tags: 7, junk: true }, { nonsense: "\u0000" }]) {
      expect((await bob.post(`/ajax/blog/article/${published}/tags/clear.json`, body)).status, JSON.stringify(body)).to.equal(403);
      expect((await bob.post(`/ajax/blog/article/${published}/tags/add.json`, body)).status).to.equal(403);
      expect((await bob.post(`/ajax/blog/article/${published}/update.json`, { ...body, _version: "zzz" })).status).to.equal(403);
      expect((await bob.post(`/ajax/blog/article/${published}/delete.json`, body)).status).to.equal(403);
      // A draft bob may not see is a 404, body or no body.
      for (const op of ["get", "update", "delete", "tags/add", "tags/similar"]) {
        expect((await bob.post(`/ajax/blog/article/${draft}/${op}.json`, body)).status, op).to.equal(404);
      }
    }
    const anonymous = new Client(t.app);
    expect((await anonymous.post(`/ajax/blog/article/${published}/tags/clear.json`, { tags: 1 })).status).to.equal(401);
    expect((await anonymous.post("/ajax/blog/article.json", { nonsense: 1 })).status).to.equal(401);
  });

  it("refuses a lone surrogate in any text with a 400 naming the field, on every database", async () => {
    const raw = async (path: string, json: string) => alice.agent.post(path).set("X-CSRFToken", alice.token!).type("json").send(json);
    const tags = await raw(`/ajax/blog/article/${published}/tags/add.json`, '{"tags": ["x\\ud800"]}');
    expect(tags.status).to.equal(400);
    expect(tags.body.errors).to.have.property("tags.0");
    const title = await raw("/ajax/blog/article.json", '{"title": "half \\udc00 a pair"}');
    expect(title.status).to.equal(400);
    expect(title.body.errors).to.deep.equal({ title: ["Text must be valid Unicode (no lone surrogates)."] });
    const key = await raw("/ajax/blog/article.json", '{"ti\\ud800tle": "x"}');
    expect(key.status).to.equal(400);
    // A pair is fine, and stored as sent.
    const pair = await raw("/ajax/blog/article.json", '{"title": "pair \\ud83d\\ude00"}');
    expect(pair.status).to.equal(200);
    expect(pair.body.data.title).to.equal("pair \u{1F600}");
    // Bytes that are not UTF-8 are refused, not turned into U+FFFD.
    const bytes = await alice.agent.post("/ajax/blog/article.json").set("X-CSRFToken", alice.token!).set("Content-Type", "application/json")
      .send(Buffer.concat([Buffer.from('{"title": "'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]));
    expect(bytes.status).to.equal(400);
    expect(await t.dataSource.getRepository(Article).countBy({ title: "half \ufffd a pair" })).to.equal(0);
  });

  it("keeps body keys in the order sent, in forms, JSON and multipart", async () => {
    const form = await alice.post("/ajax/lab/echo.json", "c=3&a=1&b[z]=1&b[y]=2", { type: "form" });
    expect(Object.keys(form.body.data)).to.deep.equal(["c", "a", "b"]);
    expect(Object.keys(form.body.data.b)).to.deep.equal(["z", "y"]);
    const json = await alice.post("/ajax/lab/echo.json", { zeta: 1, alpha: { y: 1, x: 2 }, mid: [1] });
    expect(Object.keys(json.body.data)).to.deep.equal(["zeta", "alpha", "mid"]);
    expect(Object.keys(json.body.data.alpha)).to.deep.equal(["y", "x"]);
    const multipart = await alice.agent.post("/ajax/lab/echo.json").set("X-CSRFToken", alice.token!).field("q", "1").field("b", "2").field("k", "3");
    expect(Object.keys(multipart.body.data)).to.deep.equal(["q", "b", "k"]);
  });

  it("gives anonymous visitors CSRF tokens without a session row: 1,000 csrf.json calls add none", async () => {
    const before = await sessionRows();
    for (let call = 0; call < 1000; call++) await new Client(t.app).csrf();
    expect(await sessionRows()).to.equal(before);
    // The anonymous token works, and still writes nothing.
    const visitor = new Client(t.app);
    expect((await visitor.post("/ajax/blog/say_hi.json", { name: "visitor" })).status).to.equal(200);
    expect(await sessionRows()).to.equal(before);
    // A token is worth nothing with another visitor's cookie.
    const other = new Client(t.app);
    await other.csrf();
    other.token = visitor.token;
    expect((await other.post("/ajax/blog/say_hi.json", { name: "x" })).status).to.equal(403);
    // Login makes the one row; logout removes it and makes none.
    await visitor.login("bob");
    expect(await sessionRows()).to.equal(before + 1);
    expect((await visitor.post("/ajax/auth/logout.json")).status).to.equal(200);
    expect(await sessionRows()).to.equal(before);
    expect((await visitor.post("/ajax/blog/say_hi.json", { name: "again" })).status).to.equal(200);
  });

  it("purges expired sessions", async () => {
    const sessions = t.dataSource.getRepository(AjaxSession);
    await sessions.insert([{ id: "expired-1", expiredAt: Date.now() - 1000, json: "{}" }, { id: "expired-2", expiredAt: 1, json: "{}" }]);
    const live = await sessions.count();
    expect(await purgeExpiredSessions(t.dataSource)).to.be.at.least(2);
    expect(await sessions.count()).to.equal(live - 2);
  });

  it("sends nosniff on every answer, a CSP that no other site can frame on the demo and docs pages", async () => {
    for (const response of [await alice.post(`/ajax/blog/article/${published}/get.json`), await alice.post("/ajax/nope/nope.json"), await alice.agent.get("/ajax/csrf.json")]) {
      expect(response.headers["x-content-type-options"]).to.equal("nosniff");
      expect(response.headers["content-security-policy"]).to.include("frame-ancestors 'none'");
    }
    for (const path of ["/", "/ajax/docs"]) {
      const page = await alice.agent.get(path).expect(200);
      expect(page.headers["content-security-policy"], path).to.include("frame-ancestors 'self'");
      expect(page.headers["content-security-policy"], path).to.include("script-src 'self'");
      expect(page.headers["x-frame-options"], path).to.equal("SAMEORIGIN");
      expect(page.headers["x-content-type-options"], path).to.equal("nosniff");
    }
  });

  it("compares the Origin's scheme, host and port with the server's own", async () => {
    const server = await listen(t.app);
    try {
      const browser = new CookieClient();
      const host = new URL(server.url).host;
      const withOrigin = async (origin: string) => (await browser.post(server.url, "/ajax/blog/say_hi.json", { name: "o" }, { Origin: origin })).status;
      expect(await withOrigin(`http://${host}`)).to.equal(200);
      expect(await withOrigin(`https://${host}`)).to.equal(403);
      expect(await withOrigin(`http://${host.split(":")[0]}:1`)).to.equal(403);
      expect(await withOrigin("http://localhost.evil.example")).to.equal(403);
      expect(await withOrigin("null")).to.equal(403);
    } finally {
      await server.close();
    }
  });
});

describe("proxies and the login limiter", () => {
  it("reads TRUST_PROXY: off by default, hop counts, lists", () => {
    expect(parseTrustProxy(undefined)).to.equal(false);
    expect(parseTrustProxy("")).to.equal(false);
    expect(parseTrustProxy("false")).to.equal(false);
    expect(parseTrustProxy("0")).to.equal(false);
    expect(parseTrustProxy("true")).to.equal(true);
    expect(parseTrustProxy("2")).to.equal(2);
    expect(parseTrustProxy("loopback, 10.0.0.0/8")).to.equal("loopback, 10.0.0.0/8");
  });

  it("does not let a varying X-Forwarded-For escape the limiter when no proxy is trusted", async () => {
    const t = await startTestApp({ trustProxy: "" });
    try {
      const statuses: number[] = [];
      for (let attempt = 0; attempt < 8; attempt++) {
        const client = new Client(t.app);
        statuses.push((await client.post("/ajax/auth/login.json", { username: "bob", password: "wrong" }, { headers: { "X-Forwarded-For": `203.0.113.${attempt}` } })).status);
      }
      expect(statuses.slice(0, 5)).to.deep.equal([401, 401, 401, 401, 401]);
      expect(statuses.slice(5)).to.deep.equal([429, 429, 429]);
    } finally {
      await t.close();
    }
  });
});

describe("createAjax() checks its entities at start-up", () => {
  async function attempt(withEntities: Function[]): Promise<string> {
    const t = await startTestApp();
    const dataSource = new DataSource({ ...dataSourceOptions(t.database.url), entities: withEntities } as never);
    await dataSource.initialize();
    try {
      createAjax({ dataSource, apps: [blog], auth: { userEntity: User }, session: { secret: "s" } });
      return "started";
    } catch (error) {
      return (error as Error).message;
    } finally {
      await dataSource.destroy();
      await t.close();
    }
  }

  it("names the session entity to add, in one line", async () => {
    const message = await attempt(entities.filter((entity) => entity !== AjaxSession));
    expect(message).to.match(/needs the AjaxSession entity: add AjaxSession \(exported by ajax-endpoints\)/);
    expect(message.split("\n")).to.have.length(1);
  });

  it("names the tag entities when an endpoint has tags", async () => {
    // TypeORM itself refuses TaggedItem without Tag, so the two go together.
    expect(await attempt(entities.filter((entity) => entity !== Tag && entity !== TaggedItem))).to.match(/Article's endpoint has tags, so the DataSource needs the Tag entity: add Tag/);
    expect(await attempt(entities)).to.equal("started");
  });
});
