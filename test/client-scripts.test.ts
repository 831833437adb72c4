import { expect } from "chai";
import express from "express";
import Joi from "joi";
import request from "supertest";
import vm from "node:vm";
import blog from "../endpoints/blog";
import { defineApp, describeRegistry, endpoint, escapeHtml, jsonForScript, ModelEndpoint, tags } from "../src";
import { Article } from "../entities";
import { startTestApp, type TestApp } from "./support/app";

/** Runs a served script in a bare sandbox that has only what the script may touch at load time. */
function runScript(source: string, sandbox: Record<string, unknown> = {}): Record<string, any> {
  const context: Record<string, any> = { ...sandbox };
  context.window = context;
  vm.runInNewContext(source, context);
  return context;
}

describe("jsonForScript and escapeHtml", () => {
  it("escapes <, >, &, U+2028 and U+2029 so JSON cannot break out of a <script>", () => {
    const value = { text: "</script><script>alert(1)</script> & <!-- \u2028 \u2029" };
    const json = jsonForScript(value);
    expect(json).to.not.match(/[<>&\u2028\u2029]/);
    expect(json).to.include("\\u003c/script\\u003e").and.include("\\u0026").and.include("\\u2028").and.include("\\u2029");
    // Still the same value, as JSON and as JavaScript source.
    expect(JSON.parse(json)).to.deep.equal(value);
    expect(vm.runInNewContext(`(${json})`)).to.deep.equal(value);
  });

  it("writes values JSON cannot hold as JSON.stringify does", () => {
    expect(jsonForScript(undefined)).to.equal("undefined");
    expect(jsonForScript(null)).to.equal("null");
    expect(jsonForScript("plain")).to.equal('"plain"');
  });

  it("escapeHtml makes user text inert in HTML and attributes", () => {
    expect(escapeHtml(`<img src=x onerror="a('b')">&`)).to.equal("&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt;&amp;");
  });
});

