import { expect } from "chai";
import { existsSync } from "node:fs";
import { dirname } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import blog from "../endpoints/blog";
import { Client, startTestApp, type TestApp } from "./support/app";
import { createLabApp, probe } from "./support/lab";

describe("uploads (multipart bodies)", () => {
  let t: TestApp;
  let client: Client;
  before(async () => {
    t = await startTestApp({ ajax: { apps: [blog, createLabApp()], limits: { fileBytes: 1024, files: 2, fields: 20 } } });
    client = new Client(t.app);
    await client.csrf();
  });
  after(() => t.close());
  beforeEach(() => probe.reset());

  const upload = () => client.agent.post("/ajax/lab/files.json").set("X-CSRFToken", client.token!);

  it("gives the endpoint its files and its form values, repeated fields as arrays, nested names nested", async () => {
    const response = await upload()
      .field("tag", "a").field("tag", "b").field("profile[name]", "Ada").field("single", "one")
      .attach("doc", Buffer.from("x".repeat(100)), "notes.txt")
      .attach("doc", Buffer.from("y".repeat(10)), "more.txt");
    expect(response.status).to.equal(200);
    expect(response.body.data.fields).to.deep.equal({ tag: ["a", "b"], profile: { name: "Ada" }, single: "one" });
    expect(response.body.data.files).to.deep.equal([
      { field: "doc", name: "notes.txt", size: 100 },
      { field: "doc", name: "more.txt", size: 10 },
    ]);
  });

  it("removes the temporary files once the response is sent", async () => {
    await upload().attach("doc", Buffer.from("temporary"), "t.txt").expect(200);
    expect(probe.uploadedPaths).to.have.length(1);
    const [path] = probe.uploadedPaths as [string];
    const deadline = Date.now() + 2000;
    while ((existsSync(path) || existsSync(dirname(path))) && Date.now() < deadline) await sleep(10);
    expect(existsSync(path), path).to.equal(false);
    expect(existsSync(dirname(path)), dirname(path)).to.equal(false);
  });

  it("answers 413 in JSON to a file over the size limit", async () => {
    const response = await upload().attach("doc", Buffer.alloc(4096, 1), "big.bin");
    expect(response.status).to.equal(413);
    expect(response.headers["content-type"]).to.equal("application/json; charset=utf-8");
    expect(response.body.success).to.equal(false);
    expect(response.body.data).to.deep.equal({ code: 413, message: "File too large (at most 1024 bytes)." });
    expect(probe.uploadedPaths, "the endpoint never ran").to.deep.equal([]);
  });

  it("answers 413 to more files than allowed, and to too many fields", async () => {
    let call = upload();
    for (let i = 0; i < 3; i++) call = call.attach("doc", Buffer.from(`file ${i}`), `f${i}.txt`);
    const files = await call;
    expect(files.status).to.equal(413);
    expect(files.body.data.message).to.equal("Too many files (at most 2).");

    let fields = upload();
    for (let i = 0; i < 25; i++) fields = fields.field(`f${i}`, "v");
    const tooMany = await fields;
    expect(tooMany.status).to.equal(413);
    expect(tooMany.body.success).to.equal(false);
  });

  it("a malformed multipart body is a 400, not a 500", async () => {
    const response = await client.agent.post("/ajax/lab/files.json").set("X-CSRFToken", client.token!)
      .set("Content-Type", "multipart/form-data; boundary=abc").send("--abc\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nunterminated");
    expect(response.status).to.equal(400);
    expect(response.body.data.code).to.equal(400);
  });
});
