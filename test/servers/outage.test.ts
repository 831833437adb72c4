import { expect } from "chai";
import { DataSource } from "typeorm";
import { createBlogApp, seedDemoUsers } from "../../app";
import { dataSourceOptions } from "../../ormconfig";
import type { Ajax } from "../../src";
import { createTestDatabase, type TestDatabase } from "../support/databases";
import { CookieClient, listen } from "../support/http";
import { requireServices } from "../support/services";
import { TcpProxy } from "../support/tcp-proxy";

const UNAVAILABLE = { success: false, data: { code: 503, message: "The service is temporarily unavailable." } };
/** A request while the database is away must end within this, not hang. */
const ANSWER_WITHIN_MS = 8000;

for (const kind of ["postgres", "mariadb"] as const) {
  describe(`the database goes away and comes back (${kind}, through a TCP proxy)`, function () {
    this.timeout(60_000);
    let database: TestDatabase;
    let proxy: TcpProxy;
    let dataSource: DataSource;
    let ajax: Ajax;
    let server: { url: string; close(): Promise<void> };
    const alice = new CookieClient();
    let articleId: number;

    before(async function () {
      await requireServices(this, [kind]);
      database = await createTestDatabase(kind);
      const direct = new URL(database.url.replace(/^\w+:/, "http:"));
      proxy = await new TcpProxy(direct.hostname, Number(direct.port)).start();
      const proxied = new URL(database.url.replace(/^\w+:/, "http:"));
      proxied.port = String(proxy.port);
      const url = proxied.toString().replace(/^http:/, database.url.slice(0, database.url.indexOf(":") + 1));
      dataSource = new DataSource(dataSourceOptions(url));
      await dataSource.initialize();
      await dataSource.runMigrations({ transaction: "each" });
      await seedDemoUsers(dataSource);
      const blog = createBlogApp(dataSource);
      ajax = blog.ajax;
      server = await listen(blog.app);
      await alice.login(server.url, "alice");
      const created = await alice.post(server.url, "/ajax/blog/article.json", { title: "survives", published: true });
      expect(created.status).to.equal(200);
      articleId = created.body.data.id;
    });

    after(async () => {
      await server?.close();
      await ajax?.close();
      await proxy?.stop();
      if (dataSource?.isInitialized) await dataSource.destroy().catch(() => {});
      await database?.drop();
    });

    it("answers every request with a JSON 503 and Retry-After while it is away, quickly", async () => {
      const anonymous = new CookieClient();
      await anonymous.csrf(server.url);
      await proxy.cut();
      for (const [client, path] of [[alice, `/ajax/blog/article/${articleId}/get.json`], [anonymous, "/ajax/auth/login.json"],
        [alice, `/ajax/blog/article/${articleId}/update.json`]] as const) {
        const started = Date.now();
        const body = path.endsWith("update.json") ? { title: "lost?" } : path.endsWith("login.json") ? { username: "bob", password: "bob-password" } : {};
        const response = await client.post(server.url, path, body);
        expect(Date.now() - started, path).to.be.below(ANSWER_WITHIN_MS);
        expect(response.status, `${path}: ${JSON.stringify(response.body)}`).to.equal(503);
        expect(response.body).to.deep.equal(UNAVAILABLE);
        expect(response.headers.get("content-type")).to.match(/^application\/json/);
        expect(response.headers.get("retry-after")).to.equal("1");
      }
      // An anonymous visitor's token lives in a signed cookie: it needs no database, and neither
      // does an answer that needs no data (an anonymous list is a 401 at once).
      expect((await fetch(`${server.url}/ajax/csrf.json`)).status).to.equal(200);
      expect((await anonymous.post(server.url, "/ajax/blog/article/list.json")).status).to.equal(401);
      // The process is alive and serves what needs no database.
      expect((await fetch(`${server.url}/ajax/client.js`)).status).to.equal(200);
    });

    it("recovers by itself when the database is back: the session and the data are still there", async () => {
      await proxy.restore();
      const deadline = Date.now() + 20_000;
      let response = await alice.post(server.url, `/ajax/blog/article/${articleId}/get.json`);
      while (response.status !== 200 && Date.now() < deadline) {
        expect(response.status, JSON.stringify(response.body)).to.equal(503);
        await new Promise((resolve) => setTimeout(resolve, 250));
        response = await alice.post(server.url, `/ajax/blog/article/${articleId}/get.json`);
      }
      expect(response.status).to.equal(200);
      expect([response.body.data.title, response.body.data.version]).to.deep.equal(["survives", 1]);
      const updated = await alice.post(server.url, `/ajax/blog/article/${articleId}/update.json`, { title: "updated after the outage", _version: 1 });
      expect(updated.status, JSON.stringify(updated.body)).to.equal(200);
      expect(updated.body.data.version).to.equal(2);
    });
  });
}
