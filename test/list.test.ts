import { expect } from "chai";
import { Article, Category, User } from "../entities";
import { Client, loggedIn, startTestApp, type TestApp } from "./support/app";
import { testDatabaseKind } from "./support/databases";

describe("list: pagination, filters, ordering, search (CONTRACT.md §5)", () => {
  let t: TestApp;
  let alice: Client;
  let bob: Client;
  let ids: Record<string, number>;

  before(async () => {
    t = await startTestApp();
    alice = await loggedIn(t.app, "alice");
    bob = await loggedIn(t.app, "bob");
    const categories = t.dataSource.getRepository(Category);
    const tech = (await categories.insert({ title: "Tech" })).identifiers[0]!.id as number;
    const life = (await categories.insert({ title: "Life" })).identifiers[0]!.id as number;
    const articles = t.dataSource.getRepository(Article);
    const insert = async (title: string, author: number, published: boolean, category: number | null, createdAt: string, body = "") =>
      (await articles.insert({ title, body, published, author: { id: author } as User, category: category ? { id: category } as Category : null, createdAt: new Date(createdAt) })).identifiers[0]!.id as number;
    ids = {
      a1: await insert("Apples and pears", 1, true, tech, "2026-01-01T10:00:00Z", "fruit salad"),
      a2: await insert("Banana bread", 1, false, life, "2026-02-01T10:00:00Z", "baking"),
      b1: await insert("Cherry pie", 2, true, life, "2026-03-01T10:00:00Z", "more baking"),
      b2: await insert("Date night", 2, false, null, "2026-04-01T10:00:00Z", "Apples too"),
      a3: await insert("Elderberry 100%_off", 1, true, tech, "2026-05-01T10:00:00Z"),
      b3: await insert("fig", 2, true, null, "2026-06-01T10:00:00Z"),
    };
  });
  after(() => t.close());

  const titles = (response: { body: { data: Array<{ title: string }> } }) => response.body.data.map((a) => a.title);

  it("answers a page with total, current_page and items_per_page, newest first by default", async () => {
    const response = await alice.post("/ajax/blog/article/list.json");
    expect(response.body).to.include({ success: true, total: 6, current_page: 1, items_per_page: 20 });
    expect(titles(response)).to.deep.equal(["fig", "Elderberry 100%_off", "Date night", "Cherry pie", "Banana bread", "Apples and pears"]);
  });

  it("row scope: bob sees published articles and his own drafts, and total counts only those", async () => {
    const response = await bob.post("/ajax/blog/article/list.json", { order: "id" });
    expect(titles(response)).to.deep.equal(["Apples and pears", "Cherry pie", "Date night", "Elderberry 100%_off", "fig"]);
    expect(response.body.total).to.equal(5);
  });

  it("paginates; below 1 or past the end is an empty page; items_per_page is clamped to maxPerPage", async () => {
    const page2 = await alice.post("/ajax/blog/article/list.json", { order: "id", items_per_page: 4, current_page: 2 });
    expect(titles(page2)).to.deep.equal(["Elderberry 100%_off", "fig"]);
    expect(page2.body).to.include({ total: 6, current_page: 2, items_per_page: 4 });
    for (const page of [0, -1, 3]) {
      const response = await alice.post("/ajax/blog/article/list.json", { items_per_page: 4, current_page: page });
      expect(response.body.data).to.deep.equal([]);
      expect(response.body.total).to.equal(6);
    }
    const clamped = await alice.post("/ajax/blog/article/list.json", { items_per_page: 1000 });
    expect(clamped.body.items_per_page).to.equal(50);
    const form = await alice.post("/ajax/blog/article/list.json", "items_per_page=2&current_page=3&order=id", { type: "form" });
    expect(titles(form)).to.deep.equal(["Elderberry 100%_off", "fig"]);
  });

  it("orders by allowed fields, descending with '-', ties broken by pk", async () => {
    const response = await alice.post("/ajax/blog/article/list.json", { order: "-title" });
    expect(titles(response)[0]).to.equal("fig");
    const byCreated = await alice.post("/ajax/blog/article/list.json", { order: "createdAt" });
    expect(titles(byCreated)[0]).to.equal("Apples and pears");
  });

  it("filters with every operator", async () => {
    const cases: Array<[Record<string, unknown>, string[]]> = [
      [{ filter: { published: "true" } }, ["Apples and pears", "Cherry pie", "Elderberry 100%_off", "fig"]],
      [{ filter: { title: "fig" } }, ["fig"]],
      [{ filter: { title__ne: "fig", published: false } }, ["Banana bread", "Date night"]],
      [{ filter: { createdAt__gte: "2026-04-01T10:00:00Z" } }, ["Date night", "Elderberry 100%_off", "fig"]],
      [{ filter: { createdAt__lt: "2026-02-01T10:00:00Z" } }, ["Apples and pears"]],
      [{ filter: { createdAt__lte: "2026-02-01T10:00:00Z", createdAt__gt: "2026-01-01T10:00:00Z" } }, ["Banana bread"]],
      [{ filter: { category: 1 } }, ["Apples and pears", "Elderberry 100%_off"]],
      [{ filter: { category__isnull: true } }, ["Date night", "fig"]],
      [{ filter: { author__in: "2" } }, ["Cherry pie", "Date night", "fig"]],
      [{ filter: { author__in: [1] , published: "1" } }, ["Apples and pears", "Elderberry 100%_off"]],
      [{ filter: { title__contains: "an" } }, ["Apples and pears", "Banana bread"]],
      [{ filter: { title__contains: "Ban" } }, ["Banana bread"]],
      [{ filter: { title__contains: "AN" } }, []],
      [{ filter: { title__icontains: "AN" } }, ["Apples and pears", "Banana bread"]],
      [{ filter: { title__icontains: "100%_" } }, ["Elderberry 100%_off"]],
      [{ filter: { title__icontains: "%" } }, ["Elderberry 100%_off"]],
      [{ filter: { title__startswith: "F" } }, []],
      [{ filter: { title__startswith: "f" } }, ["fig"]],
    ];
    for (const [params, expected] of cases) {
      const response = await alice.post("/ajax/blog/article/list.json", { order: "id", ...params });
      expect(response.status, JSON.stringify(params)).to.equal(200);
      expect(titles(response), JSON.stringify(params)).to.deep.equal(expected);
      expect(response.body.total).to.equal(expected.length);
    }
  });

  it("reads filters from jQuery-style form names", async () => {
    const response = await alice.post("/ajax/blog/article/list.json", "filter[published]=true&filter[title__icontains]=e&order=-id", { type: "form" });
    expect(titles(response)).to.deep.equal(["Elderberry 100%_off", "Cherry pie", "Apples and pears"]);
  });

  it("searches title and body, every term must match somewhere, ignoring case", async () => {
    expect(titles(await alice.post("/ajax/blog/article/list.json", { search: "apples", order: "id" }))).to.deep.equal(["Apples and pears", "Date night"]);
    expect(titles(await alice.post("/ajax/blog/article/list.json", { search: "baking pie" }))).to.deep.equal(["Cherry pie"]);
  });

  it("searches words, the last one as a prefix (search-as-you-type), through the full-text index (docs/search.md)", async () => {
    const search = async (params: object) => titles(await alice.post("/ajax/blog/article/list.json", { order: "id", ...params }));
    expect(await search({ search: "bak" })).to.deep.equal(["Banana bread", "Cherry pie"]);
    expect(await search({ search: "bread bak" })).to.deep.equal(["Banana bread"]);
    // Only the last word is a prefix; a word inside another word is no match.
    expect(await search({ search: "bak pie" })).to.deep.equal([]);
    expect(await search({ search: "aking" })).to.deep.equal([]);
    // Punctuation splits words and is never syntax: these are the words "fruit" and "salad".
    expect(await search({ search: '"fruit" -salad*' })).to.deep.equal(["Apples and pears"]);
    expect(await search({ search: "fruit OR NEAR(x) AND baking" })).to.deep.equal([]);
    // A search without any word does not narrow the list.
    expect((await alice.post("/ajax/blog/article/list.json", { search: "%_*" })).body.total).to.equal(6);
  });

  it("orders by relevance only when searching", async () => {
    const articles = t.dataSource.getRepository(Article);
    const strong = (await articles.insert({ title: "Quince quince quince", body: "quince", published: true, author: { id: 1 } as User })).identifiers[0]!.id;
    const weak = (await articles.insert({ title: "Other", body: `one quince among ${"many words ".repeat(50)}`, published: true, author: { id: 1 } as User })).identifiers[0]!.id;
    const ranked = await alice.post("/ajax/blog/article/list.json", { search: "quince", order: "relevance" });
    expect(ranked.body.data.map((a: { id: number }) => a.id)).to.deep.equal([strong, weak]);
    const noSearch = await alice.post("/ajax/blog/article/list.json", { order: "relevance" });
    expect(noSearch.status).to.equal(400);
    expect(noSearch.body.errors).to.have.keys("order");
    await articles.delete([strong, weak]);
  });

  it("on SQLite, considers at most maxSearchMatches matches, those with the highest pks (no statement time limit there)", async function () {
    if (testDatabaseKind() !== "sqlite") {
      // PostgreSQL and MariaDB bound a search by their statement time limit instead: every match counts.
      expect((await alice.post("/ajax/blog/article/list.json", { search: "baking" })).body.total).to.equal(2);
      return;
    }
    const endpoint = t.ajax.registry.model("blog", "article")!;
    endpoint.maxSearchMatches = 1;
    try {
      const response = await alice.post("/ajax/blog/article/list.json", { search: "baking" });
      expect(response.body.total).to.equal(1);
      expect(titles(response)).to.deep.equal(["Cherry pie"]);
    } finally {
      endpoint.maxSearchMatches = 10_000;
    }
  });

  it("bounds a search: its length, number of words and word length are 400 past the limits", async () => {
    for (const search of ["x".repeat(501), "one two three four five six seven eight nine ten eleven", `${"a".repeat(999)}b`]) {
      const response = await alice.post("/ajax/blog/article/list.json", { search });
      expect(response.status, search.slice(0, 20)).to.equal(400);
      expect(response.body.errors).to.have.keys("search");
    }
    expect((await alice.post("/ajax/blog/article/list.json", { search: `${"a".repeat(64)} b` })).status).to.equal(200);
  });

  it("answers total: null without counting when asked for count=none", async () => {
    t.queries.reset();
    const response = await alice.post("/ajax/blog/article/list.json", { count: "none", items_per_page: 2, order: "id" });
    expect(response.body).to.include({ total: null, current_page: 1, items_per_page: 2 });
    expect(titles(response)).to.deep.equal(["Apples and pears", "Banana bread"]);
    expect(t.queries.queries.some((sql) => /COUNT\(/i.test(sql))).to.equal(false);
    expect((await alice.post("/ajax/blog/article/list.json", { count: "estimate" })).status).to.equal(400);
  });

  it("fails closed: unknown parameters, fields, operators, hidden fields and bad values are 400", async () => {
    const bad: Array<Record<string, unknown>> = [
      { nope: 1 },
      { order: "body" },
      { order: "-version" },
      { filter: { body: "x" } },
      { filter: { title__regex: "x" } },
      { filter: { published: "maybe" } },
      { filter: { createdAt__gt: "yesterday" } },
      { filter: { createdAt__gt: "2026-02-30T10:00:00Z" } },
      { filter: { createdAt__gt: "2026-02-01T24:00:00Z" } },
      { filter: { category: "abc" } },
      { filter: "title" },
      { filter: { title: { $ne: 1 } } },
      { current_page: "one" },
      { items_per_page: "1; DROP TABLE article" },
      { search: ["a"] },
    ];
    for (const params of bad) {
      const response = await alice.post("/ajax/blog/article/list.json", params);
      expect(response.status, JSON.stringify(params)).to.equal(400);
      expect(response.body.errors, JSON.stringify(params)).to.be.an("object");
    }
    const user = await alice.post("/ajax/blog/user/list.json", { filter: { passwordHash: "x" } });
    expect(user.status).to.equal(400);
    expect((await alice.post("/ajax/blog/user/list.json", { order: "email" })).status).to.equal(400);
    expect((await alice.post("/ajax/blog/category/list.json", { search: "x" })).status).to.equal(400);
  });

  it("treats SQL in values as data", async () => {
    const response = await alice.post("/ajax/blog/article/list.json", { filter: { title: "x' OR '1'='1" }, search: "'; DROP TABLE article; --" });
    expect(response.status).to.equal(200);
    expect(response.body.total).to.equal(0);
    expect(await t.dataSource.getRepository(Article).count()).to.equal(6);
  });

  it("costs a bounded number of queries: a page of 50 with authors and categories is not N+1", async () => {
    const articles = t.dataSource.getRepository(Article);
    const rows = Array.from({ length: 60 }, (_, i) => ({ title: `Bulk ${i}`, published: true, author: { id: 1 + (i % 2) } as User, category: { id: 1 + (i % 2) } as Category }));
    await articles.insert(rows);
    const measure = async (perPage: number) => {
      t.queries.reset();
      const response = await bob.post("/ajax/blog/article/list.json", { items_per_page: perPage });
      expect(response.body.data).to.have.length(perPage);
      return t.queries.count;
    };
    const small = await measure(5);
    const large = await measure(50);
    expect(large).to.equal(small);
    // count + page + one query per related endpoint (users, categories) + tags, plus the session and user lookups.
    expect(large).to.be.at.most(8);
  });
});
