import { expect } from "chai";
import express, { type Request } from "express";
import request from "supertest";
import { ajax, AJAXError } from "../src";
import { Client, startTestApp, type TestApp } from "./support/app";

describe("ajax(): any Express route as a JSON view (django-ajaxutils' @ajax)", () => {
  let t: TestApp;
  const reported: unknown[] = [];
  before(async () => {
    t = await startTestApp();
    const app = t.app;
    const username = (req: Request) => (req.user as { username: string }).username;
    app.get("/views/whoami.json", ...t.ajax.session, ajax({ loginRequired: true, methods: ["GET"] }, (req) => ({ user: username(req) })));
    app.all("/views/submit.json", ...t.ajax.session, express.json(), ajax({ methods: ["post"] }, (req) => ({ got: req.body })));
    app.get("/views/plain.json", ajax(() => ({ status: "pending" })));
    app.get("/views/accepted.json", ajax(async () => [{ queued: true }, 202]));
    app.get("/views/empty.json", ajax(() => [null, 204]));
    app.get("/views/pair.json", ajax(() => ["a", "b"]));
    app.get("/views/teapot.json", ajax(() => ["I am a teapot.", 418]));
    app.get("/views/invalid.json", ajax(() => [{ message: "Check the form.", errors: { name: ["Too short."] } }, 400]));
    app.get("/views/conflict.json", ajax(() => { throw new AJAXError(409, "Busy.", { headers: { "Retry-After": "5" } }); }));
    app.get("/views/crash.json", ajax({ onError: (error) => reported.push(error) }, () => { throw new Error("secret detail"); }));
    app.get("/views/own.json", ajax((_req, res) => { res.status(200).type("text/plain").send("raw"); return "ignored"; }));
    app.post("/views/no-csrf.json", ajax({ csrf: false }, () => "open"));
  });
  after(() => t.close());

  it("answers the return value in the success envelope", async () => {
    const response = await request(t.app).get("/views/plain.json").expect(200);
    expect(response.headers["content-type"]).to.equal("application/json; charset=utf-8");
    expect(response.body).to.deep.equal({ success: true, data: { status: "pending" } });
  });

  it("loginRequired: 401 with WWW-Authenticate for anonymous callers, the data for a session user", async () => {
    const anonymous = await request(t.app).get("/views/whoami.json").expect(401);
    expect(anonymous.headers["www-authenticate"]).to.match(/realm=/);
    expect(anonymous.body).to.deep.equal({ success: false, data: { code: 401, message: "Authentication credentials were not provided." } });
    const alice = new Client(t.app);
    await alice.login("alice");
    const response = await alice.agent.get("/views/whoami.json").expect(200);
    expect(response.body.data).to.deep.equal({ user: "alice" });
  });

  it("methods: 405 with Allow for any other method; GET allows HEAD", async () => {
    const alice = new Client(t.app);
    await alice.login("alice");
    const put = await alice.agent.put("/views/submit.json").expect(405);
    expect(put.headers.allow).to.equal("POST");
    expect(put.body).to.deep.equal({ success: false, data: { code: 405, message: "Method not allowed." } });
    await request(t.app).head("/views/whoami.json").expect(401);
  });

  it("unsafe methods need the session's CSRF token, as under the router", async () => {
    const client = new Client(t.app);
    await client.csrf();
    const refused = await client.agent.post("/views/submit.json").send({ a: 1 }).expect(403);
    expect(refused.body.data.message).to.equal("CSRF token missing or incorrect.");
    const accepted = await client.post("/views/submit.json", { a: 1 });
    expect(accepted.status).to.equal(200);
    expect(accepted.body.data).to.deep.equal({ got: { a: 1 } });
    // No body parser and no session before the wrapper: still a clean 403, never a crash.
    await request(t.app).post("/views/no-csrf.json").expect(200);
  });

  it("[data, status] sets the status; 204 has no body; a two-item array without a status is data", async () => {
    expect((await request(t.app).get("/views/accepted.json").expect(202)).body).to.deep.equal({ success: true, data: { queued: true } });
    expect((await request(t.app).get("/views/empty.json").expect(204)).text).to.equal("");
    expect((await request(t.app).get("/views/pair.json").expect(200)).body.data).to.deep.equal(["a", "b"]);
  });

  it("[message, 4xx] and [{message, errors}, 4xx] answer the error envelope", async () => {
    expect((await request(t.app).get("/views/teapot.json").expect(418)).body).to.deep.equal({ success: false, data: { code: 418, message: "I am a teapot." } });
    expect((await request(t.app).get("/views/invalid.json").expect(400)).body).to.deep.equal({
      success: false, data: { code: 400, message: "Check the form." }, errors: { name: ["Too short."] },
    });
  });

  it("a thrown AJAXError is the error envelope with its headers; a crash is a 500 without details", async () => {
    const conflict = await request(t.app).get("/views/conflict.json").expect(409);
    expect(conflict.headers["retry-after"]).to.equal("5");
    expect(conflict.body).to.deep.equal({ success: false, data: { code: 409, message: "Busy." } });
    const crash = await request(t.app).get("/views/crash.json").expect(500);
    expect(crash.body).to.deep.equal({ success: false, data: { code: 500, message: "Internal server error." } });
    expect(crash.text).to.not.include("secret detail");
    expect(reported).to.have.length(1);
  });

  it("a handler that writes its own response is left alone", async () => {
    const response = await request(t.app).get("/views/own.json").expect(200);
    expect(response.text).to.equal("raw");
  });

  it("asks for a handler", () => {
    expect(() => ajax({} as never, undefined as never)).to.throw(/needs a handler/);
  });
});
