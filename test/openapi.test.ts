import { Validator } from "@seriousme/openapi-schema-validator";
import { expect } from "chai";
import express from "express";
import request from "supertest";
import Joi from "joi";
import { createAjax, defineApp, generateClient, ModelEndpoint, tags, type EndpointFeature, type OpenApiDocument } from "../src";
import { Comment, User } from "../entities";
import blog from "../endpoints/blog";
import { startTestApp, type TestApp } from "./support/app";

/** Every `$ref` of a JSON value. */
function refsOf(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((item) => refsOf(item, found));
  else if (value && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      if (key === "$ref" && typeof item === "string") found.push(item);
      else refsOf(item, found);
    }
  }
  return found;
}

function resolvePointer(document: unknown, ref: string): unknown {
  return ref.slice(2).split("/").reduce<unknown>((node, part) =>
    (node as Record<string, unknown> | undefined)?.[part.replace(/~1/g, "/").replace(/~0/g, "~")], document);
}

describe("OpenAPI: GET /ajax/openapi.json and the docs page", () => {
  let t: TestApp;
  let document: OpenApiDocument;

  before(async () => {
    t = await startTestApp();
    document = (await request(t.app).get("/ajax/openapi.json").expect(200)).body;
  });
  after(() => t.close());

  it("is a valid OpenAPI 3.1 document, by an OpenAPI schema validator", async () => {
    const validator = new Validator();
    const result = await validator.validate(document as never);
    expect(result.errors, JSON.stringify(result.errors, null, 2)).to.equal(undefined);
    expect(result.valid).to.equal(true);
    expect(validator.version).to.equal("3.1");
  });

  it("has every $ref resolving inside the document", () => {
    const refs = [...new Set(refsOf(document))];
    expect(refs.length).to.be.greaterThan(20);
    for (const ref of refs) expect(resolvePointer(document, ref), ref).to.be.an("object");
  });

  it("names no hidden column anywhere, and no secret-looking field", () => {
    const text = JSON.stringify(document);
    for (const hidden of ["passwordHash", "email", "isActive"]) expect(text).not.to.include(hidden);
    const fieldNames = Object.values(document.components.schemas as Record<string, { properties?: object }>)
      .flatMap((schema) => Object.keys(schema.properties ?? {}));
    expect(fieldNames.filter((name) => /password|hash|salt|secret/i.test(name))).to.deep.equal(["password"]); // the login body's
  });

  it("documents every registered route, and nothing that is not registered", () => {
    const posts = Object.entries(document.paths).filter(([, item]) => (item as { post?: unknown }).post).map(([path]) => path);
    const expected = ["/auth/login.json", "/auth/logout.json", "/auth/user.json", "/batch.json"];
    for (const [name, endpoint] of t.ajax.registry.modelsOf("blog")) {
      if (endpoint.ops.includes("create")) expected.push(`/blog/${name}.json`);
      if (endpoint.ops.includes("list")) expected.push(`/blog/${name}/list.json`);
      for (const op of ["get", "update", "delete"] as const) if (endpoint.ops.includes(op)) expected.push(`/blog/${name}/{pk}/${op}.json`);
      for (const path of endpoint.featureSet.allRecordOps().keys()) expected.push(`/blog/${name}/{pk}/${path}.json`);
      for (const op of Object.keys(endpoint.modelOps)) expected.push(`/blog/${name}/${op}.json`);
      for (const op of Object.keys(endpoint.recordOps)) expected.push(`/blog/${name}/{pk}/${op}.json`);
    }
    for (const name of blog.endpoints.keys()) expected.push(`/blog/${name}.json`);
    expect([...posts].sort()).to.deep.equal([...expected].sort());
    const gets = Object.entries(document.paths).filter(([, item]) => (item as { get?: unknown }).get).map(([path]) => path);
    const feeds = [...t.ajax.registry.modelsOf("blog")].filter(([, endpoint]) => endpoint.ops.includes("list")).map(([name]) => `/blog/${name}/events`);
    expect(gets.sort()).to.deep.equal(["/client.js", "/csrf.json", "/docs", "/health.json", "/interface.js", "/openapi.json", ...feeds].sort());
  });

  it("shows records by their readable fields, hydrated relations as the related record or its pk", () => {
    const schemas = document.components.schemas as Record<string, any>;
    expect(Object.keys(schemas.BlogUser.properties)).to.deep.equal(["id", "username", "isStaff"]);
    expect(schemas.BlogUser.additionalProperties).to.equal(false);
    expect(schemas.BlogArticle.properties.author.oneOf).to.deep.equal([{ $ref: "#/components/schemas/BlogUser" }, { type: "integer" }]);
    expect(schemas.BlogArticle.properties.category.oneOf).to.deep.include({ type: "null" });
    expect(schemas.BlogArticle.properties.tags.items).to.deep.equal({ $ref: "#/components/schemas/Tag" });
    expect(schemas.BlogArticleCreate.required).to.deep.equal(["title"]);
    expect(schemas.BlogArticleCreate.properties).not.to.have.any.keys("id", "author", "createdAt", "version");
    // The version is needed, but the If-Match header may carry it instead of the body.
    expect(schemas.BlogArticleUpdate.required).to.equal(undefined);
    expect(schemas.BlogArticleUpdate.properties._version.description).to.include("If-Match");
  });

  it("takes every body the server takes: JSON, form and multipart; files where the endpoint reads them; {} where no fields", () => {
    const post = (path: string) => (document.paths[path] as any).post;
    for (const [path, item] of Object.entries(document.paths)) {
      if (!(item as { post?: unknown }).post) continue;
      expect(Object.keys(post(path).requestBody.content), path).to.deep.equal(["application/json", "application/x-www-form-urlencoded", "multipart/form-data"]);
    }
    const upload = post("/blog/upload.json").requestBody.content["multipart/form-data"].schema;
    expect(upload.allOf[1].properties.file.items).to.deep.equal({ type: "string", contentMediaType: "application/octet-stream" });
    expect(post("/blog/echo.json").requestBody.content["multipart/form-data"].schema).to.deep.equal({ type: "object", additionalProperties: true });
    const get = post("/blog/article/{pk}/get.json").requestBody;
    expect(get.required).to.equal(false);
    expect(get.content["application/json"].schema).to.include({ type: "object", additionalProperties: false });
    const created = (document.components.schemas as any).BlogArticleCreate.properties.publishedAt;
    expect(created.type).to.deep.equal(["string", "null"]);
    expect(created.format).to.equal("date-time");
  });

  it("lists exactly the allowed filters, orderings and search of each list", () => {
    const query = (document.components.schemas as Record<string, any>).BlogArticleListQuery;
    const filters = Object.keys(query.properties.filter.properties);
    expect(filters).to.include.members(["published", "author__in", "title__icontains", "createdAt__gte", "tags", "tags__all", "tags__none"]);
    expect(filters).not.to.include.members(["body", "author__icontains", "version__eq"]);
    expect(query.properties.filter.additionalProperties).to.equal(false);
    expect(new RegExp(query.properties.order.pattern).test("-createdAt,title")).to.equal(true);
    expect(new RegExp(query.properties.order.pattern).test("body")).to.equal(false);
    expect(query.properties.search.type).to.equal("string");
    const users = (document.components.schemas as Record<string, any>).BlogUserListQuery;
    expect(Object.keys(users.properties.filter.properties)).to.include("username__startswith");
    expect(users.properties).not.to.have.key("search");
  });

  it("gives each op the statuses it can answer, and the CSRF header and session cookie as security", () => {
    const post = (path: string) => (document.paths[path] as any).post;
    expect(Object.keys(post("/blog/article/{pk}/update.json").responses)).to.include.members(["200", "400", "401", "403", "404", "409", "413", "415", "500"]);
    expect(Object.keys(post("/blog/article/list.json").responses)).not.to.include("404");
    expect(Object.keys(post("/auth/login.json").responses)).to.include.members(["401", "429"]);
    expect(post("/auth/login.json").security).to.deep.equal([{ csrfToken: [] }]);
    expect(post("/blog/article/{pk}/get.json").security).to.deep.equal([{ csrfToken: [], sessionCookie: [] }]);
    expect(post("/blog/say_hi.json").security).to.deep.equal([{ csrfToken: [] }]);
    expect(document.components.securitySchemes).to.deep.equal({
      csrfToken: { type: "apiKey", in: "header", name: "X-CSRFToken", description: (document.components.securitySchemes as any).csrfToken.description },
      sessionCookie: { type: "apiKey", in: "cookie", name: "sessionid", description: (document.components.securitySchemes as any).sessionCookie.description },
    });
    const responses = document.components.responses as Record<string, any>;
    expect(responses.Unauthorized.headers).to.have.key("WWW-Authenticate");
    expect(responses.TooManyRequests.headers).to.have.key("Retry-After");
  });

  it("converts an ad-hoc endpoint's joi params to JSON Schema", () => {
    const countdown = (document.paths["/blog/countdown.json"] as any).post;
    expect(countdown.requestBody.content["application/json"].schema).to.deep.equal({ $ref: "#/components/schemas/BlogCountdownParams" });
    expect((document.components.schemas as any).BlogCountdownParams).to.deep.include({ type: "object", additionalProperties: false });
    expect((document.components.schemas as any).BlogCountdownParams.properties.from).to.include({ type: "integer", minimum: 1, maximum: 10 });
    expect(countdown.responses["200"].content).to.have.keys("application/json", "text/event-stream");
  });

  it("documents what ad-hoc endpoints and declared ops answer from their `returns`, and the typed client uses it", async () => {
    const dataOf = (path: string) => (document.paths[path] as any).post.responses["200"].content["application/json"].schema.allOf[1].properties.data;
    expect(dataOf("/blog/greet.json")).to.deep.equal({ $ref: "#/components/schemas/BlogGreetResult" });
    expect((document.components.schemas as any).BlogGreetResult).to.deep.include({
      type: "object", required: ["greeted"], properties: { greeted: { type: "string" } }, additionalProperties: false,
    });
    expect(dataOf("/blog/countdown.json")).to.deep.equal({ type: "array", items: { $ref: "#/components/schemas/BlogCountdownItem" } });

    class Notes extends ModelEndpoint<Comment> {
      entity = Comment;
      recordOps = { word_count: { requires: "get" as const, returns: Joi.object({ words: Joi.number().integer().required() }), handler: () => ({ words: 1 }) } };
      modelOps = { busiest: { returns: Joi.array().items(Joi.number().integer()), handler: () => [1] } };
    }
    const notes = createAjax({ dataSource: t.dataSource, apps: [defineApp("notes").model("comment", Notes)], auth: { userEntity: User }, session: { secret: "n" } });
    try {
      const schemas = notes.openapi!.components.schemas as Record<string, any>;
      expect(schemas.NotesCommentWordCountResult.properties.words).to.deep.equal({ type: "integer" });
      expect(schemas.NotesCommentBusiestResult).to.deep.include({ type: "array", items: { type: "integer" } });
      const client = generateClient(notes.openapi!);
      expect(client).to.include("Promise<NotesCommentWordCountResult>").and.include("Promise<NotesCommentBusiestResult>");
    } finally {
      await notes.close();
    }
  });

  it("documents each endpoint's own tag limit when two endpoints have different maxTags, and refuses feature schemas that disagree", async () => {
    class FewTags extends ModelEndpoint<Comment> {
      entity = Comment;
      features = [tags({ maxTags: 3 })];
    }
    class ManyTags extends ModelEndpoint<User> {
      entity = User;
      features = [tags()];
    }
    const notes = createAjax({
      dataSource: t.dataSource, apps: [defineApp("notes").model("comment", FewTags).model("user", ManyTags)], auth: { userEntity: User }, session: { secret: "n" },
    });
    try {
      const schemas = notes.openapi!.components.schemas as Record<string, any>;
      expect(schemas.TagNames3.oneOf[0].maxItems).to.equal(3);
      expect(schemas.TagNames.oneOf[0].maxItems).to.equal(50);
      const body = (path: string) => (notes.openapi!.paths[path] as any).post.requestBody.content["application/json"].schema;
      expect(body("/notes/comment/{pk}/tags/add.json")).to.deep.equal({ $ref: "#/components/schemas/TagsBody3" });
      expect(body("/notes/user/{pk}/tags/add.json")).to.deep.equal({ $ref: "#/components/schemas/TagsBody" });
      expect(schemas.TagsBody3.properties.tags).to.deep.equal({ $ref: "#/components/schemas/TagNames3" });
      expect(JSON.stringify(notes.openapi)).not.to.include("undefined");
    } finally {
      await notes.close();
    }
    const disagreeing = (limit: number): EndpointFeature => ({
      name: "limits", openapi: { components: { Limit: { type: "integer", maximum: limit } } },
    });
    class First extends ModelEndpoint<Comment> { entity = Comment; features = [disagreeing(1)]; }
    class Second extends ModelEndpoint<User> { entity = User; features = [disagreeing(2)]; }
    expect(() => createAjax({
      dataSource: t.dataSource, apps: [defineApp("notes").model("comment", First).model("user", Second)], auth: { userEntity: User }, session: { secret: "n" },
    })).to.throw(/the feature "limits" of (User|Comment)'s endpoint names the OpenAPI schema "Limit" with other content/);
  });

  it("is built once, at start-up, and served with the mount as its server", async () => {
    expect(t.ajax.openapi).to.be.an("object");
    expect(document.servers).to.deep.equal([{ url: "/ajax" }]);
    const again = await request(t.app).get("/ajax/openapi.json").expect("Content-Type", "application/json; charset=utf-8");
    expect(again.body).to.deep.equal(document);
    const { servers: _servers, ...built } = document;
    expect(JSON.parse(JSON.stringify({ ...t.ajax.openapi, servers: undefined }))).to.deep.equal(built);
  });

  it("takes the prefix from where the router is mounted", async () => {
    const app = express().use("/api/v2", t.ajax.router);
    const response = await request(app).get("/api/v2/openapi.json").expect(200);
    expect(response.body.servers).to.deep.equal([{ url: "/api/v2" }]);
    const page = await request(app).get("/api/v2/docs").expect(200);
    expect(page.text).to.include('data-spec-url="/api/v2/openapi.json"').and.include('src="/api/v2/docs/assets/swagger-ui-bundle.js"');
  });

  it("takes its title and version from the options", async () => {
    const shop = createAjax({
      dataSource: t.dataSource, apps: [defineApp("shop").endpoint("ping", () => "pong")], auth: { userEntity: User },
      session: { secret: "shop" }, openapi: { title: "Shop", version: "2.0.0" },
    });
    const response = await request(express().use("/ajax", shop.router)).get("/ajax/openapi.json").expect(200);
    expect(response.body.info).to.include({ title: "Shop", version: "2.0.0" });
    expect(Object.keys(response.body.paths)).to.include("/shop/ping.json");
    await shop.close();
  });

  it("shows a related entity without an endpoint of its own as its pk only, under its entity name", async () => {
    class FlatComments extends ModelEndpoint<Comment> {
      entity = Comment;
      depth = 0;
    }
    const app = defineApp("notes").model("comment", FlatComments);
    const notes = createAjax({ dataSource: t.dataSource, apps: [app], auth: { userEntity: User }, session: { secret: "notes" } });
    const schemas = notes.openapi!.components.schemas as Record<string, any>;
    // depth 0 here, but nested under another endpoint the root's depth decides: the record stays possible.
    expect(schemas.NotesComment.properties.article.oneOf[0]).to.deep.equal({ $ref: "#/components/schemas/Article" });
    expect(schemas.NotesComment.properties.author.oneOf[0]).to.deep.equal({ $ref: "#/components/schemas/User" });
    // No endpoint serves users or articles here: deny by default, nothing but the pk.
    expect(Object.keys(schemas.User.properties)).to.deep.equal(["id"]);
    expect(Object.keys(schemas.Article.properties)).to.deep.equal(["id"]);
    const login = (notes.openapi!.paths["/auth/login.json"] as any).post.responses["200"].content["application/json"].schema;
    expect(login.allOf[1].properties.data).to.deep.equal({ $ref: "#/components/schemas/User" });
    const validator = new Validator();
    expect((await validator.validate(notes.openapi as never)).valid).to.equal(true);
    await notes.close();
  });

  it("can be turned off", async () => {
    const off = createAjax({
      dataSource: t.dataSource, apps: [defineApp("shop").endpoint("ping", () => "pong")], auth: { userEntity: User }, session: { secret: "off" }, openapi: false,
    });
    const app = express().use("/ajax", off.router);
    expect(off.openapi).to.equal(undefined);
    const response = await request(app).get("/ajax/openapi.json").expect(404);
    expect(response.body).to.deep.equal({ success: false, data: { code: 404, message: "Not found." } });
    await off.close();
  });

  it("serves the docs page and Swagger UI's files from the package, GET only", async () => {
    const page = await request(t.app).get("/ajax/docs").expect(200).expect("Content-Type", "text/html; charset=utf-8");
    expect(page.headers["content-security-policy"]).to.include("script-src 'self'");
    expect(page.text).not.to.match(/https?:\/\//);
    await request(t.app).get("/ajax/docs/assets/swagger-ui-bundle.js").expect(200).expect("Content-Type", /javascript/);
    await request(t.app).get("/ajax/docs/assets/swagger-ui.css").expect(200).expect("Content-Type", /text\/css/);
    const script = await request(t.app).get("/ajax/docs/assets/ajax-docs.js").expect(200);
    expect(script.text).to.include("X-CSRFToken").and.include("withCredentials: true");
    const missing = await request(t.app).get("/ajax/docs/assets/index.html").expect(404);
    expect(missing.body.data.code).to.equal(404);
    for (const path of ["/ajax/openapi.json", "/ajax/docs"]) {
      const refused = await request(t.app).post(path).expect(405);
      expect(refused.headers.allow).to.equal("GET, HEAD");
      expect(refused.body).to.deep.equal({ success: false, data: { code: 405, message: "Method not allowed." } });
    }
  });
});
