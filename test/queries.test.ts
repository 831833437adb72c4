import { expect } from "chai";
import { Article, Category, User } from "../entities";
import { loggedIn, startTestApp, type Client, type TestApp } from "./support/app";

/**
 * What a request costs in SQL statements, counted through TypeORM's logger. The session read,
 * which brings the session's user with it (read anew, never cached), runs on every logged-in
 * request and is counted.
 */
describe("statements per request (bench/, docs/benchmark.md)", () => {
  let t: TestApp;
  let bob: Client;
  let pks: number[];

  before(async () => {
    t = await startTestApp();
    bob = await loggedIn(t.app, "bob");
    const category = (await t.dataSource.getRepository(Category).insert({ title: "Tech" })).identifiers[0]!.id as number;
    const articles = t.dataSource.getRepository(Article);
    pks = [];
    for (let i = 0; i < 3; i++) {
      pks.push((await articles.insert({ title: `A${i}`, published: true, author: { id: 1 } as User, category: { id: category } as Category })).identifiers[0]!.id as number);
    }
  });
  after(() => t.close());

  const run = async (path: string, body: object = {}) => {
    t.queries.reset();
    const response = await bob.post(path, body);
    expect(response.status, JSON.stringify(response.body)).to.equal(200);
    return [...t.queries.queries];
  };

  it("get costs 2 on every database: the session with its user, then the record with its author, category and tags", async () => {
    const statements = await run(`/ajax/blog/article/${pks[0]}/get.json`);
    expect(statements[0]).to.match(/ajax_session/).and.to.match(/JOIN ["`]user["`]/);
    expect(statements).to.have.length(2);
    // Tags as one JSON array in the record's statement.
    expect(statements[1]).to.match(/json_group_array|json_agg|JSON_ARRAYAGG/);
    if (t.database.kind === "sqlite") {
      // A sub-select per column: a LEFT JOIN beside the scope's OR is slow on SQLite (src/model/joined.ts).
      expect(statements[1]).not.to.match(/LEFT JOIN/);
      expect(statements[1]).to.match(/FROM ["`]user["`]/).and.to.match(/FROM ["`]category["`]/);
    } else {
      expect(statements[1]).to.match(/LEFT JOIN ["`]user["`]/).and.to.match(/LEFT JOIN ["`]category["`]/);
    }
  });

  it("update costs 7: session, BEGIN, the record, UPDATE, the record read back, the audit entry, COMMIT", async () => {
    const bobId = (await t.dataSource.getRepository(User).findOneByOrFail({ username: "bob" })).id;
    const pk = (await t.dataSource.getRepository(Article).insert({ title: "C", published: true, author: { id: bobId } as User })).identifiers[0]!.id as number;
    const current = await bob.post(`/ajax/blog/article/${pk}/get.json`);
    const statements = await run(`/ajax/blog/article/${pk}/update.json`, { title: "C2", _version: current.body.data.version });
    // Besides: MariaDB's transactions set READ COMMITTED first (src/db/gate.ts), and on
    // PostgreSQL the change feed's bus tells the other servers after the commit (pg_notify).
    const besides = /^SET TRANSACTION ISOLATION LEVEL|pg_notify/;
    expect(statements.filter((sql) => !besides.test(sql)).map((sql) => /^\w+/.exec(sql)![0].toUpperCase())).to.deep.equal(
      ["SELECT", t.database.kind === "sqlite" ? "BEGIN" : "START", "SELECT", "UPDATE", "SELECT", "INSERT", "COMMIT"]);
  });

  it("binds parameters: gets of different records run the same SQL text, so the database reuses its prepared statements", async () => {
    const first = await run(`/ajax/blog/article/${pks[1]}/get.json`);
    const second = await run(`/ajax/blog/article/${pks[2]}/get.json`);
    expect(second).to.deep.equal(first);
    for (const sql of first) expect(sql).not.to.match(new RegExp(`(=|IN \\()\\s*${pks[1]}\\b`));
  });

  it("reads no column it does not show: hydrated authors without password hash or e-mail, the session's user without its hash", async () => {
    const statements = await run(`/ajax/blog/article/${pks[0]}/get.json`);
    for (const sql of statements) expect(sql).not.to.match(/passwordHash/i);
    // Only the session's own user is read whole (hooks may use any of its columns).
    for (const sql of statements.slice(1)) expect(sql).not.to.match(/email|isActive/i);
  });

  it("binds an update's pk and version too: updates of different records run the same UPDATE text", async () => {
    const bobId = (await t.dataSource.getRepository(User).findOneByOrFail({ username: "bob" })).id;
    const own = [];
    for (let i = 0; i < 2; i++) {
      own.push((await t.dataSource.getRepository(Article).insert({ title: `B${i}`, published: true, author: { id: bobId } as User })).identifiers[0]!.id as number);
    }
    const updateOf = async (pk: number) => {
      const current = await bob.post(`/ajax/blog/article/${pk}/get.json`);
      const statements = await run(`/ajax/blog/article/${pk}/update.json`, { title: `New ${pk}`, _version: current.body.data.version });
      return statements.find((sql) => /^UPDATE/.test(sql))!;
    };
    const first = await updateOf(own[0]!);
    const second = await updateOf(own[1]!);
    expect(second).to.equal(first);
    expect(first).not.to.match(new RegExp(`=\\s*${own[0]}\\b`));
  });

  it("create binds its values (one INSERT text whatever the category) and reads the new record back once", async () => {
    const categories = t.dataSource.getRepository(Category);
    const insertOf = async (title: string) => {
      const category = (await categories.insert({ title })).identifiers[0]!.id as number;
      const statements = await run("/ajax/blog/article.json", { title: `In ${title}`, body: "b", published: true, category });
      expect(statements.filter((sql) => /^SELECT/.test(sql) && /FROM ["`]article["`]/.test(sql))).to.have.length(1);
      return statements.find((sql) => /^INSERT INTO ["`]article["`]/.test(sql))!;
    };
    const first = await insertOf("First");
    expect(await insertOf("Second")).to.equal(first);
  });

  it("list costs the same whatever the filter or page size: 3 on MariaDB (session, count, the page joined to authors and categories, with tags), 4 on PostgreSQL (the page's tags in a batch), 5 on SQLite (authors and categories in a batch each)", async () => {
    const first = await run("/ajax/blog/article/list.json", { filter: { title__ne: "x" } });
    const second = await run("/ajax/blog/article/list.json", { filter: { title__ne: "y" } });
    const expected = { sqlite: 5, postgres: 4, mariadb: 3 }[t.database.kind];
    expect(first).to.have.length(expected);
    if (t.database.kind === "postgres") {
      // A sub-select per row over a small tag table is planned as a hash join over every tag (src/tags/feature.ts).
      expect(first[2]).not.to.match(/json_agg/);
      expect(first[3]).to.match(/ajax_tagged_item/);
    } else {
      expect(first[2]).to.match(/json_group_array|JSON_ARRAYAGG/);
    }
    expect((await run("/ajax/blog/article/list.json", { items_per_page: 2 }))).to.have.length(expected);
    expect(second).to.deep.equal(first);
  });
});
