import { expect } from "chai";
import { Article, Category } from "../entities";
import { loggedIn, startTestApp, type Client, type TestApp } from "./support/app";
import { testDatabaseKind } from "./support/databases";

/**
 * Concurrent requests lose nothing: a stale version is a 409, a duplicate a 409, and writes
 * to different rows all land. On SQLite the database gate serializes transactions on the one
 * connection; on PostgreSQL and MariaDB they really run at once, each on a pooled connection.
 */
describe(`concurrent writes (now: ${testDatabaseKind()})`, () => {
  let t: TestApp;
  let alice: Client;
  const statuses = (responses: Array<{ status: number }>) => responses.map((response) => response.status).sort();
  /** Sessions of one user, logged in one after another (the login limiter counts logins in flight). */
  const logins = async (username: string, count: number) => {
    const clients: Client[] = [];
    for (let index = 0; index < count; index++) clients.push(await loggedIn(t.app, username));
    return clients;
  };

  before(async () => {
    t = await startTestApp();
    alice = await loggedIn(t.app, "alice");
  });
  after(async () => t?.close());

  it("two clients updating one article with the version they read: exactly one 200, the other 409", async () => {
    const id = (await alice.post("/ajax/blog/article.json", { title: "v1" })).body.data.id;
    const [first, second] = [await loggedIn(t.app, "alice"), await loggedIn(t.app, "alice")];
    for (let round = 1; round <= 5; round++) {
      const { version } = (await first.post(`/ajax/blog/article/${id}/get.json`)).body.data;
      expect(version).to.equal(round);
      const responses = await Promise.all([
        first.post(`/ajax/blog/article/${id}/update.json`, { title: `first ${round}`, _version: version }),
        second.post(`/ajax/blog/article/${id}/update.json`, { title: `second ${round}` }, { headers: { "If-Match": `"${version}"` } }),
      ]);
      expect(statuses(responses), JSON.stringify(responses.map((response) => response.body))).to.deep.equal([200, 409]);
      const winner = responses.find((response) => response.status === 200)!;
      const loser = responses.find((response) => response.status === 409)!;
      expect(loser.body).to.deep.equal({
        success: false, data: { code: 409, message: "The record was changed by someone else; reload it and try again." },
      });
      const stored = await t.dataSource.getRepository(Article).findOneByOrFail({ id });
      expect([stored.title, stored.version]).to.deep.equal([winner.body.data.title, round + 1]);
    }
  });

  it("ten clients at once with the same version: one 200, nine 409, the version moves by one", async () => {
    const id = (await alice.post("/ajax/blog/article.json", { title: "contested" })).body.data.id;
    const clients = await logins("alice", 10);
    const responses = await Promise.all(clients.map((client, index) =>
      client.post(`/ajax/blog/article/${id}/update.json`, { title: `writer ${index}`, _version: 1 })));
    expect(statuses(responses)).to.deep.equal([200, ...Array(9).fill(409)]);
    const stored = await t.dataSource.getRepository(Article).findOneByOrFail({ id });
    expect(stored.version).to.equal(2);
    expect(stored.title).to.equal(responses.find((response) => response.status === 200)!.body.data.title);
  });

  it("a stale delete is a 409 and deletes nothing", async () => {
    const id = (await alice.post("/ajax/blog/article.json", { title: "keep me" })).body.data.id;
    await alice.post(`/ajax/blog/article/${id}/update.json`, { title: "kept", _version: 1 });
    const stale = await alice.post(`/ajax/blog/article/${id}/delete.json`, { pk: id, _version: 1 });
    expect(stale.status).to.equal(409);
    expect(await t.dataSource.getRepository(Article).countBy({ id })).to.equal(1);
  });

  it("a duplicate category title is a 409, sent one after another or five at once", async () => {
    const first = await alice.post("/ajax/blog/category.json", { title: "Unique" });
    expect(first.status).to.equal(200);
    const again = await alice.post("/ajax/blog/category.json", { title: "Unique" });
    expect(again.status).to.equal(409);
    expect(again.body).to.deep.equal({ success: false, data: { code: 409, message: "A record with these values already exists." } });
    const renamed = await alice.post("/ajax/blog/category.json", { title: "Other" });
    const clash = await alice.post(`/ajax/blog/category/${renamed.body.data.id}/update.json`, { title: "Unique" });
    expect(clash.status).to.equal(409);

    const clients = await logins("alice", 5);
    const responses = await Promise.all(clients.map((client) => client.post("/ajax/blog/category.json", { title: "Race" })));
    expect(statuses(responses), JSON.stringify(responses.map((response) => response.body))).to.deep.equal([200, 409, 409, 409, 409]);
    expect(await t.dataSource.getRepository(Category).countBy({ title: "Race" })).to.equal(1);
  });

  it("twenty creates at once all land, each with its own id and its tags", async () => {
    const clients = await logins("bob", 4);
    const responses = await Promise.all(Array.from({ length: 20 }, (_, index) =>
      clients[index % clients.length]!.post("/ajax/blog/article.json", { title: `parallel ${index}`, tags: ["shared", `own-${index}`] })));
    expect(statuses(responses), JSON.stringify(responses.find((response) => response.status !== 200)?.body)).to.deep.equal(Array(20).fill(200));
    const ids = new Set(responses.map((response) => response.body.data.id));
    expect(ids.size).to.equal(20);
    for (const [index, response] of responses.entries()) {
      expect(response.body.data.tags.map((tag: { name: string }) => tag.name)).to.deep.equal([`own-${index}`, "shared"]);
    }
    const listed = await clients[0]!.post("/ajax/blog/article/list.json", { filter: { tags: "shared" }, items_per_page: 50 });
    expect(listed.body.total).to.equal(20);
  });

  it("reads during writes see whole transactions: a record with its tags, never half of it", async () => {
    const bob = await loggedIn(t.app, "bob");
    const reader = await loggedIn(t.app, "bob");
    const writes = Array.from({ length: 10 }, (_, index) =>
      bob.post("/ajax/blog/article.json", { title: `whole ${index}`, tags: ["one", "two", "three"] }));
    const reads = Array.from({ length: 10 }, () => reader.post("/ajax/blog/article/list.json", { search: "whole", items_per_page: 50 }));
    const [written, read] = await Promise.all([Promise.all(writes), Promise.all(reads)]);
    expect(statuses(written)).to.deep.equal(Array(10).fill(200));
    for (const response of read) {
      expect(response.status).to.equal(200);
      for (const row of response.body.data) expect(row.tags.map((tag: { name: string }) => tag.name)).to.deep.equal(["one", "three", "two"]);
    }
  });
});
