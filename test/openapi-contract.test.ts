import { expect } from "chai";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { OpenApiDocument } from "../src";
import { startTestApp, type TestApp } from "./support/app";
import { CookieJar } from "./support/cookie-jar";
import { ContractChecker } from "./support/openapi-contract";

/**
 * The document cannot drift from the code: every documented route of the example app is
 * called over HTTP (as alice with realistic bodies, and into its documented errors), and each
 * answer must validate against the schema the document gives for its status.
 */
describe("OpenAPI contract: each documented route answers as documented", () => {
  let t: TestApp;
  let server: Server;
  let contract: ContractChecker;
  let alice: CookieJar;
  let baseUrl: string;

  before(async () => {
    t = await startTestApp();
    server = t.app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ajax`;
    baseUrl = base;
    const document = (await (await fetch(`${base}/openapi.json`)).json()) as OpenApiDocument;
    contract = new ContractChecker(document, base);
    alice = new CookieJar();
  });
  after(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await t?.close();
  });

  const ok = (response: { status: number; body: any }) => {
    expect(response.status, JSON.stringify(response.body)).to.equal(200);
    return response.body.data;
  };

  it("GET routes: the CSRF token, the scripts, the document and the docs page", async () => {
    ok(await contract.call(alice, "GET", "/csrf.json"));
    for (const path of ["/client.js", "/interface.js", "/openapi.json", "/docs"]) {
      expect((await contract.call(alice, "GET", path)).status).to.equal(200);
    }
  });

  it("auth: login, the current user, and the 401 of a stranger", async () => {
    expect(ok(await contract.call(alice, "POST", "/auth/login.json", { body: { username: "alice", password: "alice-password" } })))
      .to.deep.equal({ id: 1, username: "alice", isStaff: true });
    ok(await contract.call(alice, "POST", "/auth/user.json"));
    expect((await contract.call(new CookieJar(), "POST", "/auth/user.json")).status).to.equal(401);
    expect((await contract.call(new CookieJar(), "POST", "/auth/login.json", { body: { username: "alice", password: "wrong" } })).status).to.equal(401);
  });

  it("model ops: create, get, list, update, tags, similar and delete, as alice", async () => {
    const category = ok(await contract.call(alice, "POST", "/blog/category.json", { body: { title: "News", description: "What happened" } }));
    ok(await contract.call(alice, "POST", "/blog/category/{pk}/get.json", { pk: category.id }));
    ok(await contract.call(alice, "POST", "/blog/category/{pk}/update.json", { pk: category.id, body: { description: null } }));
    ok(await contract.call(alice, "POST", "/blog/category/list.json", { body: { order: "-title", filter: { title__icontains: "ew" } } }));

    const article = ok(await contract.call(alice, "POST", "/blog/article.json", {
      body: { title: "Hello", body: "First post", published: true, category: category.id, tags: "django, python" },
    }));
    expect(article.author).to.deep.equal({ id: 1, username: "alice", isStaff: true });
    const second = ok(await contract.call(alice, "POST", "/blog/article.json", { body: { title: "Draft", tags: ["python"] } }));
    ok(await contract.call(alice, "POST", "/blog/article/{pk}/get.json", { pk: article.id }));
    const page = await contract.call(alice, "POST", "/blog/article/list.json", {
      body: { current_page: 1, items_per_page: 10, order: "-createdAt,title", search: "post", filter: { published: true, tags__any: ["python"], author__in: [1] } },
    });
    expect(page.body.total).to.equal(1);
    const ranked = await contract.call(alice, "POST", "/blog/article/list.json", { body: { search: "first pos", order: "relevance,-createdAt", count: "none" } });
    expect(ranked.body.total).to.equal(null);
    ok(await contract.call(alice, "POST", "/blog/article/{pk}/update.json", { pk: article.id, body: { title: "Hello, world", _version: article.version } }));
    ok(await contract.call(alice, "POST", "/blog/article/{pk}/tags/add.json", { pk: article.id, body: { tags: ["web"] } }));
    ok(await contract.call(alice, "POST", "/blog/article/{pk}/tags/remove.json", { pk: article.id, body: { tags: "web" } }));
    ok(await contract.call(alice, "POST", "/blog/article/{pk}/tags/set.json", { pk: second.id, body: { tags: ["python", "draft"] } }));
    expect(ok(await contract.call(alice, "POST", "/blog/article/{pk}/tags/similar.json", { pk: article.id, body: { limit: 5 } })).map((a: any) => a.id))
      .to.deep.equal([second.id]);
    ok(await contract.call(alice, "POST", "/blog/article/{pk}/tags/clear.json", { pk: second.id }));

    const comment = ok(await contract.call(alice, "POST", "/blog/comment.json", { body: { article: article.id, body: "Nice" } }));
    expect(comment.article.author).to.deep.equal({ id: 1, username: "alice", isStaff: true });
    ok(await contract.call(alice, "POST", "/blog/comment/{pk}/get.json", { pk: comment.id }));
    ok(await contract.call(alice, "POST", "/blog/comment/list.json", { body: { filter: { article: article.id }, order: "-createdAt" } }));
    ok(await contract.call(alice, "POST", "/blog/comment/{pk}/update.json", { pk: comment.id, body: { body: "Very nice" } }));
    ok(await contract.call(alice, "POST", "/blog/comment/{pk}/delete.json", { pk: comment.id }));

    ok(await contract.call(alice, "POST", "/blog/user/list.json", { body: { filter: { username__startswith: "a" }, order: "username" } }));
    ok(await contract.call(alice, "POST", "/blog/user/{pk}/get.json", { pk: 2 }));

    const current = ok(await contract.call(alice, "POST", "/blog/article/{pk}/get.json", { pk: second.id }));
    ok(await contract.call(alice, "POST", "/blog/article/{pk}/delete.json", { pk: second.id, body: { _version: current.version } }));
    const doomed = ok(await contract.call(alice, "POST", "/blog/category.json", { body: { title: "Doomed" } }));
    ok(await contract.call(alice, "POST", "/blog/category/{pk}/delete.json", { pk: doomed.id }));
  });

  it("ad-hoc endpoints, with and without joi params, streaming ones included", async () => {
    expect(ok(await contract.call(alice, "POST", "/blog/echo.json", { body: { a: 1 } }))).to.deep.equal({ a: 1 });
    ok(await contract.call(alice, "POST", "/blog/say_hi.json"));
    ok(await contract.call(alice, "POST", "/blog/stats.json"));
    expect(ok(await contract.call(alice, "POST", "/blog/countdown.json", { body: { from: 2, delayMs: 0 } }))).to.deep.equal([2, 1]);
    ok(await contract.call(alice, "POST", "/blog/upload.json", { body: { note: "no files" } }));
    expect((await contract.call(alice, "POST", "/blog/countdown.json", { body: { from: 99 } })).status).to.equal(400);
  });

  it("documented errors: 400, 401, 403, 404, 409, 413, 415 and 429, in both error formats", async () => {
    const bob = new CookieJar();
    await contract.call(bob, "POST", "/auth/login.json", { body: { username: "bob", password: "bob-password" } });
    const article = ok(await contract.call(alice, "POST", "/blog/article.json", { body: { title: "Alice's", published: true } }));
    const statuses = async (...calls: Array<Promise<{ status: number }>>) => (await Promise.all(calls)).map((r) => r.status);
    expect(await statuses(
      contract.call(alice, "POST", "/blog/article.json", { body: { body: 5, nope: 1 } }),
      contract.call(alice, "POST", "/blog/article/list.json", { body: { filter: { body: "x" }, order: "version" } }),
      contract.call(new CookieJar(), "POST", "/blog/article/{pk}/get.json", { pk: article.id }),
      contract.call(bob, "POST", "/blog/article/{pk}/update.json", { pk: article.id, body: { title: "Bob's now", _version: article.version } }),
      contract.call(bob, "POST", "/blog/category.json", { body: { title: "Bob's" } }),
      contract.call(alice, "POST", "/blog/article/{pk}/get.json", { pk: article.id, headers: { "X-CSRFToken": "wrong" } }),
      contract.call(alice, "POST", "/blog/article/{pk}/get.json", { pk: 987654 }),
      contract.call(alice, "POST", "/blog/article/{pk}/get.json", { pk: 987654, headers: { Accept: "application/problem+json" } }),
      contract.call(alice, "POST", "/blog/article/{pk}/update.json", { pk: article.id, body: { title: "Stale", _version: article.version + 5 } }),
      contract.call(alice, "POST", "/blog/echo.json", { rawBody: JSON.stringify({ text: "x".repeat(1_100_000) }) }),
      contract.call(alice, "POST", "/blog/echo.json", { rawBody: "hello", headers: { "Content-Type": "text/plain" } }),
      contract.call(alice, "POST", "/blog/echo.json", { rawBody: "{not json", headers: { Accept: "application/problem+json" } }),
    )).to.deep.equal([400, 400, 401, 403, 403, 403, 404, 404, 409, 413, 415, 400]);

    const mallory = new CookieJar();
    let last = 0;
    for (let attempt = 0; attempt < 6; attempt++) {
      last = (await contract.call(mallory, "POST", "/auth/login.json", { body: { username: "mallory", password: "guess" } })).status;
    }
    expect(last).to.equal(429);
  });

  it("the checker refuses what the document does not allow: a hidden field, a missing one, an undocumented status", async () => {
    const user = ok(await contract.call(alice, "POST", "/blog/user/{pk}/get.json", { pk: 1 }));
    const answer = (data: unknown, status = 200) => ({ status, contentType: "application/json", body: { success: true, data }, headers: new Headers() });
    expect(() => contract.check("POST", "/blog/user/{pk}/get.json", answer({ ...user, passwordHash: "x" }))).to.throw(/additionalProperties/);
    expect(() => contract.check("POST", "/blog/user/{pk}/get.json", answer({ id: 1, username: "alice" }))).to.throw(/isStaff/);
    expect(() => contract.check("POST", "/blog/user/{pk}/get.json", answer({ ...user, id: "1" }))).to.throw(/integer/);
    expect(() => contract.check("GET", "/csrf.json", answer({ token: "x" }, 500))).to.throw(/does not document status 500/);
  });

  it("any other method on an endpoint is the documented 405", async () => {
    const response = await fetch(`${contract.baseUrl}/blog/echo.json`, { method: "GET" });
    expect(response.status).to.equal(405);
    expect(response.headers.get("allow")).to.equal("POST");
    contract.check("POST", "/blog/echo.json", { status: 405, contentType: "application/json", body: await response.json(), headers: response.headers });
  });

  it("the batch route and the change feeds answer as documented (docs/live.md)", async () => {
    const data = ok(await contract.call(alice, "POST", "/batch.json", { body: { ops: [
      { op: "blog/category", body: { title: "Batched for the contract" } },
      { op: "blog/article", body: { title: "In it", category: { $ref: "0.id" } } },
    ] } }));
    expect(data[1].category.id).to.equal(data[0].id);
    const failed = await contract.call(alice, "POST", "/batch.json", { body: { ops: [{ op: "blog/say_hi" }, { op: "blog/nothing" }] } });
    expect(failed.body.data).to.deep.equal({ code: 404, message: "Not found.", index: 1 });
    expect((await contract.call(alice, "POST", "/batch.json", { body: { ops: [] } })).status).to.equal(400);

    const feeds = contract.operations().filter((operation) => operation.startsWith("GET ") && operation.endsWith("/events"));
    expect(feeds).to.include("GET /blog/article/events");
    for (const operation of feeds) {
      const template = operation.slice(4);
      expect((await contract.call(new CookieJar(), "GET", template)).status, template).to.equal(401);
      const refused = await alice.fetch(`${baseUrl}${template}?filter[nope]=1`, { headers: { Accept: "application/json" } });
      expect(refused.status, template).to.equal(400);
      contract.check("GET", template, { status: 400, contentType: "application/json", body: await refused.json(), headers: refused.headers });
      // The stream itself: its first bytes, then the client goes away.
      const abort = new AbortController();
      const response = await alice.fetch(`${baseUrl}${template}`, { headers: { Accept: "text/event-stream" }, signal: abort.signal });
      const reader = response.body!.getReader();
      const first = new TextDecoder().decode((await reader.read()).value);
      abort.abort();
      expect(first).to.match(/^retry: \d+/);
      contract.check("GET", template, { status: response.status, contentType: "text/event-stream", body: first, headers: response.headers });
    }
  });

  it("every documented operation was exercised; one added later is at least called and checked", async () => {
    const anyRecord = ok(await contract.call(alice, "POST", "/blog/article.json", { body: { title: "For new ops" } }));
    for (const operation of contract.operations()) {
      if (contract.exercised.has(operation)) continue;
      const [method, template] = operation.split(" ") as ["GET" | "POST", string];
      await contract.call(alice, method, template, { pk: anyRecord.id });
    }
    ok(await contract.call(alice, "POST", "/auth/logout.json"));
    expect(contract.operations().filter((operation) => !contract.exercised.has(operation))).to.deep.equal([]);
  });
});
