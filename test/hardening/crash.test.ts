import { expect } from "chai";
import { Agent } from "node:http";
import { DataSource } from "typeorm";
import { dataSourceOptions } from "../../ormconfig";
import { createTestDatabase, type TestDatabase, type TestDatabaseKind } from "../support/databases";
import { requireServices } from "../support/services";
import { startServerProcess, type ServerProcess } from "./process";
import { Caller, figures } from "./support";

/** What the server acknowledged with a 200: the article, its title and its tags, as last written. */
interface Acknowledged {
  id: number;
  title: string;
  tags: string[];
  version: number;
}

const WRITERS = 8;

/** One writer: creates articles with tags and rewrites them (title and tags together), until stopped. */
async function writer(index: number, bob: Caller, acknowledged: Map<number, Acknowledged>, stop: { now: boolean }): Promise<number> {
  let sent = 0;
  const mine: Acknowledged[] = [];
  for (let n = 0; !stop.now; n++) {
    try {
      sent++;
      if (mine.length > 0 && n % 3 === 2) {
        // An update: the title says which round it is, and so do the tags. Both or neither.
        const record = mine[n % mine.length]!;
        const round = record.version + 1;
        const title = `crash ${index}-${record.id} round ${round}`;
        const tags = [`round-${round}`, `w${index}`, "crash"];
        const reply = await bob.post(`/ajax/blog/article/${record.id}/update.json`, { title, tags, _version: record.version });
        if (reply.status === 200) {
          Object.assign(record, { title, tags, version: reply.json.data.version });
          acknowledged.set(record.id, { ...record });
        }
      } else {
        const title = `crash ${index}-${n} round 1`;
        const tags = ["round-1", `w${index}`, "crash"];
        const reply = await bob.post("/ajax/blog/article.json", { title, tags, body: "x".repeat(500), published: n % 2 === 0 });
        if (reply.status === 200) {
          const record = { id: reply.json.data.id, title, tags, version: reply.json.data.version };
          mine.push(record);
          acknowledged.set(record.id, { ...record });
        }
      }
    } catch {
      // The server died under this request: it was never acknowledged.
      if (stop.now) break;
    }
  }
  return sent;
}

for (const kind of ["sqlite", "postgres"] as TestDatabaseKind[]) describe(`hardening: crash safety, SIGKILL mid-write (${kind})`, function () {
  this.timeout(120_000);
  let db: TestDatabase;
  let server: ServerProcess | undefined;

  before(async function () {
    if (kind !== "sqlite") await requireServices(this, [kind]);
    db = await createTestDatabase(kind);
  });
  after(async () => {
    await server?.kill("SIGKILL");
    await db?.drop();
  });

  it("keeps every acknowledged write, whole (an article and its tags, a title and its tags), and an intact database", async () => {
    const acknowledged = new Map<number, Acknowledged>();
    const stop = { now: false };
    let sent = 0;
    for (let life = 0; life < 2; life++) {
      server = await startServerProcess(db.url);
      const agent = new Agent({ keepAlive: true, maxSockets: WRITERS });
      const bob = new Caller(server.base, agent, "bob");
      await bob.login("bob");
      stop.now = false;
      const writers = Array.from({ length: WRITERS }, (_, index) => writer(index + life * WRITERS, bob, acknowledged, stop));
      // Let it write for a while, then kill it in the middle of whatever it is doing.
      const before = acknowledged.size;
      const deadline = Date.now() + 20_000;
      while (acknowledged.size < before + 60 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      await server.kill("SIGKILL");
      stop.now = true;
      sent += (await Promise.all(writers)).reduce((a, b) => a + b, 0);
      agent.destroy();
    }
    expect(acknowledged.size, "writes acknowledged before the kills").to.be.at.least(40);

    // Restarted on the same database, the server shows every acknowledged write as it was acknowledged.
    server = await startServerProcess(db.url);
    const agent = new Agent({ keepAlive: true });
    const bob = new Caller(server.base, agent, "bob");
    await bob.login("bob");
    const lost: string[] = [];
    for (const record of acknowledged.values()) {
      const reply = await bob.post(`/ajax/blog/article/${record.id}/get.json`);
      if (reply.status !== 200) { lost.push(`${record.id}: ${reply.status}`); continue; }
      const data = reply.json.data;
      const tags = (data.tags as Array<{ name: string }>).map((tag) => tag.name).sort();
      // A later write may have committed without its answer reaching us: then it is whole and newer.
      if (data.version === record.version) {
        if (data.title !== record.title || JSON.stringify(tags) !== JSON.stringify([...record.tags].sort())) lost.push(`${record.id}: ${data.title} ${tags}`);
      } else if (data.version < record.version) {
        lost.push(`${record.id}: version ${data.version} < acknowledged ${record.version}`);
      }
    }
    agent.destroy();
    await server.kill("SIGTERM");
    server = undefined;

    // Straight from the database: no article without its tags, no title whose round differs from its tags'.
    const dataSource = new DataSource(dataSourceOptions(db.url));
    await dataSource.initialize();
    try {
      const e = (name: string) => dataSource.driver.escape(name);
      const rows: Array<{ id: number; title: string; names: string | null }> = await dataSource.query(
        `SELECT a.${e("id")} AS id, a.${e("title")} AS title, t.${e("name")} AS names FROM ${e("article")} a
         LEFT JOIN ${e("ajax_tagged_item")} l ON l.${e("objectId")} = a.${e("id")} AND l.${e("model")} = 'article'
         LEFT JOIN ${e("ajax_tag")} t ON t.${e("id")} = l.${e("tagId")} ORDER BY 1`);
      const byArticle = new Map<number, { title: string; tags: string[] }>();
      for (const row of rows) {
        const entry = byArticle.get(Number(row.id)) ?? { title: row.title, tags: [] };
        if (row.names) entry.tags.push(row.names);
        byArticle.set(Number(row.id), entry);
      }
      const halfWritten: string[] = [];
      for (const [id, { title, tags }] of byArticle) {
        const round = /round (\d+)$/.exec(title)?.[1];
        if (!round) continue;
        if (tags.length !== 3 || !tags.includes(`round-${round}`) || !tags.includes("crash")) halfWritten.push(`${id} "${title}": ${tags.join(",")}`);
      }
      expect(lost, "acknowledged writes lost or changed").to.deep.equal([]);
      expect(halfWritten, "half-written records").to.deep.equal([]);
      if (kind === "sqlite") {
        expect(await dataSource.query("PRAGMA integrity_check")).to.deep.equal([{ integrity_check: "ok" }]);
        expect(await dataSource.query("PRAGMA foreign_key_check")).to.deep.equal([]);
      } else {
        // Every index agrees with its table: a full scan and an index scan count the same.
        const [{ count: scanned }] = await dataSource.query(`SELECT count(*) AS count FROM ${e("ajax_tagged_item")}`);
        await dataSource.query("SET enable_seqscan = off");
        const [{ count: indexed }] = await dataSource.query(`SELECT count(*) AS count FROM ${e("ajax_tagged_item")} WHERE ${e("tagId")} > 0`);
        expect(Number(indexed)).to.equal(Number(scanned));
      }
      figures[`crash_${kind}`] = { requestsSent: sent, acknowledged: acknowledged.size, lost: lost.length, halfWritten: halfWritten.length, kills: 2 };
    } finally {
      await dataSource.destroy();
    }
  });
});
