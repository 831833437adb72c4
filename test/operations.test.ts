import { spawn } from "node:child_process";
import { connect, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { expect } from "chai";
import express from "express";
import request from "supertest";
import { MissingPackageError, requestLog } from "../src";
import { requireOptional, resolveOptional } from "../src/optional";
import { Client, startTestApp, type TestApp } from "./support/app";
import { createTestDatabase, type TestDatabase } from "./support/databases";

describe("operations: GET /ajax/health.json", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  it("answers 200 when the database answers, with no session and no cookie", async () => {
    const response = await request(t.app).get("/ajax/health.json").expect(200);
    expect(response.headers["content-type"]).to.equal("application/json; charset=utf-8");
    expect(response.headers["set-cookie"]).to.equal(undefined);
    expect(response.body).to.deep.equal({ success: true, data: { status: "ok", checks: { database: "ok" } } });
  });

  it("is GET-only", async () => {
    const response = await request(t.app).post("/ajax/health.json").expect(405);
    expect(response.headers.allow).to.equal("GET, HEAD");
  });

  it("answers 503 with the error envelope and the checks when the database is gone", async () => {
    const other = await startTestApp();
    try {
      await other.dataSource.destroy();
      const response = await request(other.app).get("/ajax/health.json").expect(503);
      expect(response.body).to.deep.equal({
        success: false, data: { code: 503, message: "The service is temporarily unavailable.", checks: { database: "down" } },
      });
    } finally {
      await other.ajax.close();
      await other.database.drop();
    }
  });
});

describe("operations: the request log", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  it("logs method, path, status, time and user id: never a body, a cookie, a header or the query", async () => {
    const out = new PassThrough();
    let text = "";
    out.on("data", (chunk: Buffer) => { text += chunk.toString("utf8"); });
    const app = express();
    app.use(requestLog({ destination: out }));
    app.use("/ajax", t.ajax.router);
    const client = new Client(app);
    await client.login("alice");
    await client.post("/ajax/blog/echo.json?secret=query-secret", { note: "body-secret" }).then((r) => expect(r.status).to.equal(200));
    await client.post("/ajax/blog/nothing_here.json", {});
    const lines = text.trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    const echo = lines.find((line) => line.path === "/ajax/blog/echo.json")!;
    expect(echo).to.include({ method: "POST", status: 200, msg: "POST /ajax/blog/echo.json 200" });
    expect(echo.ms).to.be.a("number");
    expect(echo.userId).to.be.a("number");
    const missing = lines.find((line) => line.path === "/ajax/blog/nothing_here.json")!;
    expect(missing).to.include({ status: 404, level: 40 });
    for (const secret of ["body-secret", "query-secret", "sessionid", "csrftoken", "alice-password", client.token!]) {
      expect(text, secret).not.to.include(secret);
    }
  });
});

/** Runs the example server (`dist/server.js`) with an environment; resolves with its output once it exits. */
function runServer(env: Record<string, string>, whenListening?: (pid: number, port: number) => void) {
  const child = spawn(process.execPath, [join(__dirname, "..", "server.js")], {
    env: { ...process.env, SESSION_SECRET: "test secret", LOG_LEVEL: "", ...env }, stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString("utf8");
    if (whenListening && stdout.includes("ajax-endpoints demo on")) {
      const callback = whenListening;
      whenListening = undefined;
      callback(child.pid!, Number(/localhost:(\d+)/.exec(stdout)![1]));
    }
  });
  child.stderr.on("data", (chunk: Buffer) => { stderr += chunk.toString("utf8"); });
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("operations: the example server's start-up and shutdown", function () {
  this.timeout(30_000);
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
  });
  after(() => database.drop());

  it("an unknown DATABASE_URL scheme is one line on stderr and exit code 1, no stack trace", async () => {
    const { code, stderr } = await runServer({ DATABASE_URL: "mongodb://localhost/blog", PORT: "0" });
    expect(code).to.equal(1);
    expect(stderr.trim().split("\n").filter((line) => !line.startsWith("SESSION_SECRET"))).to.deep.equal([
      'Cannot use the database: DATABASE_URL "mongodb://localhost/blog" is not sqlite:<path>, postgres://..., mysql://... or mariadb://...',
    ]);
  });

  it("a port in use is one line, from the server and from the check `npm start` runs before building", async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, resolve));
    const port = String((taken.address() as { port: number }).port);
    try {
      const { code, stderr } = await runServer({ DATABASE_URL: database.url, PORT: port });
      expect(code).to.equal(1);
      expect(stderr.trim()).to.equal(`Port ${port} is in use: stop the other server or set PORT to a free port.`);
      const check = spawn(process.execPath, [join(__dirname, "..", "..", "scripts", "check-port.js")], { env: { ...process.env, PORT: port } });
      let checkErr = "";
      check.stderr.on("data", (chunk: Buffer) => { checkErr += chunk.toString("utf8"); });
      const checkCode = await new Promise((resolve) => check.on("exit", resolve));
      expect(checkCode).to.equal(1);
      expect(checkErr.trim()).to.equal(`Port ${port} is in use: stop the other server or set PORT to a free port.`);
    } finally {
      taken.close();
    }
  });

  it("SIGTERM says what it does, drains, closes and exits 0; a second signal exits at once", async () => {
    const graceful = await runServer({ DATABASE_URL: database.url, PORT: "0" }, (pid) => process.kill(pid, "SIGTERM"));
    expect(graceful.code).to.equal(0);
    expect(graceful.stdout).to.include("SIGTERM: no new connections; waiting up to 10 s for open requests (SIGTERM again exits at once).");
    expect(graceful.stdout).to.include("Requests drained; closing the session store and the database.\nStopped.");

    // A request whose headers never end keeps the drain waiting until the second signal.
    let open: Socket | undefined;
    const forced = await runServer({ DATABASE_URL: database.url, PORT: "0" }, (pid, port) => {
      open = connect(port, "127.0.0.1", () => {
        open!.write("GET /ajax/health.json HTTP/1.1\r\nHost: localhost\r\n");
        setTimeout(() => process.kill(pid, "SIGINT"), 100);
        setTimeout(() => process.kill(pid, "SIGINT"), 300);
      });
      open.on("error", () => {});
    });
    open?.destroy();
    expect(forced.code).to.equal(1);
    expect(forced.stdout).to.include("SIGINT: no new connections");
    expect(forced.stdout).to.include("SIGINT again: exiting now.");
    expect(forced.stdout).not.to.include("Stopped.");
  });
});

describe("operations: optional packages that are not installed", () => {
  it("are named, with the command that installs them, in one line", () => {
    const purpose = "The docs page (/docs)";
    for (const load of [() => requireOptional("no-such-package-ajax", purpose), () => resolveOptional("no-such-package-ajax", "package.json", purpose)]) {
      expect(load).to.throw(MissingPackageError,
        'ajax-endpoints: The docs page (/docs) needs the package "no-such-package-ajax", which is not installed: npm install no-such-package-ajax');
    }
  });

  it("a package that is installed loads", () => {
    expect(requireOptional<{ pinoHttp: unknown }>("pino-http", "requestLog()").pinoHttp).to.be.a("function");
    expect(resolveOptional("swagger-ui-dist", "package.json", "The docs page")).to.match(/swagger-ui-dist[\\/]package\.json$/);
  });
});
