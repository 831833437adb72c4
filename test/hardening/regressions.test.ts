import { expect } from "chai";
import { Article } from "../../entities";
import { requireServices } from "../support/services";
import { envelopeProblem, protectedSnapshot, type Reply } from "./support";
import { hardeningDatabases, startWorld, type World } from "./world";

/** One test per bug the hardening suite found, on every database it runs on. */
for (const kind of hardeningDatabases()) describe(`hardening: regressions (${kind})`, function () {
  this.timeout(60_000);
  let w: World;
  before(async function () {
    if (kind !== "sqlite") await requireServices(this, [kind]);
    w = await startWorld({ kind });
  });
  after(async () => { await w?.close(); });
  afterEach(() => { expect(w.crashes.map(String), "unhandled errors reported by the router").to.deep.equal([]); });

  const expectStatus = (reply: Reply, status: number) => {
    expect(envelopeProblem(reply, { method: "POST", path: "" }), reply.text).to.equal(null);
    expect(reply.status, reply.text.slice(0, 300)).to.equal(status);
  };

  it("a search or text filter past its limit is a 400, not a 500", async () => {
    for (const body of [{ filter: { title__icontains: "%".repeat(30_000) } },
      { filter: { title__contains: "y".repeat(1001) } }, { filter: { title__startswith: "z".repeat(1001) } }]) {
      const reply = await w.bob.post("/ajax/blog/article/list.json", body);
      expectStatus(reply, 400);
      expect(JSON.stringify(reply.json.errors)).to.include("at most 1000 characters");
    }
    for (const search of ["x".repeat(60_000), "x".repeat(65)]) {
      const reply = await w.bob.post("/ajax/blog/article/list.json", { search });
      expectStatus(reply, 400);
      expect(reply.json.errors).to.have.keys("search");
    }
    expectStatus(await w.bob.post("/ajax/blog/article/list.json", { search: "x".repeat(64) }), 200);
  });

  it("a body field named after an Object.prototype member is an unknown field, not a crash", async () => {
    for (const name of ["toString", "hasOwnProperty", "valueOf", "__defineGetter__", "isPrototypeOf"]) {
      const create = await w.bob.post("/ajax/blog/article.json", `title=x&${name}=1`);
      expectStatus(create, 400);
      expect(create.json.errors[name]).to.deep.equal(["Unknown field."]);
      const list = await w.bob.post("/ajax/blog/article/list.json", { [name]: 1, filter: { [name]: 1 } });
      expectStatus(list, 400);
      expect(list.json.errors[name]).to.deep.equal(["Unknown field."]);
      const echo = await w.bob.post("/ajax/blog/countdown.json", { [name]: 1 });
      expectStatus(echo, 400);
    }
    expect(await w.t.dataSource.getRepository(Article).countBy({ title: "x" })).to.equal(0);
  });

  it("U+0000 in a filter, a search, a tag filter or a login name is a 400 (PostgreSQL cannot compare it)", async () => {
    const nul = "a\u0000b";
    for (const body of [{ search: nul }, { filter: { title__contains: nul } }, { filter: { title__icontains: nul } },
      { filter: { title__startswith: nul } }, { filter: { title: nul } }, { filter: { title__in: [nul] } }, { filter: { tags: nul } },
      { filter: { tags__any: [nul] } }]) {
      expectStatus(await w.bob.post("/ajax/blog/article/list.json", body), 400);
    }
    const anonymous = w.caller();
    expectStatus(await anonymous.post("/ajax/auth/login.json", { username: "bob\u0000", password: "bob-password" }), 400);
  });

  it("an integer past the column's 32-bit range is a 404 as a pk and a 400 as a value, never a 500", async () => {
    const before = await protectedSnapshot(w.t.dataSource, w.seed.bob);
    for (const pk of ["2147483648", "4294967296", "9007199254740991"]) {
      for (const op of ["get", "update", "delete", "tags/similar", "tags/add"]) {
        expectStatus(await w.alice.post(`/ajax/blog/article/${pk}/${op}.json`, { tags: "x" }), 404);
      }
    }
    expectStatus(await w.alice.post("/ajax/blog/article/2147483647/get.json"), 404);
    for (const value of [2147483648, -2147483649, 9007199254740991, "2147483648"]) {
      const create = await w.bob.post("/ajax/blog/article.json", { title: "range", category: value });
      expectStatus(create, 400);
      expect(create.json.errors.category).to.have.length(1);
      expectStatus(await w.bob.post("/ajax/blog/comment.json", { article: value, body: "x" }), 400);
      expectStatus(await w.bob.post("/ajax/blog/article/list.json", { filter: { author__gt: value } }), 400);
      expectStatus(await w.bob.post("/ajax/blog/article/list.json", { filter: { category__in: [1, value] } }), 400);
    }
    expectStatus(await w.bob.post("/ajax/blog/article/list.json", { filter: { category__lte: 2147483647, author__gte: -2147483648 } }), 200);
    expect(await protectedSnapshot(w.t.dataSource, w.seed.bob)).to.equal(before);
  });
});
