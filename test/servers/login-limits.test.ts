import { expect } from "chai";
import { CookieClient, startTwoInstances, type TwoInstances } from "../support/http";
import { REDIS_URL, requireServices, suiteRedis } from "../support/services";

/** Issue 11: with Redis configured, failed logins are counted once for every process. */
describe("login limits shared through Redis by two app instances", () => {
  const { prefix, redis, clear } = suiteRedis();
  let instances: TwoInstances;

  before(async function () {
    await requireServices(this, ["redis"]);
    await redis.connect();
    instances = await startTwoInstances({ ajax: { session: { secret: "shared limits", redisUrl: REDIS_URL, redisPrefix: prefix } } });
  });
  after(async () => {
    await instances?.close();
    await clear();
  });

  it("answers 429 after five failures for one username, whichever server each one reached", async () => {
    const { first, second } = instances;
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 7; attempt++) {
      const server = attempt % 2 === 0 ? first : second;
      statuses.push((await new CookieClient().post(server.url, "/ajax/auth/login.json", { username: "bob", password: "wrong" })).status);
    }
    expect(statuses).to.deep.equal([401, 401, 401, 401, 401, 429, 429]);
    const retry = await new CookieClient().post(second.url, "/ajax/auth/login.json", { username: "bob", password: "bob-password" });
    expect(retry.status, "the right password too, until the window ends").to.equal(429);
    expect(Number(retry.headers.get("retry-after"))).to.be.above(0);
    expect((await redis.keys(`${prefix}login:*`)).length, "the counters live in Redis, under the sessions' prefix").to.be.above(0);
  });
});
