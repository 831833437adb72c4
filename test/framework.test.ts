import { expect } from "chai";
import express from "express";
import Joi from "joi";
import { AJAXError, createAjax, defineApp, endpoint, ModelEndpoint } from "../src";
import { Article, Category, Comment, User } from "../entities";
import { ArticleEndpoint, UserEndpoint } from "../endpoints/blog";
import { Client, startTestApp, type TestApp } from "./support/app";

/** Builds a router over the test app's DataSource with apps of the test's own. */
function routerWith(t: TestApp, apps: ReturnType<typeof defineApp>[], debug = false) {
  const errors: unknown[] = [];
  const ajax = createAjax({
    dataSource: t.dataSource, apps, auth: { userEntity: User }, session: { secret: "test" }, debug,
    onError: (error) => errors.push(error),
  });
  const app = express();
  app.use("/ajax", ajax.router);
  return { app, errors, ajax };
}

describe("registration and crashes", () => {
  let t: TestApp;
  before(async () => { t = await startTestApp(); });
  after(() => t.close());

  it("refuses a name registered twice in one app, at start-up", () => {
    class CategoryEndpoint extends ModelEndpoint<Category> { entity = Category; }
    expect(() => defineApp("shop").model("category", CategoryEndpoint).endpoint("category", () => 1)).to.throw(/registered twice/);
    expect(() => defineApp("shop").endpoint("ping", () => 1).endpoint("ping", () => 2)).to.throw(/registered twice/);
  });

  it("refuses the reserved app auth, names outside [a-z][a-z0-9_]*, and two apps of one name", () => {
    expect(() => defineApp("auth")).to.throw(/reserved/);
    expect(() => defineApp("Shop")).to.throw(/must match/);
    expect(() => defineApp("shop").endpoint("do-it", () => 1)).to.throw(/must match/);
    expect(() => routerWith(t, [defineApp("shop"), defineApp("shop")])).to.throw(/registered twice/);
  });

  it("serves two routers built from one endpoint file on two databases at once, each from its own", async () => {
    // The example's endpoint file is one module: both apps below are built from the same `blog`.
    const other = await startTestApp({}, "sqlite");
    try {
      const bobHere = new Client(t.app);
      await bobHere.login("bob");
      const bobThere = new Client(other.app);
      await bobThere.login("bob");
      const created = await bobHere.post("/ajax/blog/article.json", { title: "Only here", published: true });
      expect(created.status, JSON.stringify(created.body)).to.equal(200);
      const titles = async (client: Client) => ((await client.post("/ajax/blog/article/list.json", { items_per_page: 100 })).body.data as Array<{ title: string }>).map((a) => a.title);
      expect(await titles(bobHere)).to.include("Only here");
      expect(await titles(bobThere)).not.to.include("Only here");
      expect(await other.dataSource.getRepository(Article).countBy({ title: "Only here" })).to.equal(0);
      // Each router's registry serves endpoints bound to its own DataSource.
      expect(t.ajax.registry.model("blog", "article")!.runtime.dataSource).to.equal(t.dataSource);
      expect(other.ajax.registry.model("blog", "article")!.runtime.dataSource).to.equal(other.dataSource);
      await t.dataSource.getRepository(Article).delete(created.body.data.id);
    } finally {
      await other.close();
    }
  });

  it("refuses a model endpoint registered as an instance in a second router, naming the way out", () => {
    const app = defineApp("single").model("category", new (class CategoryEndpoint extends ModelEndpoint<Category> { entity = Category; })());
    const first = routerWith(t, [app]);
    expect(() => routerWith(t, [app])).to.throw(/"single\.category" was registered as an instance and already serves another router; register its class/);
    void first.ajax.close();
  });

  it("refuses filter, order and search fields that are unknown or hidden", () => {
    class Bad extends ModelEndpoint<User> { entity = User; filterFields = ["passwordHash"]; }
    expect(() => routerWith(t, [defineApp("shop").model("user", Bad)])).to.throw(/not a readable field/);
    class Unknown extends ModelEndpoint<Article> { entity = Article; orderFields = ["nope"]; }
    expect(() => routerWith(t, [defineApp("shop").model("article", Unknown)])).to.throw(/not a readable field/);
  });

  it("answers a crash with 500 'Internal server error.' and reports it, with details only in debug", async () => {
    const app = defineApp("shop").endpoint("boom", () => { throw new Error("secret detail /etc/passwd"); });
    const { app: server, errors } = routerWith(t, [app]);
    const client = new Client(server);
    const response = await client.post("/ajax/shop/boom.json");
    expect(response.status).to.equal(500);
    expect(response.body).to.deep.equal({ success: false, data: { code: 500, message: "Internal server error." } });
    expect(response.text).not.to.include("secret");
    expect(errors).to.have.length(1);
    const debug = routerWith(t, [defineApp("shop").endpoint("boom", () => { throw new Error("detail"); })], true);
    const debugResponse = await new Client(debug.app).post("/ajax/shop/boom.json");
    expect(debugResponse.body.data.message).to.include("detail");
  });

  it("passes AJAXError through with its code, message, errors and headers", async () => {
    const app = defineApp("shop").endpoint("teapot", () => {
      throw new AJAXError(409, "Taken.", { errors: { name: ["Taken."] }, headers: { "X-Why": "because" } });
    });
    const response = await new Client(routerWith(t, [app]).app).post("/ajax/shop/teapot.json");
    expect(response.status).to.equal(409);
    expect(response.headers["x-why"]).to.equal("because");
    expect(response.body).to.deep.equal({ success: false, data: { code: 409, message: "Taken." }, errors: { name: ["Taken."] } });
  });

  it("runs ad-hoc endpoints with transaction: true in one transaction", async () => {
    const app = defineApp("shop").endpoint("two_categories", endpoint({ transaction: true, params: Joi.object({ fail: Joi.boolean() }) },
      async (_req, ctx) => {
        await ctx.manager.insert(Category, { title: "first" });
        if (ctx.params.fail) throw new AJAXError(400, "No.");
        await ctx.manager.insert(Category, { title: "second" });
        return "ok";
      }));
    const client = new Client(routerWith(t, [app]).app);
    expect((await client.post("/ajax/shop/two_categories.json", { fail: true })).status).to.equal(400);
    expect(await t.dataSource.getRepository(Category).countBy({ title: "first" })).to.equal(0);
    expect((await client.post("/ajax/shop/two_categories.json", {})).status).to.equal(200);
    expect(await t.dataSource.getRepository(Category).count()).to.equal(2);
  });

  it("gives a related record the user may not see as its pk", async () => {
    class OpenComments extends ModelEndpoint<Comment, User> { entity = Comment; ownerField = "author"; }
    const { app } = routerWith(t, [defineApp("shop").model("article", ArticleEndpoint).model("comment", OpenComments).model("user", UserEndpoint)]);
    const alice = new Client(app);
    await alice.login("alice");
    const draft = (await alice.post("/ajax/shop/article.json", { title: "Hidden draft" })).body.data.id;
    const comment = (await alice.post("/ajax/shop/comment.json", { article: draft, body: "note" })).body.data.id;
    const bob = new Client(app);
    await bob.login("bob");
    const seen = await bob.post(`/ajax/shop/comment/${comment}/get.json`);
    expect(seen.body.data.article).to.equal(draft);
    expect(seen.body.data.author).to.deep.equal({ id: 1, username: "alice", isStaff: true });
  });

  it("shows records of an entity that no endpoint serves as their pk only", async () => {
    const { app } = routerWith(t, [defineApp("shop").model("article", ArticleEndpoint)]);
    const alice = new Client(app);
    const login = await alice.login("alice");
    expect(login.body.data).to.deep.equal({ id: 1 });
    const created = await alice.post("/ajax/shop/article.json", { title: "Mine" });
    expect(created.body.data.author).to.equal(1);
    expect(created.text).not.to.match(/email|passwordHash|isActive|username/);
  });

  it("encodes records a declared op returns by the endpoint's rules", async () => {
    class Users extends ModelEndpoint<User, User> {
      entity = User;
      fields = ["id", "username"];
      recordOps = { me: { requires: "get" as const, handler: (record: User) => record } };
      modelOps = { everyone: { transaction: false, handler: (ctx: import("../src").RequestContext) => ctx.manager.find(User) } };
    }
    const { app } = routerWith(t, [defineApp("shop").model("user", Users)]);
    const alice = new Client(app);
    await alice.login("alice");
    expect((await alice.post("/ajax/shop/user/1/me.json")).body.data).to.deep.equal({ id: 1, username: "alice" });
    const everyone = await alice.post("/ajax/shop/user/everyone.json");
    expect(everyone.body.data[0]).to.deep.equal({ id: 1, username: "alice" });
    expect(everyone.text).not.to.match(/passwordHash|email|scrypt/);
  });

  it("refuses a built-in command type through custom(), so script stays behind its switch", () => {
    const { ResponseCommands } = require("../src") as typeof import("../src");
    expect(() => new ResponseCommands(false).custom("script", { code: "alert(1)" })).to.throw(/built-in/);
  });

  it("runs declared record and model ops, with their permission checks", async () => {
    class PublishingEndpoint extends ModelEndpoint<Article, User> {
      entity = Article;
      ownerField = "author";
      recordOps = {
        publish: { handler: async (record: Article, ctx: import("../src").RequestContext) => {
          await ctx.manager.update(Article, { id: record.id }, { published: true });
          return { published: true };
        } },
      };
      modelOps = { count_mine: { transaction: false, handler: (ctx: import("../src").RequestContext) => ctx.manager.countBy(Article, { author: { id: (ctx.user as User).id } }) } };
    }
    const { app } = routerWith(t, [defineApp("shop").model("article", PublishingEndpoint)]);
    const bob = new Client(app);
    await bob.login("bob");
    const alice = new Client(app);
    await alice.login("alice");
    const created = await bob.post("/ajax/shop/article.json", { title: "Draft" });
    const id = created.body.data.id;
    expect((await bob.post("/ajax/shop/article/count_mine.json")).body.data).to.equal(1);
    const staff = await alice.post(`/ajax/shop/article/${id}/publish.json`);
    expect(staff.body).to.deep.equal({ success: true, data: { published: true } });
    const other = await new Client(app).post(`/ajax/shop/article/${id}/publish.json`);
    expect(other.status).to.equal(401);
  });
});
