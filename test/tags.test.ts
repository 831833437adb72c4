import { expect } from "chai";
import blog from "../endpoints/blog";
import { defineApp, ModelEndpoint, parseTagString, slugify, Tag, TaggedItem, tags } from "../src";
import { Article, User } from "../entities";
import { Client, loggedIn, startTestApp, type TestApp } from "./support/app";

describe("tag parsing (django-taggit semantics)", () => {
  it("parses taggit strings", () => {
    expect(parseTagString('"New York", boston, , "a,b"')).to.deep.equal(["New York", "a,b", "boston"]);
    expect(parseTagString("zeta alpha alpha")).to.deep.equal(["alpha", "zeta"]);
    expect(parseTagString("one, two three")).to.deep.equal(["one", "two three"]);
    expect(parseTagString('"one two" three')).to.deep.equal(["one two", "three"]);
    expect(parseTagString('"unclosed, quote')).to.deep.equal(["quote", "unclosed"]);
    expect(parseTagString("")).to.deep.equal([]);
    expect(parseTagString("  ,  ,")).to.deep.equal([]);
  });

  it("slugifies as Django does", () => {
    expect(slugify("New York")).to.equal("new-york");
    expect(slugify("Crème brûlée!")).to.equal("creme-brulee");
    // A name without ASCII letters gets a slug of its own, not "tag" shared by every such name.
    expect(slugify("日本")).to.match(/^tag-[0-9a-f]{12}$/);
    expect(slugify("日本")).not.to.equal(slugify("中国"));
  });
});

/** Articles with tags and nothing else: a delete removes the row (the blog's articles are soft-deleted). */
class PlainArticles extends ModelEndpoint<Article> {
  entity = Article;
  ownerField = "author";
  features = [tags()];
  canDelete(): boolean { return true; }
}
const plain = defineApp("plain").model("article", PlainArticles);

