import { expect } from "chai";
import { Agent } from "node:http";
import { connect, type Socket } from "node:net";
import { createTestDatabase, type TestDatabase } from "../support/databases";
import { startServerProcess, type ServerProcess } from "./process";
import { Caller } from "./support";

/** Writes to a raw socket and collects what comes back until the server closes it. */
function rawExchange(port: number, chunks: Array<string | { wait: number }>, limitMs = 15_000): Promise<{ text: string; closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket: Socket = connect(port, "127.0.0.1");
    let text = "";
    let stopped = false;
    const timer = setTimeout(() => { stopped = true; socket.destroy(); reject(new Error(`still open after ${limitMs} ms; got ${text.slice(0, 200)}`)); }, limitMs);
    socket.on("data", (chunk) => { text += chunk.toString("utf8"); });
    socket.on("error", () => {});
    socket.on("close", () => { stopped = true; clearTimeout(timer); resolve({ text, closedAfterMs: Date.now() - started }); });
    socket.on("connect", async () => {
      for (const chunk of chunks) {
        if (stopped) return;
        if (typeof chunk === "string") socket.write(chunk);
        else await new Promise((r) => setTimeout(r, chunk.wait));
      }
    });
  });
}

/** A body that trickles: one byte every `everyMs`, far slower than the request timeout allows. */
function trickle(bytes: number, everyMs: number): Array<string | { wait: number }> {
  const out: Array<string | { wait: number }> = [];
  for (let i = 0; i < bytes; i++) out.push("x", { wait: everyMs });
  return out;
}

function statusAndBody(text: string): { status: number; body: any } {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
  const body = text.slice(text.indexOf("\r\n\r\n") + 4);
  let parsed: unknown;
  try { parsed = JSON.parse(body); } catch { parsed = undefined; }
  return { status, body: parsed };
}

describe("hardening: slow and malformed clients against the server process", function () {
  this.timeout(60_000);
  let db: TestDatabase;
  let server: ServerProcess;
  const REQUEST_MS = 2000;
  const HEADERS_MS = 1000;

  before(async () => {
    db = await createTestDatabase("sqlite");
    server = await startServerProcess(db.url, { REQUEST_TIMEOUT_MS: String(REQUEST_MS), HEADERS_TIMEOUT_MS: String(HEADERS_MS) });
  });
  after(async () => {
    await server?.kill("SIGTERM");
    await db?.drop();
  });

  it("cuts off a body that trickles in (slowloris) with a JSON 408 soon after the request timeout, and stays responsive meanwhile", async () => {
    const bob = new Caller(server.base, new Agent({ keepAlive: true }), "bob");
    await bob.login("bob");
    const head = `POST /ajax/blog/article.json HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Type: application/json\r\n` +
      `X-CSRFToken: ${bob.token}\r\nCookie: ${bob.cookieHeader()}\r\nContent-Length: 200\r\n\r\n{"title": "slow`;
    const slow = Array.from({ length: 20 }, () => rawExchange(server.port, [head, ...trickle(150, 100)]));
    // While twenty slow bodies hold connections, a normal request is answered at once.
    const started = Date.now();
    const quick = await bob.post("/ajax/blog/article/list.json");
    expect(quick.status).to.equal(200);
    expect(Date.now() - started).to.be.below(3000);
    for (const result of await Promise.all(slow)) {
      const { status, body } = statusAndBody(result.text);
      expect(status, result.text.slice(0, 200)).to.equal(408);
      expect(body).to.deep.equal({ success: false, data: { code: 408, message: "Request timeout." } });
      expect(result.closedAfterMs).to.be.within(REQUEST_MS - 200, REQUEST_MS + 2500);
    }
    // Nothing was written by the cut-off requests.
    const list = await bob.post("/ajax/blog/article/list.json", { filter: { title__startswith: "slow" } });
    expect(list.json.total).to.equal(0);
    bob.agent.destroy();
  });

  it("cuts off headers that trickle in, and idle connections that send nothing", async () => {
    const slowHeaders = rawExchange(server.port, ["POST /ajax/blog/echo.json HTTP/1.1\r\nHost: x\r\n", ...Array.from({ length: 40 }, () => ["X-A: b\r\n", { wait: 100 }]).flat()]);
    const idle = Array.from({ length: 50 }, () => rawExchange(server.port, []));
    const headers = await slowHeaders;
    expect(statusAndBody(headers.text).status).to.equal(408);
    expect(headers.closedAfterMs).to.be.below(HEADERS_MS + 2500);
    for (const result of await Promise.all(idle)) expect(result.closedAfterMs).to.be.below(HEADERS_MS + 2500);
  });

  it("answers a malformed request line and oversized headers with a JSON 400 and 431", async () => {
    const garbage = await rawExchange(server.port, ["GARBAGE / nonsense\r\n\r\n"]);
    expect(statusAndBody(garbage.text)).to.deep.equal({ status: 400, body: { success: false, data: { code: 400, message: "Malformed request." } } });
    const huge = await rawExchange(server.port, [`POST /ajax/blog/echo.json HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`]);
    expect(statusAndBody(huge.text)).to.deep.equal({ status: 431, body: { success: false, data: { code: 431, message: "Request headers too large." } } });
    // A HEAD request the parser refuses gets the headers of the answer and no body.
    const head = await rawExchange(server.port, ["HEAD /ajax/\u00e9t\u00e9.json HTTP/1.1\r\nHost: x\r\n\r\n"]);
    expect(head.text).to.match(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(head.text.endsWith("\r\n\r\n"), head.text).to.equal(true);
    const smuggle = await rawExchange(server.port, ["POST /ajax/blog/echo.json HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"]);
    expect(statusAndBody(smuggle.text).status).to.equal(400);
  });
});
