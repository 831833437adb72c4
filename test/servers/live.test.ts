import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import type { TestDatabaseKind } from "../support/databases";
import { cookieHeader, EventReader } from "../support/events";
import { CookieClient, startTwoInstances, type TwoInstances } from "../support/http";
import { REDIS_URL, requireServices, type ServiceName } from "../support/services";

/**
 * A write on server A reaches a subscriber on server B, each server re-reading the record and
 * checking it for its own subscribers: over PostgreSQL's LISTEN/NOTIFY, and over Redis pub/sub
 * (here with SQLite and with MariaDB, which have no notifications of their own).
 */
const setups: Array<{ name: string; kind: TestDatabaseKind; services: ServiceName[]; redis: boolean; bus: string }> = [
  { name: "PostgreSQL LISTEN/NOTIFY", kind: "postgres", services: ["postgres"], redis: false, bus: "postgres" },
  { name: "Redis pub/sub, SQLite", kind: "sqlite", services: ["redis"], redis: true, bus: "redis" },
  { name: "Redis pub/sub, MariaDB", kind: "mariadb", services: ["mariadb", "redis"], redis: true, bus: "redis" },
];

for (const setup of setups) {
  describe(`the change feed across two servers: ${setup.name}`, () => {
    let instances: TwoInstances;
    const readers: EventReader[] = [];
    const channel = `ajax_live_test_${randomBytes(4).toString("hex")}`;

    before(async function () {
      await requireServices(this, setup.services);
      instances = await startTwoInstances({
        sessionSecret: "one secret for every server",
        ajax: { live: { channel, ...(setup.redis ? { redisUrl: REDIS_URL } : {}) } },
      }, setup.kind);
      await instances.t.ajax.live!.ready;
      await instances.secondAjax.live!.ready;
    });
    afterEach(() => { while (readers.length > 0) readers.pop()!.close(); });
    after(async () => { await instances?.close(); });

    it("uses the bus it should", () => {
      expect(instances.t.ajax.live!.bus.kind).to.equal(setup.bus);
      expect(instances.secondAjax.live!.bus.kind).to.equal(setup.bus);
    });

    it("delivers a write on A to B's subscribers as each of them may see it, and only after commit", async () => {
      const { first, second } = instances;
      const alice = new CookieClient();
      await alice.login(first.url, "alice");
      const bob = new CookieClient();
      await bob.login(second.url, "bob");
      const open = async (url: string, client: CookieClient) => {
        const reader = await EventReader.open(`${url}/ajax/blog/article/events`, cookieHeader(client.cookies));
        expect(reader.response.statusCode).to.equal(200);
        readers.push(reader);
        return reader;
      };
      const bobOnB = await open(second.url, bob);
      const aliceOnB = await open(second.url, alice);
      const aliceOnA = await open(first.url, alice);

      const draft = (await alice.post(first.url, "/ajax/blog/article.json", { title: "Draft on A", published: false })).body.data;
      const published = (await alice.post(first.url, "/ajax/blog/article.json", { title: "Published on A", published: true })).body.data;
      const failed = await alice.post(first.url, "/ajax/batch.json", { ops: [{ op: "blog/article", body: { title: "Rolled back" } }, { op: "blog/nothing" }] });
      expect(failed.status).to.equal(404);

      const seen = await bobOnB.next((e) => e.event === "created");
      expect(seen.data).to.deep.equal((await bob.post(second.url, `/ajax/blog/article/${published.id}/get.json`)).body.data);
      await aliceOnB.until(() => aliceOnB.events.length === 2, 5000, "both of alice's events on B");
      expect(aliceOnB.events.map((e) => e.data.id)).to.deep.equal([draft.id, published.id]);
      await aliceOnA.until(() => aliceOnA.events.length === 2, 5000, "both of alice's events on A");
      expect(aliceOnA.events.map((e) => e.id)).to.deep.equal(aliceOnB.events.map((e) => e.id));
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(bobOnB.events.map((e) => e.data.id)).to.deep.equal([published.id]);
      expect(JSON.stringify([bobOnB.events, aliceOnB.events])).not.to.include("Rolled back");

      const deleted = await alice.post(first.url, `/ajax/blog/article/${published.id}/delete.json`);
      expect(deleted.status).to.equal(200);
      expect((await bobOnB.next((e) => e.event === "deleted")).data).to.deep.equal({ pk: published.id });

      // B resumes a reader that reconnects to it with an id A assigned.
      bobOnB.close();
      const later = (await alice.post(first.url, "/ajax/blog/article.json", { title: "While away", published: true })).body.data;
      await aliceOnB.next((e) => e.data.id === later.id);
      const resumed = await EventReader.open(`${second.url}/ajax/blog/article/events`, cookieHeader(bob.cookies), { "Last-Event-ID": seen.id! });
      readers.push(resumed);
      await resumed.until(() => resumed.events.length === 2, 5000, "the missed events");
      expect(resumed.events.map((e) => [e.event, e.data.pk ?? e.data.id])).to.deep.equal([["deleted", published.id], ["created", later.id]]);
    });

    if (setup.bus === "postgres") {
      it("tells its subscribers to resync when the LISTEN connection is lost, and listens again", async () => {
        const { t, first, second } = instances;
        const bob = new CookieClient();
        await bob.login(first.url, "bob");
        const reader = await EventReader.open(`${first.url}/ajax/blog/article/events`, cookieHeader(bob.cookies));
        readers.push(reader);
        const database = new URL(t.database.url).pathname.slice(1);
        const killed = await t.dataSource.query(
          "SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE datname = $1 AND query LIKE 'LISTEN %'", [database]);
        expect(killed.length).to.equal(2);
        await reader.next((e) => e.event === "resync", 5000);
        // The resync comes once it listens again: a write on the other server now arrives.
        const alice = new CookieClient();
        await alice.login(second.url, "alice");
        const article = (await alice.post(second.url, "/ajax/blog/article.json", { title: "After the cut", published: true })).body.data;
        await reader.next((e) => e.event === "created" && e.data.id === article.id);
        expect(reader.events.some((e) => e.event === "created" && e.data.title === "After the cut")).to.equal(true);
      });
    }
  });
}

