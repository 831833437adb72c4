import { expect } from "chai";
import { readdirSync } from "node:fs";
import { connect } from "node:net";
import request from "supertest";
import { Client, loggedIn, startTestApp, type TestApp } from "./support/app";

/** Every error response is the JSON envelope, whatever went wrong. */
function expectErrorEnvelope(response: request.Response, status: number): void {
  expect(response.status).to.equal(status);
  expect(response.headers["content-type"]).to.equal("application/json; charset=utf-8");
  expect(response.body.success).to.equal(false);
  expect(response.body.data.code).to.equal(status);
  expect(response.body.data.message).to.be.a("string").and.not.empty;
}

describe("routing, methods and the envelope (CONTRACT.md §1-4)", () => {
  let t: TestApp;
  let alice: Client;
  before(async () => {
    t = await startTestApp();
    alice = await loggedIn(t.app, "alice");
  });
  after(() => t.close());

  it("answers success as {success, data}", async () => {
    const response = await alice.post("/ajax/blog/echo.json", { hello: "world" });
    expect(response.status).to.equal(200);
    expect(response.headers["content-type"]).to.equal("application/json; charset=utf-8");
    expect(response.body).to.deep.equal({ success: true, data: { hello: "world" } });
  });

  it("answers 405 with Allow: POST to any other method on an endpoint URL", async () => {
    for (const method of ["get", "put", "delete", "patch"] as const) {
      const response = await request(t.app)[method]("/ajax/blog/article/1/get.json");
      expectErrorEnvelope(response, 405);
      expect(response.headers.allow).to.equal("POST");
    }
  });

  it("answers 405 with Allow: GET, HEAD to other methods on the GET routes", async () => {
    const response = await alice.post("/ajax/csrf.json", {});
    expectErrorEnvelope(response, 405);
    expect(response.headers.allow).to.equal("GET, HEAD");
  });

  it("answers 404 in JSON for unknown apps, models, ops, names and malformed paths", async () => {
    const paths = [
      "/ajax/nope/thing.json", "/ajax/blog/nope.json", "/ajax/blog/article/1/nope.json", "/ajax/blog/article/nope.json",
      "/ajax/Blog/article/list.json", "/ajax/blog/article//get.json", "/ajax/blog/article/1/get", "/ajax/blog/constructor.json",
      "/ajax/blog/__proto__.json", "/ajax/blog/toString.json", "/ajax/blog/article/1/constructor.json", "/ajax/blog/hasOwnProperty.json",
      "/ajax/auth/nope.json", "/ajax/blog/category/1/tags/add.json", "/ajax/blog/article/1/tags/nope.json", "/ajax/x.json",
      "/ajax/blog/user.json", "/ajax/blog/user/1/update.json", "/ajax/blog/user/1/delete.json",
    ];
    for (const path of paths) expectErrorEnvelope(await alice.post(path, {}), 404);
    expectErrorEnvelope(await request(t.app).get("/ajax/whatever"), 404);
  });

  it("parses the pk by the key's type: anything but digits is a 404, not a 500", async () => {
    for (const pk of ["NaN", "1e309", "-0", "0x10", "1.5", "%00", "9".repeat(40), "%E2%82%AC", "1%2F2"]) {
      expectErrorEnvelope(await alice.post(`/ajax/blog/article/${pk}/get.json`, {}), 404);
    }
  });

  it("accepts form, JSON and multipart bodies, nesting form names as jQuery sends them", async () => {
    const form = await alice.post("/ajax/blog/echo.json", "a[b]=1&list[]=x&list[]=y&plain=text", { type: "form" });
    expect(form.body.data).to.deep.equal({ a: { b: "1" }, list: ["x", "y"], plain: "text" });
    const multipart = await alice.agent.post("/ajax/blog/echo.json").set("X-CSRFToken", alice.token!)
      .field("name", "one").field("tag", "a").field("tag", "b");
    expect(multipart.status).to.equal(200);
    expect(multipart.body.data).to.deep.equal({ name: "one", tag: ["a", "b"] });
  });

  it("answers 415 to other content types, 413 past the size limit, 400 to malformed JSON", async () => {
    const xml = await alice.agent.post("/ajax/blog/echo.json").set("X-CSRFToken", alice.token!)
      .set("Content-Type", "application/xml").send("<a/>");
    expectErrorEnvelope(xml, 415);
    const big = await alice.post("/ajax/blog/echo.json", { text: "x".repeat(1024 * 1024 + 10) });
    expectErrorEnvelope(big, 413);
    const broken = await alice.agent.post("/ajax/blog/echo.json").set("X-CSRFToken", alice.token!)
      .set("Content-Type", "application/json").send('{"a": ');
    expectErrorEnvelope(broken, 400);
    const array = await alice.post("/ajax/blog/echo.json", [1, 2]);
    expectErrorEnvelope(array, 400);
  });

  it("keeps __proto__, constructor and prototype keys out of objects, from JSON and forms", async () => {
    const json = await alice.agent.post("/ajax/blog/echo.json").set("X-CSRFToken", alice.token!)
      .set("Content-Type", "application/json").send('{"__proto__": {"polluted": true}, "a": {"constructor": {"prototype": {"x": 1}}}, "ok": 1}');
    expect(json.status).to.equal(200);
    expect(json.body.data).to.deep.equal({ a: {}, ok: 1 });
    const form = await alice.post("/ajax/blog/echo.json", "__proto__[polluted]=1&constructor[prototype][x]=1&ok=1", { type: "form" });
    expect(form.body.data).to.deep.equal({ ok: "1" });
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
  });

  it("rejects bodies nested deeper than the limit with 400", async () => {
    const deep = "[".repeat(10_000) + "]".repeat(10_000);
    const response = await alice.agent.post("/ajax/blog/echo.json").set("X-CSRFToken", alice.token!)
      .set("Content-Type", "application/json").send(`{"a": ${deep}}`);
    expectErrorEnvelope(response, 400);
  });

  it("gives errors as RFC 9457 problem+json when asked", async () => {
    const response = await alice.post("/ajax/blog/article.json", { title: "" , published: "maybe" }, { headers: { Accept: "application/problem+json" } });
    expect(response.status).to.equal(400);
    expect(response.headers["content-type"]).to.equal("application/problem+json; charset=utf-8");
    const problem = JSON.parse(response.text);
    expect(problem).to.include({ type: "about:blank", title: "Bad Request", status: 400 });
    expect(problem.detail).to.be.a("string");
    expect(problem.errors).to.deep.include({ detail: "Must be a valid boolean.", pointer: "/published" });
  });

  it("ad-hoc endpoints: login required is a 401 with WWW-Authenticate", async () => {
    const anonymous = new Client(t.app);
    const response = await anonymous.post("/ajax/blog/echo.json", { a: 1 });
    expectErrorEnvelope(response, 401);
    expect(response.headers["www-authenticate"]).to.match(/realm=/);
  });

  it("ad-hoc endpoints: a joi schema turns mismatches into 400 with errors", async () => {
    const response = await alice.post("/ajax/blog/countdown.json", { from: "many", extra: 1 });
    expectErrorEnvelope(response, 400);
    expect(response.body.errors).to.have.keys("from", "extra");
  });

  it("ad-hoc endpoints answer with data and queued commands", async () => {
    const response = await alice.post("/ajax/blog/say_hi.json");
    expect(response.body).to.deep.equal({ success: true, data: "hi", commands: [{ type: "alert", message: "Hi there!" }] });
  });

  it("a streaming endpoint answers all its values at once without text/event-stream", async () => {
    const response = await alice.post("/ajax/blog/countdown.json", { delayMs: 0 });
    expect(response.body.data).to.deep.equal([3, 2, 1]);
  });

  it("a streaming endpoint sends Server-Sent Events when asked", async () => {
    const response = await alice.agent.post("/ajax/blog/countdown.json").set("X-CSRFToken", alice.token!)
      .set("Accept", "text/event-stream").send({ delayMs: 0 });
    expect(response.headers["content-type"]).to.match(/^text\/event-stream/);
    const events = response.text.trim().split("\n\n").map((block) => {
      const [eventLine, dataLine] = block.split("\n");
      return { event: eventLine!.slice("event: ".length), data: JSON.parse(dataLine!.slice("data: ".length)) };
    });
    expect(events.map((e) => e.event)).to.deep.equal(["message", "message", "message", "end"]);
    expect(events.slice(0, 3).map((e) => e.data.data)).to.deep.equal([3, 2, 1]);
    expect(events[0]!.data.commands).to.deep.equal([{ type: "text", selector: "#countdown", text: "3" }]);
  });

  it("answers 415 to files sent to a route that takes none, and goes on serving", async () => {
    let call = new Client(t.app).agent.post("/ajax/auth/login.json");
    for (let i = 0; i < 12; i++) call = call.attach(`file${i}`, Buffer.from("x".repeat(1000)), `file${i}.txt`);
    const response = await call;
    expectErrorEnvelope(response, 415);
    // The writes the failure cut short must not end the process (an unhandled rejection would).
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await alice.post("/ajax/blog/say_hi.json")).status).to.equal(200);
  });

  it("closes the open files of uploads the client abandons mid-body", async () => {
    const server = t.app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    const { port } = server.address() as import("node:net").AddressInfo;
    const openFiles = () => readdirSync("/proc/self/fd").length;
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    try {
      const before = openFiles();
      for (let i = 0; i < 10; i++) {
        const socket = connect(port, "127.0.0.1");
        await new Promise((resolve) => socket.once("connect", resolve));
        socket.write("POST /ajax/blog/upload.json HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=cut\r\n"
          + "Content-Length: 100000\r\n\r\n--cut\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n\r\n" + "x".repeat(2000));
        await sleep(50);
        socket.destroy();
      }
      await sleep(300);
      expect(openFiles()).to.be.at.most(before + 2);
    } finally {
      server.close();
    }
  });

  it("upload: files with names, sizes and sha256", async () => {
    const response = await alice.agent.post("/ajax/blog/upload.json").set("X-CSRFToken", alice.token!)
      .field("note", "hi").attach("file", Buffer.from("hello world"), "hello.txt");
    expect(response.status).to.equal(200);
    expect(response.body.data.files).to.deep.equal([{
      field: "file", name: "hello.txt", size: 11, sha256: "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9",
    }]);
    expect(response.body.data.fields).to.deep.equal({ note: "hi" });
  });
});
