import { expect } from "chai";
import { AjaxSession } from "../../src";
import type { TestApp } from "../support/app";
import { CookieClient, startTwoInstances, type TwoInstances } from "../support/http";
import { REDIS_URL, requireServices, suiteRedis } from "../support/services";

/** Two app instances with their sessions in one Redis: a login on one is a login on the other. */
describe("sessions shared through Redis by two app instances", () => {
  const secret = "one secret for every server";
  const { prefix, redis, clear } = suiteRedis();
  let instances: TwoInstances;
  let t: TestApp;
  let first: TwoInstances["first"];
  let second: TwoInstances["second"];

  before(async function () {
    await requireServices(this, ["redis"]);
    await redis.connect();
    instances = await startTwoInstances({ ajax: { session: { secret, redisUrl: REDIS_URL, redisPrefix: prefix } } });
    ({ t, first, second } = instances);
  });
  after(async () => {
    await instances?.close();
    await clear();
  });

  it("GET /ajax/health.json checks Redis too", async () => {
    const response = await fetch(`${first.url}/ajax/health.json`);
    expect(response.status).to.equal(200);
    expect(await response.json()).to.deep.equal({ success: true, data: { status: "ok", checks: { database: "ok", redis: "ok" } } });
  });

  it("logs in on one instance, works on the other, keeps nothing in the database, logs out everywhere", async () => {
    const browser = new CookieClient();
    await browser.login(first.url, "alice");
    const cookie = decodeURIComponent(browser.cookies.get("sessionid")!);
    const sessionId = cookie.slice(2, cookie.lastIndexOf("."));
    expect(await redis.exists(`${prefix}${sessionId}`)).to.equal(1);
    expect(await t.dataSource.getRepository(AjaxSession).count()).to.equal(0);

    const me = await browser.post(second.url, "/ajax/auth/user.json");
    expect([me.status, me.body.data]).to.deep.equal([200, { id: 1, username: "alice", isStaff: true }]);
    const created = await browser.post(second.url, "/ajax/blog/article.json", { title: "through Redis" });
    expect(created.status).to.equal(200);
    const updated = await browser.post(first.url, `/ajax/blog/article/${created.body.data.id}/update.json`, { title: "again", _version: 1 });
    expect([updated.status, updated.body.data.version]).to.deep.equal([200, 2]);

    expect((await browser.post(second.url, "/ajax/auth/logout.json")).status).to.equal(200);
    expect(await redis.exists(`${prefix}${sessionId}`)).to.equal(0);
    expect((await browser.post(first.url, "/ajax/auth/user.json")).status).to.equal(401);
  });
});