/** `npm run cluster` on SQLite without Redis: the primary passes each worker's notes to the others. */
describe("the change feed across the workers of a cluster (SQLite, no Redis)", () => {
  it("a feed on one worker hears of writes that land on any worker", async function () {
    this.timeout(60_000);
    const folder = mkdtempSync(join(tmpdir(), "ajax-live-cluster-"));
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, "127.0.0.1", () => {
        const { port: free } = probe.address() as AddressInfo;
        probe.close(() => resolve(free));
      });
    });
    const child = spawn(process.execPath, [join(__dirname, "..", "..", "cluster.js")], {
      env: { PATH: process.env.PATH ?? "", PORT: String(port), WORKERS: "2", DATABASE_URL: `sqlite:${join(folder, "cluster.sqlite")}`, SESSION_SECRET: "cluster secret" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const exited = new Promise((resolve) => child.once("exit", resolve));
    const readers: EventReader[] = [];
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the cluster did not start:\n${output}`)), 30_000);
        const collect = (chunk: Buffer) => {
          output += chunk.toString();
          if ((output.match(/ajax-endpoints demo on/g) ?? []).length >= 2) { clearTimeout(timer); resolve(); }
        };
        child.stdout!.on("data", collect);
        child.stderr!.on("data", collect);
      });
      const url = `http://127.0.0.1:${port}`;
      const alice = new CookieClient();
      await alice.login(url, "alice");
      // Feeds on new connections land on both workers; every one must hear of every write.
      for (let i = 0; i < 4; i++) readers.push(await EventReader.open(`${url}/ajax/blog/article/events`, cookieHeader(alice.cookies)));
      const pks: number[] = [];
      for (let i = 0; i < 6; i++) {
        const response = await fetch(`${url}/ajax/blog/article.json`, {
          method: "POST", headers: {
            "Content-Type": "application/json", Connection: "close", Cookie: cookieHeader(alice.cookies),
            "X-CSRFToken": decodeURIComponent(alice.cookies.get("csrftoken")!),
          },
          body: JSON.stringify({ title: `On some worker ${i}`, published: true }),
        });
        expect(response.status).to.equal(200);
        pks.push(((await response.json()) as { data: { id: number } }).data.id);
      }
      for (const reader of readers) {
        await reader.until(() => reader.events.length >= pks.length, 10_000, "every write's event");
        // Every write once; the order holds per worker only (the two workers' notes interleave as they arrive, docs/live.md).
        const ids = reader.events.map((e) => e.data.id as number);
        expect([...ids].sort((a, b) => a - b)).to.deep.equal([...pks].sort((a, b) => a - b));
      }
    } finally {
      for (const reader of readers) reader.close();
      child.kill("SIGTERM");
      await exited;
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