describe("GET /ajax/client.js and /ajax/interface.js", () => {
  let t: TestApp;
  class SecretishEndpoint extends ModelEndpoint<Article> {
    entity = Article;
    features = [tags()];
    recordOps = {
      publish: { params: Joi.object({ when: Joi.string().default("right-now-default"), notify: Joi.boolean() }), handler: () => "published" },
    };
    modelOps = {
      archive_all: { params: Joi.object({ before: Joi.number().default(424242) }), handler: () => "archived" },
      recount: { handler: () => 0 },
    };
  }
  const extra = defineApp("extra")
    .model("post", SecretishEndpoint)
    .endpoint("search", endpoint({ params: Joi.object({ q: Joi.string().default("DEFAULT_QUERY_VALUE"), limit: Joi.number().default(7) }) },
      (_req, ctx) => `SERVER_ONLY_SECRET ${String(ctx.params)}`))
    .endpoint("danger", endpoint({ params: Joi.object({ "</script>": Joi.string() }) }, () => "x"));

  before(async () => { t = await startTestApp({ ajax: { apps: [blog, extra] } }); });
  after(() => t.close());

  it("serves the client as JavaScript with the mount path written in", async () => {
    const response = await request(t.app).get("/ajax/client.js").expect(200);
    expect(response.headers["content-type"]).to.equal("application/javascript; charset=utf-8");
    expect(response.headers["x-content-type-options"]).to.equal("nosniff");
    expect(response.text).to.include('var MOUNT_PREFIX = "/ajax";');
    const window = runScript(response.text);
    expect(window.AJAX.prefix).to.equal("/ajax");
    for (const name of ["call", "stream", "upload", "formValues", "register", "addCommand", "registerType", "useDateType", "model", "defineInterface"]) {
      expect(window.AJAX[name], name).to.be.a("function");
    }
  });

  it("writes another mount path into the client when mounted elsewhere", async () => {
    const app = express();
    app.use("/api/v2/rpc", t.ajax.router);
    const response = await request(app).get("/api/v2/rpc/client.js").expect(200);
    expect(response.text).to.include('var MOUNT_PREFIX = "/api/v2/rpc";');
    expect(runScript(response.text).AJAX.prefix).to.equal("/api/v2/rpc");
  });

  it("answers other methods on the scripts with 405 and Allow: GET, HEAD", async () => {
    for (const path of ["/ajax/client.js", "/ajax/interface.js"]) {
      const response = await request(t.app).post(path).expect(405);
      expect(response.headers.allow).to.equal("GET, HEAD");
      expect(response.body).to.deep.equal({ success: false, data: { code: 405, message: "Method not allowed." } });
    }
    const head = await request(t.app).head("/ajax/client.js").expect(200);
    expect(head.headers["content-type"]).to.equal("application/javascript; charset=utf-8");
  });

  it("revalidates the scripts by ETag", async () => {
    const first = await request(t.app).get("/ajax/interface.js").expect(200);
    expect(first.headers["cache-control"]).to.equal("no-cache");
    expect(first.headers.etag).to.be.a("string");
    await request(t.app).get("/ajax/interface.js").set("If-None-Match", first.headers.etag!).expect(304);
  });

  it("describes every registered endpoint, model op and tag op by name", async () => {
    const response = await request(t.app).get("/ajax/interface.js").expect(200);
    expect(response.headers["content-type"]).to.equal("application/javascript; charset=utf-8");
    const description = describeRegistry(t.ajax.registry);
    expect(description.apps.blog!.countdown).to.deep.equal({ params: ["from", "delayMs"], stream: true });
    expect(description.apps.extra!.search).to.deep.equal({ params: ["q", "limit"], stream: false });
    expect(description.models.blog!.user!.ops).to.deep.equal(["get", "list"]);
    expect(description.models.extra!.post).to.deep.equal({
      ops: ["create", "get", "update", "delete", "list"], featureOps: ["tags/add", "tags/remove", "tags/set", "tags/clear", "tags/similar"],
      recordOps: { publish: { params: ["when", "notify"] } },
      modelOps: { archive_all: { params: ["before"] }, recount: { params: [] } },
    });
  });

  it("publishes names and parameter names only: no defaults, no server code", async () => {
    const text = (await request(t.app).get("/ajax/interface.js").expect(200)).text;
    for (const secret of ["DEFAULT_QUERY_VALUE", "right-now-default", "424242", "SERVER_ONLY_SECRET", "ctx.params", "handler", "=>", "Joi", "default"]) {
      expect(text, secret).to.not.include(secret);
    }
    // A parameter name is data too: escaped, it cannot close the script element.
    expect(text).to.not.include("</script>");
    expect(text).to.include("\\u003c/script\\u003e");
  });

  it("builds AJAX.apps and AJAX.models when run after the client", async () => {
    const client = (await request(t.app).get("/ajax/client.js")).text;
    const generated = (await request(t.app).get("/ajax/interface.js")).text;
    const window = runScript(client);
    vm.runInNewContext(generated, window);
    const { apps, models } = window.AJAX;
    expect(Object.keys(apps.blog)).to.include.members(["echo", "say_hi", "greet", "countdown", "upload"]);
    expect(apps.blog.countdown.params).to.deep.equal(["from", "delayMs"]);
    expect(apps.blog.countdown.stream).to.be.a("function");
    expect(apps.blog.say_hi.stream).to.equal(undefined);
    expect(Object.keys(models.blog)).to.have.members(["category", "article", "comment", "user"]);
    expect(Object.keys(models.blog.article)).to.include.members(["get", "list", "create", "update", "delete", "tags"]);
    expect(Object.keys(models.blog.article.tags)).to.have.members(["add", "remove", "set", "clear", "similar"]);
    expect(models.blog.category.tags, "no tags on a model without them").to.equal(undefined);
    expect(Object.keys(models.blog.user)).to.include.members(["get", "list"]).and.not.include.members(["create", "update", "delete"]);
    expect(models.extra.post.publish.params).to.deep.equal(["when", "notify"]);
    expect(models.extra.post.archive_all).to.be.a("function");
    expect(models.extra.post.recount).to.be.a("function");
  });

  it("interface.js loaded without the client fails with a clear message", async () => {
    const generated = (await request(t.app).get("/ajax/interface.js")).text;
    expect(() => runScript(generated)).to.throw(/load client\.js before interface\.js/);
  });
});
