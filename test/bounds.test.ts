import { expect } from "chai";
import { defineApp } from "../src";
import blog, { CategoryEndpoint } from "../endpoints/blog";
import { loggedIn, startTestApp, type Client, type TestApp } from "./support/app";
import { testDatabaseKind } from "./support/databases";

/**
 * Issue #12's attack: drafts whose body was 1 MB of "a", then a search for 999 "a"s and a "b",
 * froze the process for seconds (a LIKE over every body). Text is bounded now, and a search
 * reads the full-text index, not the bodies.
 */
describe(`every request's cost is bounded: text limits and the search attack (now: ${testDatabaseKind()})`, () => {
  let t: TestApp;
  let alice: Client;
  let bob: Client;

  before(async () => {
    t = await startTestApp();
    alice = await loggedIn(t.app, "alice");
    bob = await loggedIn(t.app, "bob");
  });
  after(() => t?.close());

  it("refuses a 1 MB body with a 400 naming the field, and takes 100,000 characters", async () => {
    const huge = await bob.post("/ajax/blog/article.json", { title: "attack", body: "a".repeat(1_000_000) }, { headers: {} });
    // The body parser's limit (1 MiB) or the field's: a 4xx either way, never stored.
    expect([400, 413]).to.include(huge.status);
    const past = await bob.post("/ajax/blog/article.json", { title: "attack", body: "a".repeat(100_001) });
    expect(past.status).to.equal(400);
    expect(past.body.errors.body[0]).to.match(/no more than 100000 characters/);
    const full = await bob.post("/ajax/blog/article.json", { title: "long", body: "a".repeat(100_000) });
    expect(full.status).to.equal(200);
    const update = await bob.post(`/ajax/blog/article/${full.body.data.id}/update.json`, { body: "b".repeat(100_001), _version: 1 });
    expect(update.status).to.equal(400);
    expect(update.body.errors).to.have.keys("body");
  });

  it("bounds every text column without a declared length (maxTextLength): comments and category descriptions too", async () => {
    const article = (await bob.post("/ajax/blog/article.json", { title: "host", published: true })).body.data.id;
    const comment = await bob.post("/ajax/blog/comment.json", { article, body: "c".repeat(100_001) });
    expect(comment.status).to.equal(400);
    expect(comment.body.errors).to.have.keys("body");
    const category = await alice.post("/ajax/blog/category.json", { title: "Long", description: "d".repeat(100_001) });
    expect(category.status).to.equal(400);
    expect(category.body.errors).to.have.keys("description");
  });

  it("refuses the attack's search (a 999-character word) with a 400", async () => {
    const response = await bob.post("/ajax/blog/article/list.json", { search: `${"a".repeat(999)} b` });
    expect(response.status).to.equal(400);
    expect(response.body.errors).to.have.keys("search");
  });

  it("searches long bodies through the full-text index: no statement reads a body with LIKE or instr", async () => {
    for (let i = 0; i < 3; i++) {
      expect((await bob.post("/ajax/blog/article.json", { title: `draft ${i}`, body: `${"aaaa ".repeat(19_000)}needle` })).status).to.equal(200);
    }
    t.queries.reset();
    const response = await bob.post("/ajax/blog/article/list.json", { search: "aaaa needle", order: "relevance" });
    expect(response.status).to.equal(200);
    expect(response.body.total).to.equal(3);
    const listing = t.queries.queries.filter((sql) => /FROM\s+["`]article["`]/.test(sql));
    expect(listing).to.have.length(2); // the count and the page
    const marker = { sqlite: /\bMATCH\b/, postgres: /@@ to_tsquery/, mariadb: /MATCH \(.*\) AGAINST/ }[testDatabaseKind()];
    for (const sql of listing) {
      expect(sql).to.match(marker);
      expect(sql).not.to.match(/\bLIKE\b|\binstr\(|\bstrpos\(|\bINSTR\(/i);
    }
  });
});

describe(`a search without its full-text index fails closed (now: ${testDatabaseKind()})`, () => {
  let t: TestApp;
  const errors: unknown[] = [];

  before(async () => {
    // Categories searched by description: no migration made that index.
    class SearchedCategories extends CategoryEndpoint {
      searchFields = ["description"];
    }
    t = await startTestApp({ ajax: { apps: [blog, defineApp("shelf").model("category", SearchedCategories)], onError: (error) => { errors.push(error); } } });
  });
  after(() => t?.close());

  it("answers 500 and reports which migration to add, instead of reading every row", async () => {
    const alice = await loggedIn(t.app, "alice");
    const response = await alice.post("/ajax/shelf/category/list.json", { search: "anything" });
    expect(response.status).to.equal(500);
    expect(response.body.data.message).to.equal("Internal server error.");
    expect(String(errors[0])).to.match(/full-text index "category_search_description" does not exist; add a migration that runs createSearchIndex/);
    // Lists without a search are unaffected.
    expect((await alice.post("/ajax/shelf/category/list.json")).status).to.equal(200);
  });
});