describe("tag ops (CONTRACT.md §7)", () => {
  let t: TestApp;
  let alice: Client;
  let bob: Client;
  let bobPost: number;
  let aliceDraft: number;

  before(async () => {
    t = await startTestApp({ ajax: { apps: [blog, plain] } });
    alice = await loggedIn(t.app, "alice");
    bob = await loggedIn(t.app, "bob");
    bobPost = (await bob.post("/ajax/blog/article.json", { title: "Bob", published: true })).body.data.id;
    aliceDraft = (await alice.post("/ajax/blog/article.json", { title: "Alice draft", tags: ["python", "django"] })).body.data.id;
  });
  after(() => t.close());

  const tagNames = (response: { body: { data: Array<{ name: string }> } }) => response.body.data.map((tag) => tag.name);

  it("add, remove, set and clear answer the record's tags sorted by name", async () => {
    const added = await bob.post(`/ajax/blog/article/${bobPost}/tags/add.json`, { tags: '"New York", boston, , "a,b"' });
    expect(added.body.data).to.deep.equal([
      { pk: 3, name: "New York", slug: "new-york" }, { pk: 4, name: "a,b", slug: "ab" }, { pk: 5, name: "boston", slug: "boston" },
    ].map((tag) => ({ ...tag, pk: added.body.data.find((x: Tag & { pk: number }) => x.name === tag.name).pk })));
    expect(tagNames(added)).to.deep.equal(["New York", "a,b", "boston"]);
    const removed = await bob.post(`/ajax/blog/article/${bobPost}/tags/remove.json`, { tags: ["boston", "never-existed"] });
    expect(tagNames(removed)).to.deep.equal(["New York", "a,b"]);
    const set = await bob.post(`/ajax/blog/article/${bobPost}/tags/set.json`, { tags: "zeta alpha alpha" });
    expect(tagNames(set)).to.deep.equal(["alpha", "zeta"]);
    const cleared = await bob.post(`/ajax/blog/article/${bobPost}/tags/clear.json`);
    expect(cleared.body.data).to.deep.equal([]);
  });

  it("makes slugs unique the taggit way", async () => {
    await bob.post(`/ajax/blog/article/${bobPost}/tags/set.json`, { tags: ["Big Apple", "big apple", "BIG-APPLE"] });
    const slugs = (await t.dataSource.getRepository(Tag).find({ order: { id: "ASC" } }))
      .filter((tag) => tag.name.toLowerCase().replace("-", " ") === "big apple").map((tag) => tag.slug).sort();
    expect(slugs).to.deep.equal(["big-apple", "big-apple_1", "big-apple_2"]);
  });

  it("refuses empty and over-long names, wrong types and unknown fields with 400, changing nothing", async () => {
    await bob.post(`/ajax/blog/article/${bobPost}/tags/set.json`, { tags: ["keep"] });
    for (const body of [{ tags: ["ok", " "] }, { tags: ["x".repeat(101)] }, { tags: 5 }, { tags: [1] }, {}, { tags: "a", extra: 1 }]) {
      const response = await bob.post(`/ajax/blog/article/${bobPost}/tags/add.json`, body);
      expect(response.status, JSON.stringify(body)).to.equal(400);
    }
    const now = await bob.post(`/ajax/blog/article/${bobPost}/get.json`);
    expect(now.body.data.tags.map((tag: Tag) => tag.name)).to.deep.equal(["keep"]);
  });

  it("needs canTag (bob cannot tag alice's article) and the row scope (a draft is a 404)", async () => {
    const alicePublished = (await alice.post("/ajax/blog/article.json", { title: "Alice public", published: true })).body.data.id;
    expect((await bob.post(`/ajax/blog/article/${alicePublished}/tags/add.json`, { tags: "mine" })).status).to.equal(403);
    expect((await bob.post(`/ajax/blog/article/${aliceDraft}/tags/add.json`, { tags: "mine" })).status).to.equal(404);
    expect((await bob.post(`/ajax/blog/article/${aliceDraft}/tags/similar.json`)).status).to.equal(404);
    expect((await alice.post(`/ajax/blog/article/${bobPost}/tags/add.json`, { tags: "staff-may" })).status).to.equal(200);
  });

  it("answers 404 to tag ops of a model without tags", async () => {
    const category = (await alice.post("/ajax/blog/category.json", { title: "Untaggable" })).body.data.id;
    expect((await alice.post(`/ajax/blog/category/${category}/tags/add.json`, { tags: "x" })).status).to.equal(404);
  });

  it("sets tags in create and update in the same transaction as the record", async () => {
    const created = await bob.post("/ajax/blog/article.json", { title: "Tagged", tags: "one two", published: true });
    expect(created.body.data.tags.map((tag: Tag) => tag.name)).to.deep.equal(["one", "two"]);
    const updated = await bob.post(`/ajax/blog/article/${created.body.data.id}/update.json`, { tags: ["two", "three"], _version: 1 });
    expect(updated.body.data.tags.map((tag: Tag) => tag.name)).to.deep.equal(["three", "two"]);
    const before = await t.dataSource.getRepository(Article).count();
    const failed = await bob.post("/ajax/blog/article.json", { title: "Bad tags", tags: ["", "x"] });
    expect(failed.status).to.equal(400);
    expect(await t.dataSource.getRepository(Article).count()).to.equal(before);
  });

  it("removes a deleted record's tag links, and keeps a soft-deleted one's for its restore", async () => {
    const created = (await bob.post("/ajax/plain/article.json", { title: "Short-lived", tags: "ephemeral" })).body.data.id;
    expect((await bob.post(`/ajax/plain/article/${created}/delete.json`)).status).to.equal(200);
    expect(await t.dataSource.getRepository(TaggedItem).countBy({ model: "article", objectId: created })).to.equal(0);
    const soft = (await bob.post("/ajax/blog/article.json", { title: "Comes back", tags: "phoenix" })).body.data.id;
    expect((await bob.post(`/ajax/blog/article/${soft}/delete.json`)).status).to.equal(200);
    expect(await t.dataSource.getRepository(TaggedItem).countBy({ model: "article", objectId: soft })).to.equal(1);
  });

  it("bounds tags: a name of at most 100 characters, at most 50 tags on a record (maxTags), a 400 past either, changing nothing", async () => {
    const id = (await bob.post("/ajax/blog/article.json", { title: "Many tags", published: true, tags: ["first"] })).body.data.id;
    const fifty = Array.from({ length: 50 }, (_, i) => `t${String(i).padStart(2, "0")}`);
    expect((await bob.post(`/ajax/blog/article/${id}/tags/set.json`, { tags: fifty })).status).to.equal(200);
    const past = await bob.post(`/ajax/blog/article/${id}/tags/add.json`, { tags: ["one-more"] });
    expect(past.status).to.equal(400);
    expect(past.body.errors).to.have.keys("tags");
    // Names it has already count once.
    expect((await bob.post(`/ajax/blog/article/${id}/tags/add.json`, { tags: ["t00", "t01"] })).status).to.equal(200);
    expect((await bob.post(`/ajax/blog/article/${id}/tags/set.json`, { tags: [...fifty, "x51"] })).status).to.equal(400);
    expect((await bob.post("/ajax/blog/article.json", { title: "Too many", tags: [...fifty, "x51"] })).status).to.equal(400);
    expect((await bob.post(`/ajax/blog/article/${id}/tags/add.json`, { tags: ["y".repeat(101)] })).status).to.equal(400);
    expect(await t.dataSource.getRepository(TaggedItem).countBy({ model: "article", objectId: id })).to.equal(50);
    expect(await t.dataSource.getRepository(Tag).countBy({ name: "one-more" })).to.equal(0);
    await bob.post(`/ajax/blog/article/${id}/tags/clear.json`);
  });

  it("removes tags that nothing uses any more, in the transaction that unlinked them (set, remove, clear, update, delete)", async () => {
    const tagNames = async () => (await t.dataSource.getRepository(Tag).find()).map((tag) => tag.name);
    const id = (await bob.post("/ajax/blog/article.json", { title: "Orphans", published: true, tags: ["orphan-a", "orphan-b", "shared-tag"] })).body.data.id;
    const other = (await bob.post("/ajax/blog/article.json", { title: "Keeps one", published: true, tags: ["shared-tag"] })).body.data.id;
    await bob.post(`/ajax/blog/article/${id}/tags/set.json`, { tags: ["orphan-a", "shared-tag", "orphan-c"] });
    expect(await tagNames()).not.to.include("orphan-b");
    await bob.post(`/ajax/blog/article/${id}/tags/remove.json`, { tags: ["orphan-a"] });
    expect(await tagNames()).not.to.include("orphan-a");
    await bob.post(`/ajax/blog/article/${id}/update.json`, { tags: ["shared-tag", "orphan-d"], _version: 1 });
    expect(await tagNames()).not.to.include("orphan-c");
    await bob.post(`/ajax/blog/article/${id}/tags/clear.json`);
    expect(await tagNames()).to.include("shared-tag");
    expect(await tagNames()).not.to.include("orphan-d");
    await bob.post(`/ajax/plain/article/${other}/delete.json`);
    expect(await tagNames()).not.to.include("shared-tag");
  });

  it("makes slugs unique through the unique index, without reading other tags' slugs", async () => {
    t.queries.reset();
    const response = await bob.post(`/ajax/blog/article/${bobPost}/tags/set.json`, { tags: ["日本", "中国", "Big-Apple!", "big apple"] });
    expect(response.status).to.equal(200);
    expect(t.queries.queries.some((sql) => /slug/i.test(sql) && /LIKE/i.test(sql))).to.equal(false);
    const slugs = response.body.data.map((tag: { slug: string }) => tag.slug);
    expect(new Set(slugs).size).to.equal(4);
    expect(slugs).to.include.members(["big-apple", "big-apple_1"]);
  });

  it("leaves no duplicate link when two requests add the same tag at once", async () => {
    const id = (await bob.post("/ajax/blog/article.json", { title: "Race", published: true })).body.data.id;
    const responses = await Promise.all([
      bob.post(`/ajax/blog/article/${id}/tags/add.json`, { tags: "race, brand-new" }),
      bob.post(`/ajax/blog/article/${id}/tags/add.json`, { tags: "race, brand-new" }),
      alice.post(`/ajax/blog/article/${id}/tags/add.json`, { tags: "race" }),
    ]);
    for (const response of responses) expect(response.status).to.equal(200);
    expect(await t.dataSource.getRepository(TaggedItem).countBy({ model: "article", objectId: id })).to.equal(2);
    expect(await t.dataSource.getRepository(Tag).countBy({ name: "brand-new" })).to.equal(1);
  });
});

