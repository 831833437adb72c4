import { expect } from "chai";
import { DataSource } from "typeorm";
import { createBlogApp } from "../app";
import { dataSourceOptions } from "../ormconfig";
import { AjaxSession } from "../src";
import type { TestApp } from "./support/app";
import { testDatabaseKind } from "./support/databases";
import { CookieClient, listen, startTwoInstances, type TwoInstances } from "./support/http";

/**
 * Two app instances on one database, each with its own DataSource (as two servers would be):
 * a login on one is a login on the other, because sessions live in the shared database.
 */
describe(`sessions shared through the database by two app instances (now: ${testDatabaseKind()})`, () => {
  let instances: TwoInstances;
  let t: TestApp;
  let first: TwoInstances["first"];
  let second: TwoInstances["second"];

  before(async () => {
    instances = await startTwoInstances({ sessionSecret: "one secret for every server" });
    ({ t, first, second } = instances);
  });
  after(() => instances?.close());

  it("logs in on one instance, is logged in on the other, and logs out everywhere at once", async () => {
    const browser = new CookieClient();
    await browser.login(first.url, "bob");
    expect(await t.dataSource.getRepository(AjaxSession).count()).to.equal(1);
    const me = await browser.post(second.url, "/ajax/auth/user.json");
    expect([me.status, me.body.data]).to.deep.equal([200, { id: 2, username: "bob", isStaff: false }]);
    const created = await browser.post(second.url, "/ajax/blog/article.json", { title: "written on the second" });
    expect(created.status).to.equal(200);
    expect((await browser.post(first.url, `/ajax/blog/article/${created.body.data.id}/get.json`)).body.data.title).to.equal("written on the second");
    expect((await browser.post(second.url, "/ajax/auth/logout.json")).status).to.equal(200);
    expect((await browser.post(first.url, "/ajax/auth/user.json")).status).to.equal(401);
  });

  it("does not accept a session cookie signed with another secret", async () => {
    const stranger = new DataSource(dataSourceOptions(t.database.url));
    await stranger.initialize();
    const other = createBlogApp(stranger, { sessionSecret: "some other secret" });
    const third = await listen(other.app);
    try {
      const browser = new CookieClient();
      await browser.login(first.url, "bob");
      // The CSRF check fails first: its secret travels signed with the session secret too.
      const me = await browser.post(third.url, "/ajax/auth/user.json");
      expect([me.status, me.body.data.message]).to.deep.equal([403, "CSRF token missing or incorrect."]);
      await browser.csrf(third.url);
      expect((await browser.post(third.url, "/ajax/auth/user.json")).status).to.equal(401);
    } finally {
      await third.close();
      await other.ajax.close();
      await stranger.destroy();
    }
  });
});
