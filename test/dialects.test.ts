import { expect } from "chai";
import { loggedIn, startTestApp, type Client, type TestApp } from "./support/app";
import { testDatabaseKind } from "./support/databases";

/**
 * Values read back exactly as written, on SQLite, PostgreSQL and MariaDB alike: the expected
 * JSON below is one literal for all three, so the database matrix (`npm run test:databases`)
 * compares the databases with each other through the API.
 */
describe(`values read back the same on every database (now: ${testDatabaseKind()})`, () => {
  let t: TestApp;
  let alice: Client;
  const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
  // Astral characters (4 bytes in UTF-8, 2 UTF-16 units), combining marks, quotes, controls.
  const title = "Grüße aus Köln: 世界 🎉 «ÄPFEL» \"q\" \\ e\u0301";
  const body = `line 1\nline 2\ttab 𝄞 ${"é".repeat(70_000)}`;

  before(async () => {
    t = await startTestApp();
    alice = await loggedIn(t.app, "alice");
  });
  after(async () => t?.close());

  it("creates and reads back datetimes, booleans and Unicode text with the exact same JSON", async () => {
    const category = await alice.post("/ajax/blog/category.json", { title: "Café ☕", description: "naïve 𝄞" });
    expect(category.status, JSON.stringify(category.body)).to.equal(200);
    const created = await alice.post("/ajax/blog/article.json", {
      title, body, published: true, publishedAt: "2026-03-04T05:06:07.089+02:00", category: category.body.data.id,
    });
    expect(created.status, JSON.stringify(created.body).slice(0, 300)).to.equal(200);
    const read = await alice.post(`/ajax/blog/article/${created.body.data.id}/get.json`);
    for (const data of [created.body.data, read.body.data]) {
      const { createdAt, updatedAt, ...rest } = data;
      expect(rest).to.deep.equal({
        id: 1, title, body, published: true, publishedAt: "2026-03-04T03:06:07.089Z",
        category: { id: 1, title: "Café ☕", description: "naïve 𝄞" },
        author: { id: 1, username: "alice", isStaff: true }, version: 1, tags: [],
      });
      expect(createdAt).to.match(ISO_MS);
      expect(updatedAt).to.equal(createdAt);
      // The database's clock, read as UTC: a server session in another zone would be hours off.
      expect(Math.abs(Date.parse(createdAt) - Date.now()), `createdAt ${createdAt}`).to.be.below(60_000);
    }
  });

  it("keeps datetimes to the millisecond across the range, whatever offset they were sent with", async () => {
    const cases: Array<[string, string | null]> = [
      ["2026-11-21T10:00:00Z", "2026-11-21T10:00:00.000Z"],
      ["2026-11-21T10:00:00.123456Z", "2026-11-21T10:00:00.123Z"],
      ["2026-06-30T23:59:59.999-05:30", "2026-07-01T05:29:59.999Z"],
      ["1970-01-01T00:00:00.001Z", "1970-01-01T00:00:00.001Z"],
      ["1969-12-31T23:59:59.999Z", "1969-12-31T23:59:59.999Z"],
      ["2038-01-19T03:14:08.500Z", "2038-01-19T03:14:08.500Z"],
      ["1000-01-01T00:00:00.000Z", "1000-01-01T00:00:00.000Z"],
      ["9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999Z"],
      ["2026-02-03 04:05:06", "2026-02-03T04:05:06.000Z"],
      ["", null],
    ];
    for (const [sent, expected] of cases) {
      const created = await alice.post("/ajax/blog/article.json", { title: `at ${sent}`, publishedAt: sent });
      expect(created.status, `${sent}: ${JSON.stringify(created.body)}`).to.equal(200);
      const read = await alice.post(`/ajax/blog/article/${created.body.data.id}/get.json`);
      expect([created.body.data.publishedAt, read.body.data.publishedAt], sent).to.deep.equal([expected, expected]);
    }
  });

  it("filters on a datetime to the millisecond", async () => {
    const at = "2030-05-06T07:08:09.010Z";
    const id = (await alice.post("/ajax/blog/article.json", { title: "exact time", publishedAt: at })).body.data.id;
    const list = async (filter: object) =>
      (await alice.post("/ajax/blog/article/list.json", { filter })).body.data.map((row: { id: number }) => row.id);
    expect(await list({ title: "exact time" })).to.deep.equal([id]);
    // createdAt is a filter field; a value with an offset means the same instant.
    const created = (await alice.post(`/ajax/blog/article/${id}/get.json`)).body.data.createdAt as string;
    const plusTwo = new Date(Date.parse(created) + 2 * 3600_000).toISOString().replace("Z", "+02:00");
    expect(await list({ title: "exact time", createdAt__gte: plusTwo, createdAt__lte: created })).to.deep.equal([id]);
    const oneMsLater = new Date(Date.parse(created) + 1).toISOString();
    expect(await list({ title: "exact time", createdAt__gte: oneMsLater })).to.deep.equal([]);
  });

  it("updates booleans and nulls and moves updatedAt forward with milliseconds", async () => {
    const created = (await alice.post("/ajax/blog/article.json", { title: "flip", published: true, publishedAt: "2026-01-01T00:00:00.001Z" })).body.data;
    const updated = await alice.post(`/ajax/blog/article/${created.id}/update.json`, { published: false, publishedAt: null, _version: 1 });
    expect(updated.status, JSON.stringify(updated.body)).to.equal(200);
    const read = (await alice.post(`/ajax/blog/article/${created.id}/get.json`)).body.data;
    for (const data of [updated.body.data, read]) {
      expect([data.published, data.publishedAt, data.version]).to.deep.equal([false, null, 2]);
      expect(data.updatedAt).to.match(ISO_MS);
      // Whole-second CURRENT_TIMESTAMP would put it before createdAt most of the time.
      expect(data.updatedAt >= data.createdAt, `${data.updatedAt} < ${data.createdAt}`).to.equal(true);
    }
    const drafts = await alice.post("/ajax/blog/article/list.json", { filter: { published: "false", title: "flip" } });
    expect(drafts.body.data.map((row: { id: number }) => row.id)).to.deep.equal([created.id]);
  });

  it("compares text exactly: case matters to unique columns and equality filters", async () => {
    expect((await alice.post("/ajax/blog/category.json", { title: "News" })).status).to.equal(200);
    expect((await alice.post("/ajax/blog/category.json", { title: "news" })).status).to.equal(200);
    expect((await alice.post("/ajax/blog/category.json", { title: "NEWS " })).status).to.equal(200);
    expect((await alice.post("/ajax/blog/category.json", { title: "News" })).status).to.equal(409);
    const found = await alice.post("/ajax/blog/category/list.json", { filter: { title: "news" } });
    expect(found.body.data.map((row: { title: string }) => row.title)).to.deep.equal(["news"]);
  });

  it("searches Unicode words ignoring case and accents, and contains/startswith respect both", async () => {
    const titles = async (params: object) =>
      (await alice.post("/ajax/blog/article/list.json", { order: "id", ...params })).body.data.map((row: { title: string }) => row.title);
    expect(await titles({ search: "äpfel" })).to.deep.equal([title]);
    expect(await titles({ search: "KOLN apfel" })).to.deep.equal([title]);
    expect(await titles({ search: "aus kö" })).to.deep.equal([title]);
    // Words, not substrings: "pfel" starts no word.
    expect(await titles({ search: "pfel" })).to.deep.equal([]);
    expect(await titles({ search: "grüße KÖLN" })).to.deep.equal([title]);
    expect(await titles({ filter: { title__icontains: "KÖLN" } })).to.deep.equal([title]);
    expect(await titles({ filter: { title__contains: "ÄPFEL" } })).to.deep.equal([title]);
    expect(await titles({ filter: { title__contains: "äpfel" } })).to.deep.equal([]);
    expect(await titles({ filter: { title__startswith: "Grüße" } })).to.deep.equal([title]);
    expect(await titles({ filter: { title__startswith: "grüße" } })).to.deep.equal([]);
  });

  it("holds 200 astral characters in a 200-character column and refuses 201 with a 400", async () => {
    const full = "🎉".repeat(200);
    const created = await alice.post("/ajax/blog/article.json", { title: full });
    expect(created.status).to.equal(200);
    expect((await alice.post(`/ajax/blog/article/${created.body.data.id}/get.json`)).body.data.title).to.equal(full);
    const tooLong = await alice.post("/ajax/blog/article.json", { title: `${full}x` });
    expect(tooLong.status).to.equal(400);
    expect(tooLong.body.errors).to.have.keys("title");
  });

  it("numbers new rows from 1 up, without gaps when nothing failed", async () => {
    const first = (await alice.post("/ajax/blog/comment.json", { article: 1, body: "first" })).body.data.id;
    const second = (await alice.post("/ajax/blog/comment.json", { article: 1, body: "second" })).body.data.id;
    expect([first, second]).to.deep.equal([1, 2]);
  });
});
