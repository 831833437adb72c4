import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { expect } from "chai";
import { DataSource } from "typeorm";
import { migrations } from "../../ormconfig";
import { createTestDatabase, type TestDatabase } from "../support/databases";
import { CookieClient } from "../support/http";
import { REDIS_URL, requireServices } from "../support/services";

/** The compiled server and cluster entry points beside this compiled test. */
const ROOT = join(__dirname, "..", "..");
const SECRET = "one secret for every server";

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A server process: its output so far, and a way to stop it and wait for its exit. */
interface RunningProcess {
  child: ChildProcess;
  url: string;
  output(): string;
  exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

/** Runs `node <script>` with the environment given; resolves once it printed `ready` lines `count` times. */
async function startProcess(script: string, env: Record<string, string>, readyCount = 1): Promise<RunningProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(ROOT, script)], {
    env: { PATH: process.env.PATH ?? "", PORT: String(port), ...env }, stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start within 30s:\n${output}`)), 30_000);
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if ((output.match(/ajax-endpoints demo on/g) ?? []).length >= readyCount) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on("data", collect);
    child.stderr!.on("data", collect);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code} before it started:\n${output}`));
    });
  });
  return {
    child, url: `http://127.0.0.1:${port}`, exited, output: () => output,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}

describe("several server processes on one PostgreSQL database, sessions in Redis", function () {
  this.timeout(90_000);
  let database: TestDatabase;
  const running: RunningProcess[] = [];

  before(async function () {
    await requireServices(this, ["postgres", "redis"]);
    database = await createTestDatabase("postgres");
  });
  after(async () => {
    await Promise.all(running.map((server) => server.stop()));
    await database?.drop();
  });

  const env = () => ({ DATABASE_URL: database.url, REDIS_URL, SESSION_SECRET: SECRET });

  it("two servers starting at once migrate and seed once", async () => {
    running.push(...await Promise.all([startProcess("server.js", env()), startProcess("server.js", env())]));
    const check = new DataSource({ type: "postgres", url: database.url });
    await check.initialize();
    try {
      expect((await check.query("SELECT name FROM migrations")).map((row: { name: string }) => row.name))
        .to.deep.equal(migrations.map((migration) => migration.name));
      expect((await check.query(`SELECT username FROM "user" ORDER BY id`)).map((row: { username: string }) => row.username))
        .to.deep.equal(["alice", "bob"]);
    } finally {
      await check.destroy();
    }
  });

  it("a login through the first server creates, updates and reads through the second", async () => {
    const [first, second] = running as [RunningProcess, RunningProcess];
    const browser = new CookieClient();
    await browser.login(first.url, "bob");
    const created = await browser.post(second.url, "/ajax/blog/article.json", { title: "from the second server", published: true });
    expect(created.status, JSON.stringify(created.body)).to.equal(200);
    const { id, version } = created.body.data;
    expect(version).to.equal(1);
    const updated = await browser.post(second.url, `/ajax/blog/article/${id}/update.json`, { title: "updated on the second", _version: version });
    expect([updated.status, updated.body.data.version]).to.deep.equal([200, 2]);
    const stale = await browser.post(first.url, `/ajax/blog/article/${id}/update.json`, { title: "stale", _version: version });
    expect(stale.status).to.equal(409);
    for (const server of [first, second]) {
      const read = await browser.post(server.url, `/ajax/blog/article/${id}/get.json`);
      expect([read.body.data.title, read.body.data.author]).to.deep.equal(["updated on the second", { id: 2, username: "bob", isStaff: false }]);
    }
    expect((await browser.post(second.url, "/ajax/auth/logout.json")).status).to.equal(200);
    expect((await browser.post(first.url, "/ajax/auth/user.json")).status).to.equal(401);
  });

  it("stops on SIGTERM with exit code 0", async () => {
    const codes = await Promise.all(running.splice(0).map((server) => server.stop()));
    expect(codes).to.deep.equal([0, 0]);
  });

  it("npm run cluster: one port, several workers, migrations once in the primary", async () => {
    const cluster = await startProcess("cluster.js", { ...env(), WORKERS: "2" }, 2);
    running.push(cluster);
    expect(cluster.output()).to.match(/primary \d+ starting 2 worker\(s\)/);
    const browser = new CookieClient();
    await browser.login(cluster.url, "alice");
    // Connections are spread over the workers; every request must find the session and the data.
    const created = await browser.post(cluster.url, "/ajax/blog/article.json", { title: "on the cluster" });
    expect(created.status).to.equal(200);
    for (let request = 0; request < 20; request++) {
      const read = await browser.post(cluster.url, `/ajax/blog/article/${created.body.data.id}/get.json`);
      expect(read.status).to.equal(200);
    }
    await browser.post(cluster.url, "/ajax/auth/logout.json");
    running.splice(running.indexOf(cluster), 1);
    expect(await cluster.stop()).to.equal(0);
  });
});

describe("start-up with a database that cannot be reached", function () {
  this.timeout(30_000);

  for (const url of ["postgres://postgres@127.0.0.1:1/none", "mariadb://root@127.0.0.1:1/none", "postgres://postgres@localhost:1/none"]) {
    it(`fails at once with one clear line (${url})`, async () => {
      const child = spawn(process.execPath, [join(ROOT, "server.js")], {
        env: { PATH: process.env.PATH ?? "", DATABASE_URL: url, SESSION_SECRET: SECRET, PORT: String(await freePort()) },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => { stderr += chunk.toString(); });
      const started = Date.now();
      const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
      expect(code).to.equal(1);
      expect(Date.now() - started).to.be.below(10_000);
      const lines = stderr.trim().split("\n");
      expect(lines, stderr).to.have.length(1);
      expect(lines[0]).to.match(/^Cannot reach the database \((postgres|mariadb)\): .*ECONNREFUSED/);
    });
  }
});
