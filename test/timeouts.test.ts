import { expect } from "chai";
import { defineApp, loginRequired } from "../src";
import blog from "../endpoints/blog";
import { loggedIn, startTestApp, type Client, type TestApp } from "./support/app";
import { testDatabaseKind } from "./support/databases";

const kind = testDatabaseKind();

/** An ad-hoc endpoint whose one statement sleeps: past the limit on purpose. */
function slowApp() {
  const sleep = kind === "postgres" ? "SELECT pg_sleep(3) AS slept" : "SELECT SLEEP(3) AS slept";
  const setting = kind === "postgres" ? "SELECT current_setting('statement_timeout') AS value" : "SELECT @@SESSION.max_statement_time AS value";
  return defineApp("slow")
    .endpoint("sleep", loginRequired(async (_req, ctx) => ctx.manager.query(sleep)))
    .endpoint("setting", loginRequired(async (_req, ctx) => String((await ctx.manager.query(setting))[0].value)));
}

describe(`statement time limits (now: ${kind})`, () => {
  if (kind === "sqlite") {
    // better-sqlite3 runs a statement to its end; there is nothing to set, and the option must not break it.
    it("SQLite takes the option and runs as before (no statement limit exists there)", async () => {
      const t = await startTestApp({ statementTimeoutMs: 300 });
      try {
        const alice = await loggedIn(t.app, "alice");
        expect((await alice.post("/ajax/blog/article/list.json")).status).to.equal(200);
      } finally {
        await t.close();
      }
    });
    return;
  }

  let t: TestApp;
  let alice: Client;

  before(async () => {
    t = await startTestApp({ statementTimeoutMs: 300, ajax: { apps: [blog, slowApp()] } });
    alice = await loggedIn(t.app, "alice");
  });
  after(() => t?.close());

  it("sets the limit on every pooled connection", async () => {
    const response = await alice.post("/ajax/slow/setting.json");
    expect(response.status).to.equal(200);
    expect(response.body.data).to.equal(kind === "postgres" ? "300ms" : "0.3");
  });

  it("stops a statement past the limit: a JSON 503 with Retry-After, soon, and the connections serve the next requests", async () => {
    const started = Date.now();
    const responses = await Promise.all(Array.from({ length: 3 }, () => alice.post("/ajax/slow/sleep.json")));
    expect(Date.now() - started).to.be.below(2500);
    for (const response of responses) {
      expect(response.status).to.equal(503);
      expect(response.headers["content-type"]).to.match(/^application\/json/);
      expect(response.headers["retry-after"]).to.equal("1");
      expect(response.body).to.deep.equal({ success: false, data: { code: 503, message: "The database took too long to answer; try again." } });
    }
    // More requests than the pool has connections: each one back in the pool, in a usable state.
    for (let i = 0; i < 12; i++) expect((await alice.post("/ajax/blog/article/list.json")).status).to.equal(200);
  });
});
