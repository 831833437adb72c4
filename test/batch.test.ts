import { expect } from "chai";
import { Article, Category, Comment } from "../entities";
import { Tag, TaggedItem } from "../src";
import { Client, loggedIn, startTestApp, type TestApp } from "./support/app";

/** Every row of every table a batch may touch, in pk order: compared before and after. */
async function snapshot(t: TestApp): Promise<Record<string, unknown[]>> {
  const tables: Record<string, unknown[]> = {};
  for (const entity of [Category, Article, Comment, Tag, TaggedItem]) {
    const metadata = t.dataSource.getMetadata(entity);
    const pk = metadata.primaryColumns.map((column) => t.dataSource.driver.escape(column.databaseName)).join(", ");
    tables[metadata.tableName] = await t.dataSource.query(`SELECT * FROM ${t.dataSource.driver.escape(metadata.tableName)} ORDER BY ${pk}`);
  }
  return tables;
}

describe("batches: POST /ajax/batch.json (CONTRACT.md §10)", () => {
  let t: TestApp;
  let alice: Client;
  let bob: Client;
  let alicesArticle: number;

  before(async () => {
    t = await startTestApp({ ajax: { batch: { maxOps: 5 } } });
    alice = await loggedIn(t.app, "alice");
    bob = await loggedIn(t.app, "bob");
    alicesArticle = (await alice.post("/ajax/blog/article.json", { title: "Alice's", published: true })).body.data.id;
  });
  after(() => t.close());

  it("runs every op in order, each answering as it would alone, and a later op takes an earlier result by $ref", async () => {
    const response = await alice.post("/ajax/batch.json", {
      ops: [
        { op: "blog/category", body: { title: "Batched" } },
        { op: "blog/article", body: { title: "In a batch", category: { $ref: "0.id" }, tags: ["one"] } },
        { op: "blog/comment", body: { article: { $ref: "1.id" }, body: "first!" } },
        { op: `blog/article/${alicesArticle}/update`, body: { title: "Renamed", _version: 1 } },
      ],
    });
    expect(response.status, JSON.stringify(response.body)).to.equal(200);
    const [category, article, comment, renamed] = response.body.data;
    expect(category).to.include({ title: "Batched" });
    expect(article.category).to.deep.equal({ id: category.id, title: "Batched", description: null });
    expect(article.tags).to.deep.equal([{ pk: article.tags[0].pk, name: "one", slug: "one" }]);
    expect(comment.article.id).to.equal(article.id);
    expect(renamed).to.include({ id: alicesArticle, title: "Renamed", version: 2 });
    const single = await alice.post(`/ajax/blog/article/${article.id}/get.json`);
    expect(single.body.data).to.deep.equal(article);
  });

  it("writes nothing when the third op fails, and answers that op's error with its index", async () => {
    const before = await snapshot(t);
    const response = await alice.post("/ajax/batch.json", {
      ops: [
        { op: "blog/category", body: { title: "Never" } },
        { op: "blog/article", body: { title: "Never either", category: { $ref: "0.id" }, tags: "a, b" } },
        { op: "blog/article", body: { published: "maybe" } },
      ],
    });
    expect(response.status).to.equal(400);
    const alone = await alice.post("/ajax/blog/article.json", { published: "maybe" });
    expect(response.body).to.deep.equal({ ...alone.body, data: { ...alone.body.data, index: 2 } });
    expect(await snapshot(t)).to.deep.equal(before);
  });

  it("keeps every op's own permissions: bob cannot update alice's article inside a batch (403 with index)", async () => {
    const before = await snapshot(t);
    const response = await bob.post("/ajax/batch.json", {
      ops: [
        { op: "blog/article", body: { title: "Bob's" } },
        { op: `blog/article/${alicesArticle}/update`, body: { title: "Mine now" } },
      ],
    });
    expect(response.status).to.equal(403);
    expect(response.body.data).to.deep.equal({ code: 403, message: "You do not have permission to perform this action.", index: 1 });
    expect(await snapshot(t)).to.deep.equal(before);
    const problem = await bob.post("/ajax/batch.json", { ops: [{ op: `blog/article/${alicesArticle}/update`, body: {} }] }, { headers: { Accept: "application/problem+json" } });
    expect(problem.headers["content-type"]).to.match(/^application\/problem\+json/);
    expect(JSON.parse(problem.text)).to.include({ status: 403, index: 0 });
    const hidden = await bob.post("/ajax/batch.json", { ops: [{ op: "blog/category", body: { title: "Staff only" } }] });
    expect(hidden.status).to.equal(403);
    expect(hidden.body.data.index).to.equal(0);
  });

  it("translates a database error of an op (unique title: 409) and rolls the batch back", async () => {
    const before = await snapshot(t);
    const response = await alice.post("/ajax/batch.json", {
      ops: [{ op: "blog/category", body: { title: "Twice" } }, { op: "blog/category", body: { title: "Twice" } }],
    });
    expect(response.status).to.equal(409);
    expect(response.body.data.index).to.equal(1);
    expect(await snapshot(t)).to.deep.equal(before);
  });

  it("refuses refs to the op itself, later ops and missing fields (400 for that op)", async () => {
    const cases: Array<[unknown, string]> = [
      [{ $ref: "1.id" }, "category"], [{ $ref: "5.id" }, "category"], [{ $ref: "0.nothing" }, "category"], [{ $ref: "id" }, "category"],
    ];
    for (const [ref, field] of cases) {
      const response = await alice.post("/ajax/batch.json", {
        ops: [{ op: "blog/category", body: { title: `Ref ${JSON.stringify(ref)}` } }, { op: "blog/article", body: { title: "x", [field]: ref } }],
      });
      expect(response.status, JSON.stringify(ref)).to.equal(400);
      expect(response.body.data.index).to.equal(1);
      expect(Object.keys(response.body.errors)).to.deep.equal([field]);
    }
    const nested = await alice.post("/ajax/batch.json", {
      ops: [{ op: "blog/category", body: { title: "Nest" } }, { op: "blog/echo", body: { deep: [{ id: { $ref: "0.id" } }], title: { $ref: "0.title" } } }],
    });
    expect(nested.body.data[1]).to.deep.equal({ deep: [{ id: nested.body.data[0].id }], title: "Nest" });
  });

  it("refuses what cannot be a batch op, and more ops than the limit", async () => {
    const refused = async (body: object, status = 400) => {
      const response = await alice.post("/ajax/batch.json", body);
      expect(response.status, JSON.stringify(body)).to.equal(status);
      expect(response.body.success).to.equal(false);
      return response.body;
    };
    const op = { op: "blog/say_hi" };
    expect((await refused({ ops: [op, op, op, op, op, op] })).errors).to.deep.equal({ ops: ["At most 5 ops."] });
    await refused({ ops: [] });
    await refused({});
    await refused({ ops: [op], extra: 1 });
    expect((await refused({ ops: [op, { op: "batch", body: { ops: [] } }] })).data.index).to.equal(1);
    expect((await refused({ ops: [{ op: "auth/login", body: { username: "alice", password: "alice-password" } }] })).data.index).to.equal(0);
    expect((await refused({ ops: [{ op: "auth/logout" }] })).data.index).to.equal(0);
    expect((await refused({ ops: [{ op: "blog/countdown" }] })).data.index).to.equal(0);
    expect((await refused({ ops: [op, { op: "blog/nothing" }] }, 404)).data).to.deep.equal({ code: 404, message: "Not found.", index: 1 });
    expect((await refused({ ops: [{ op: "blog/say_hi", body: "x" }] })).data.index).to.equal(0);
    expect((await refused({ ops: [{ op: "blog/say_hi", else: 1 }] })).errors).to.deep.equal({ "ops.0.else": ["Unknown field."] });
    const form = await alice.post("/ajax/batch.json", "ops=1", { type: "form" });
    expect(form.status).to.equal(400);
    const ifMatch = await alice.post("/ajax/batch.json", { ops: [op] }, { headers: { "If-Match": "1" } });
    expect(ifMatch.status).to.equal(400);
    const get = await alice.agent.get("/ajax/batch.json");
    expect(get.status).to.equal(405);
  });

  it("needs the CSRF token like every POST, and queues the ops' commands", async () => {
    const anonymous = new Client(t.app);
    const response = await anonymous.agent.post("/ajax/batch.json").send({ ops: [{ op: "blog/say_hi" }] });
    expect(response.status).to.equal(403);
    const hi = await alice.post("/ajax/batch.json", { ops: [{ op: "blog/say_hi" }, { op: "blog/say_hi" }] });
    expect(hi.body).to.deep.equal({ success: true, data: ["hi", "hi"], commands: [{ type: "alert", message: "Hi there!" }, { type: "alert", message: "Hi there!" }] });
  });

  it("lets other requests run beside a batch without landing in its transaction", async () => {
    const before = await t.dataSource.getRepository(Category).count();
    const calls = [];
    for (let i = 0; i < 6; i++) {
      calls.push(alice.post("/ajax/batch.json", { ops: [{ op: "blog/category", body: { title: `Side ${i}` } }, { op: "blog/category", body: { title: i % 2 ? `Side ${i}` : `Other ${i}` } }] }));
      calls.push(bob.post("/ajax/blog/article/list.json"));
    }
    const responses = await Promise.all(calls);
    expect(responses.map((r) => r.status)).to.deep.equal([200, 200, 409, 200, 200, 200, 409, 200, 200, 200, 409, 200]);
    expect(await t.dataSource.getRepository(Category).count()).to.equal(before + 3 * 2);
  });
});