describe("similar and tag filters", () => {
  let t: TestApp;
  let alice: Client;
  let bob: Client;
  const ids: Record<string, number> = {};

  before(async () => {
    t = await startTestApp();
    alice = await loggedIn(t.app, "alice");
    bob = await loggedIn(t.app, "bob");
    const make = async (client: Client, key: string, tags: string, published = true) => {
      ids[key] = (await client.post("/ajax/blog/article.json", { title: key, tags, published })).body.data.id;
    };
    await make(bob, "base", "a b c");
    await make(bob, "three", "a b c d");
    await make(bob, "two", "a b");
    await make(bob, "twoLater", "b c");
    await make(bob, "one", "c x");
    await make(bob, "none", "x y");
    await make(alice, "aliceDraft", "a b c", false);
    await make(bob, "bobDraft", "a", false);
  });
  after(() => t.close());

  const titles = (response: { body: { data: Array<{ title: string }> } }) => response.body.data.map((a) => a.title);

  it("orders by shared tags then pk, without the record itself, and never shows someone else's draft", async () => {
    const response = await bob.post(`/ajax/blog/article/${ids.base}/tags/similar.json`);
    expect(titles(response)).to.deep.equal(["three", "two", "twoLater", "one", "bobDraft"]);
    const staff = await alice.post(`/ajax/blog/article/${ids.base}/tags/similar.json`);
    expect(titles(staff)).to.deep.equal(["three", "aliceDraft", "two", "twoLater", "one", "bobDraft"]);
    const carolLike = await new Client(t.app).post(`/ajax/blog/article/${ids.base}/tags/similar.json`);
    expect(carolLike.status).to.equal(401);
  });

  it("clamps limit to 1..100 and refuses a non-number", async () => {
    expect(titles(await bob.post(`/ajax/blog/article/${ids.base}/tags/similar.json`, { limit: 2 }))).to.deep.equal(["three", "two"]);
    expect((await bob.post(`/ajax/blog/article/${ids.base}/tags/similar.json`, { limit: 1000 })).body.data).to.have.length(5);
    expect((await bob.post(`/ajax/blog/article/${ids.base}/tags/similar.json`, { limit: "many" })).status).to.equal(400);
  });

  it("filters lists by tag: has, all, any, none", async () => {
    const list = async (filter: Record<string, unknown>) =>
      titles(await bob.post("/ajax/blog/article/list.json", { filter, order: "id" }));
    expect(await list({ tags: "a" })).to.deep.equal(["base", "three", "two", "bobDraft"]);
    expect(await list({ tags__all: "a,b,c" })).to.deep.equal(["base", "three"]);
    expect(await list({ tags__any: ["d", "y"] })).to.deep.equal(["three", "none"]);
    expect(await list({ tags__none: "a, x" })).to.deep.equal(["twoLater"]);
    expect((await bob.post("/ajax/blog/article/list.json", { filter: { tags__regex: "a" } })).status).to.equal(400);
  });

  it("answers similar over 10,000 tagged records in a bounded number of queries", async function () {
    this.timeout(120_000);
    const articles = t.dataSource.getRepository(Article);
    const tags = await t.dataSource.getRepository(Tag).find();
    const tagA = tags.find((tag) => tag.name === "a")!;
    const tagB = tags.find((tag) => tag.name === "b")!;
    for (let start = 0; start < 10_000; start += 500) {
      const rows = Array.from({ length: 500 }, (_, i) => ({ title: `bulk ${start + i}`, published: true, author: { id: 2 } as User }));
      const result = await articles.insert(rows);
      const links = result.identifiers.flatMap(({ id }, i) => [{ tagId: tagA.id, model: "article", objectId: id }]
        .concat((start + i) % 2 === 0 ? [{ tagId: tagB.id, model: "article", objectId: id }] : []));
      await t.dataSource.createQueryBuilder().insert().into(TaggedItem).values(links).execute();
    }
    // As autovacuum (PostgreSQL) and persistent statistics (MariaDB) do after a bulk load.
    if (t.database.kind === "postgres") await t.dataSource.query("ANALYZE");
    if (t.database.kind === "mariadb") await t.dataSource.query("ANALYZE TABLE article, ajax_tagged_item");
    t.queries.reset();
    const response = await bob.post(`/ajax/blog/article/${ids.base}/tags/similar.json`, { limit: 100 });
    expect(response.body.data).to.have.length(100);
    // session + user + the record + similar (one grouped query) + authors + categories + tags of the page.
    expect(t.queries.count).to.be.at.most(8);
    expect(t.queries.queries.filter((q) => /COUNT\(\*\)/i.test(q) && /GROUP BY/i.test(q))).to.have.length(1);
  });
});
