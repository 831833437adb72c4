import { expect } from "chai";
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readlinkSync, rmSync, watch, type FSWatcher } from "node:fs";
import { Agent } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase, type TestDatabase } from "../support/databases";
import { freePort, startServerProcess, type ServerProcess } from "./process";
import { Caller, figures } from "./support";
import { fieldPart, filePart, multipartBody, postBytes, sendBytes, type WireReply } from "./wire";

const BOUNDARY = "survivalBoundary7";
const MULTIPART = `multipart/form-data; boundary=${BOUNDARY}`;

/** The answer is the JSON error envelope with this status. */
function expectEnvelope(reply: WireReply, status: number): void {
  expect(reply.status, reply.body).to.equal(status);
  expect(reply.headers["content-type"]).to.equal("application/json; charset=utf-8");
  const body = JSON.parse(reply.body);
  expect(body.success).to.equal(status < 400);
  if (status >= 400) expect(body.data.code).to.equal(status);
}

/**
 * The attacks that ended the process (issue 11), against the real server process: one
 * anonymous POST of about 150 bytes was enough. Each test ends by checking that the same
 * process still answers and that no upload was left on disk.
 */
describe("hardening: no request ends the process (server process, SQLite)", function () {
  this.timeout(120_000);
  let db: TestDatabase;
  let server: ServerProcess;
  let uploads: string;
  let alice: Caller;
  const agent = new Agent({ keepAlive: false });

  before(async () => {
    db = await createTestDatabase("sqlite");
    // The server's temporary folder is this test's own: what it writes there is what uploads wrote.
    uploads = mkdtempSync(join(tmpdir(), "ajax-survival-"));
    server = await startServerProcess(db.url, { TMPDIR: uploads });
    alice = new Caller(server.base, agent, "alice");
    await alice.login("alice");
  });
  after(async () => {
    await server?.kill("SIGTERM");
    await db?.drop();
    rmSync(uploads, { recursive: true, force: true });
  });

  /** The process is alive, answers, and has left nothing in its temporary folder. */
  async function stillServing(): Promise<void> {
    expect(server.child.exitCode, server.output()).to.equal(null);
    const reply = await sendBytes(server.port, Buffer.from("GET /ajax/csrf.json HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"));
    expectEnvelope(reply, 200);
    // No descriptor still open on an upload.
    const open = readdirSync(`/proc/${server.pid}/fd`).map((fd) => { try { return readlinkSync(`/proc/${server.pid}/fd/${fd}`); } catch { return ""; } });
    expect(open.filter((target) => target.startsWith(uploads))).to.deep.equal([]);
    // Temporary files go when their response has gone; give the removal a moment.
    for (let wait = 0; wait < 20 && readdirSync(uploads).length > 0; wait++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(readdirSync(uploads)).to.deep.equal([]);
  }

  const aliceHeaders = () => ({ Cookie: alice.cookieHeader()!, "X-CSRFToken": alice.token!, "Content-Type": MULTIPART });

  it("a multipart body cut off inside a file part: anonymous on any route, and logged in on the upload endpoint", async () => {
    const body = multipartBody(BOUNDARY, [fieldPart("name", "x"), filePart("file", "a.bin", Buffer.alloc(4000, 7))]);
    const cut = body.subarray(0, body.length - 2000);
    for (const path of ["/ajax/blog/say_hi.json", "/ajax/auth/login.json", "/ajax/blog/article.json"]) {
      const reply = await sendBytes(server.port, postBytes(path, { "Content-Type": MULTIPART }, cut));
      expect(reply.status, `${path}: ${reply.body}`).to.be.within(400, 499);
    }
    const reply = await sendBytes(server.port, postBytes("/ajax/blog/upload.json", aliceHeaders(), cut));
    expectEnvelope(reply, 400);
    await stillServing();
  });

  it("a field declared UTF-16LE holding a lone surrogate is a 400 naming the field", async () => {
    const body = multipartBody(BOUNDARY, [fieldPart("name", Buffer.from([0x00, 0xd8]), "text/plain; charset=utf-16le")]);
    const reply = await sendBytes(server.port, postBytes("/ajax/blog/say_hi.json", { ...aliceHeaders() }, body));
    expectEnvelope(reply, 400);
    expect(JSON.parse(reply.body).errors).to.have.property("name");
    const anonymous = await sendBytes(server.port, postBytes("/ajax/blog/say_hi.json", { "Content-Type": MULTIPART }, body));
    expect(anonymous.status).to.be.within(400, 403);
    await stillServing();
  });

  it("fields past the body limit are a 413 with the memory they cost bounded by that limit", async () => {
    const before = server.rss();
    const megabyte = "%".repeat(1024 * 1024);
    const body = multipartBody(BOUNDARY, Array.from({ length: 24 }, (_, index) => fieldPart(`f${index}`, megabyte)));
    const reply = await sendBytes(server.port, postBytes("/ajax/blog/say_hi.json", { "Content-Type": MULTIPART }, body));
    expectEnvelope(reply, 413);
    const grown = (server.rss() - before) / 1024 / 1024;
    figures.survivalFieldFloodRssMiB = Math.round(grown);
    expect(grown, "RSS growth in MiB").to.be.below(64);
    await stillServing();
  });

  it("an anonymous client cannot make the server write a file, on the upload endpoint or anywhere else", async () => {
    const created: string[] = [];
    const watcher: FSWatcher = watch(uploads, (_event, name) => { if (name) created.push(String(name)); });
    try {
      const nine = multipartBody(BOUNDARY, Array.from({ length: 9 }, (_, index) => filePart(`f${index}`, `${index}.bin`, Buffer.alloc(256 * 1024, index))));
      // No cookie, no token.
      const anonymous = await sendBytes(server.port, postBytes("/ajax/blog/upload.json", { "Content-Type": MULTIPART }, nine));
      expectEnvelope(anonymous, 403);
      // A token without its cookie, a csrf_token field after the files, and a logged-out caller with a good token.
      const visitor = new Caller(server.base, agent, "visitor");
      await visitor.csrf();
      const lateToken = multipartBody(BOUNDARY, [filePart("f", "a.bin", "data"), fieldPart("csrf_token", visitor.token!)]);
      expectEnvelope(await sendBytes(server.port, postBytes("/ajax/blog/upload.json", { "Content-Type": MULTIPART }, lateToken)), 403);
      const loggedOut = multipartBody(BOUNDARY, [fieldPart("csrf_token", visitor.token!), filePart("f", "a.bin", "data")]);
      expectEnvelope(await sendBytes(server.port, postBytes("/ajax/blog/upload.json", { "Content-Type": MULTIPART, Cookie: visitor.cookieHeader()! }, loggedOut)), 401);
      // Files to a route that takes none: refused before they are read, even for alice.
      expectEnvelope(await sendBytes(server.port, postBytes("/ajax/blog/say_hi.json", aliceHeaders(), nine)), 415);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(created, "entries created in the server's temporary folder").to.deep.equal([]);
    } finally {
      watcher.close();
    }
    // The same upload from alice, with the token as the first field of a plain form post, is written.
    const ok = multipartBody(BOUNDARY, [fieldPart("csrf_token", alice.token!), filePart("file", "a.txt", "hello")]);
    const reply = await sendBytes(server.port, postBytes("/ajax/blog/upload.json", { "Content-Type": MULTIPART, Cookie: alice.cookieHeader()! }, ok));
    expectEnvelope(reply, 200);
    expect(JSON.parse(reply.body).data.files).to.have.length(1);
    await stillServing();
  });

  it("a valid upload truncated at every byte answers each prefix with a JSON 4xx and leaves no file", async () => {
    const body = multipartBody(BOUNDARY, [
      fieldPart("title", "sé", "text/plain; charset=utf-8"),
      filePart("file", "a.txt", "hello, world"),
      fieldPart("tags[]", "x"),
    ]);
    let answered = 0;
    for (let length = 0; length < body.length; length++) {
      const reply = await sendBytes(server.port, postBytes("/ajax/blog/upload.json", aliceHeaders(), body.subarray(0, length)));
      // The closing boundary without its CRLF (or part of it) is still a whole body.
      if (length >= body.length - 2) expect(reply.status, reply.body).to.equal(200);
      else expect(reply.status, `prefix of ${length} bytes: ${reply.body}`).to.be.within(400, 499);
      expect(reply.headers["content-type"]).to.equal("application/json; charset=utf-8");
      answered++;
    }
    figures.survivalTruncations = answered;
    await stillServing();
  });

  it("a client that goes away mid-upload leaves no file and no open descriptor behind", async () => {
    const body = multipartBody(BOUNDARY, [filePart("file", "big.bin", Buffer.alloc(2 * 1024 * 1024, 1))]);
    // Claims the whole body, sends half, then the connection is cut.
    const half = postBytes("/ajax/blog/upload.json", aliceHeaders(), body.subarray(0, body.length / 2), body.length);
    await sendBytes(server.port, half, 300);
    await stillServing();
  });
});

describe("hardening: the cluster keeps serving when workers die (SQLite)", function () {
  this.timeout(120_000);

  it("replaces a worker killed after start-up, three kills in a row, and stops cleanly on SIGTERM", async () => {
    const db = await createTestDatabase("sqlite");
    const port = await freePort();
    const child = spawn(process.execPath, [join(__dirname, "..", "..", "cluster.js")], {
      env: { ...process.env, DATABASE_URL: db.url, PORT: String(port), SESSION_SECRET: "cluster secret", WORKERS: "2" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout!.on("data", (chunk: Buffer) => { output += chunk.toString(); });
    child.stderr!.on("data", (chunk: Buffer) => { output += chunk.toString(); });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const listening = () => [...output.matchAll(/worker (\d+) listening/g)].map((match) => Number(match[1]));
    const waitFor = async (what: string, test: () => boolean) => {
      for (let wait = 0; wait < 300 && !test(); wait++) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(test(), `${what}:\n${output}`).to.equal(true);
    };
    const answers = async () => (await sendBytes(port, Buffer.from("GET /ajax/csrf.json HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"))).status;
    try {
      await waitFor("two workers listening", () => listening().length >= 2);
      const killed: number[] = [];
      for (let kill = 0; kill < 3; kill++) {
        const alive = listening().filter((pid) => !killed.includes(pid));
        const victim = alive[0]!;
        process.kill(victim, "SIGKILL");
        killed.push(victim);
        await new Promise((resolve) => setTimeout(resolve, 700));
      }
      await waitFor("three replacements listening", () => listening().length >= 5);
      expect(child.exitCode, output).to.equal(null);
      for (let request = 0; request < 10; request++) expect(await answers()).to.equal(200);
      expect(output).to.match(/ended \(SIGKILL\); starting another in \d+ ms/);
    } finally {
      child.kill("SIGTERM");
      expect(await exited, output).to.equal(0);
      await db.drop();
    }
  });

  it("stops with an error when a worker cannot start at all, instead of forking forever", async () => {
    const db = await createTestDatabase("sqlite");
    const child = spawn(process.execPath, [join(__dirname, "..", "..", "cluster.js")], {
      // Port 99999 does not exist: every worker fails before it listens.
      env: { ...process.env, DATABASE_URL: db.url, PORT: "99999", SESSION_SECRET: "cluster secret", WORKERS: "2" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stderr!.on("data", (chunk: Buffer) => { output += chunk.toString(); });
    const code = await new Promise<number | null>((resolve) => child.once("exit", (exitCode) => resolve(exitCode)));
    await db.drop();
    expect(code, output).to.not.equal(0);
    expect(output).to.match(/could not start .*stopping the cluster/);
  });
});
