import "reflect-metadata";
import { Agent, request } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { DataSource } from "typeorm";
import { createBlogApp } from "../app";
import { dataSourceOptions } from "../ormconfig";
import { hashPassword } from "../src/auth/passwords";
import { encodeCursor, keysetColumns } from "../src/model/cursor";
import { parseListQuery } from "../src/model/list";
import { createTestDatabase, type TestDatabaseKind } from "../test/support/databases";

/**
 * `npm run bench -- --scale [--sizes 10000,100000,1000000] [--databases sqlite,postgres] [--requests 200]`:
 * the example app seeded with bulk SQL at each size, then each request measured one at a time
 * (one connection, keep-alive): median and p99. Writes bench/results/<date>-scale.json.
 */

const USERS_PER_ARTICLE = 100;
const CATEGORIES = 50;
const TAGS = 500;
/** Drafts of the bench user with a 1 MB body each, written straight into the table as old data would be. */
const LONG_DRAFTS = 20;
const BENCH_PASSWORD = "bench-password";

interface Op { name: string; path: (n: number) => string; body: (n: number) => object; status?: number }

/** The page that offset paging reaches at a depth of 400,000 rows at a million articles (20 a page). */
const DEEP_PAGE = 20_000;

/** The deep page for a size: page 20,000, or the last full page where there are fewer rows. */
function deepPage(size: number): number {
  return Math.min(DEEP_PAGE, Math.floor((size * 0.9) / 20) - 1);
}

function operations(size: number, deepCursor: string): Op[] {
  const article = (i: number) => 1 + ((i * 7919) % size);
  const visible = (i: number) => { const id = article(i); return id % 10 === 0 ? id + 1 : id; };
  const list = "/ajax/blog/article/list.json";
  return [
    { name: "get", path: (i) => `/ajax/blog/article/${visible(i)}/get.json`, body: () => ({}) },
    { name: "list page 1 (with total)", path: () => list, body: () => ({}) },
    { name: "list page 1, count=none", path: () => list, body: () => ({ count: "none" }) },
    { name: "list page 200, count=none", path: () => list, body: () => ({ current_page: 200, count: "none" }) },
    { name: "list page 1 by cursor, count=none", path: () => list, body: () => ({ cursor: "", count: "none" }) },
    { name: "list deep page (20,000 at 1M) by offset, count=none", path: () => list, body: () => ({ current_page: deepPage(size), count: "none" }) },
    { name: "list deep page (20,000 at 1M) by cursor, count=none", path: () => list, body: () => ({ cursor: deepCursor, count: "none" }) },
    { name: "list by category, count=none", path: () => list, body: (i) => ({ filter: { category: 1 + (i % CATEGORIES) }, count: "none" }) },
    { name: "list by category (with total)", path: () => list, body: (i) => ({ filter: { category: 1 + (i % CATEGORIES) } }) },
    { name: "search one word, count=none", path: () => list, body: (i) => ({ search: `w${i % 1000}`, count: "none" }) },
    { name: "search two words, count=none", path: () => list, body: (i) => ({ search: `w${i % 1000} v${(i % 1000) + 1000}`, count: "none" }) },
    { name: "search one word (with total)", path: () => list, body: (i) => ({ search: `w${i % 1000}` }) },
    { name: "search a word of every row, count=none", path: () => list, body: () => ({ search: "lorem", count: "none" }) },
    { name: "similar", path: (i) => `/ajax/blog/article/${visible(i)}/tags/similar.json`, body: () => ({}) },
    { name: "attack: 999 a's and a b", path: () => list, body: () => ({ search: `${"a".repeat(999)} b` }), status: 400 },
    { name: "the attack's pattern, allowed: aaaa bbbb (1 MB bodies)", path: () => list, body: () => ({ search: "aaaa bbbb" }) },
  ];
}

/** Seeds articles 1..size (every 10th a draft), users, categories, tags and links, with bulk SQL. */
async function seed(dataSource: DataSource, kind: TestDatabaseKind, size: number): Promise<void> {
  const users = Math.max(1000, Math.floor(size / USERS_PER_ARTICLE));
  const hash = await hashPassword(BENCH_PASSWORD);
  const q = (sql: string, params: unknown[] = []) => dataSource.query(sql, params);
  const sqlite = kind === "sqlite";
  const series = (n: number) => sqlite ? `WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ${n}) ` : "";
  const from = (n: number) => sqlite ? "FROM seq" : `FROM generate_series(1, ${n}) AS seq(n)`;
  // PostgreSQL's text || integer and SQLite's || both make text: the same expression on both.
  const text = (sql: string) => sql;
  const time = (offset: string) => sqlite ? `strftime('%Y-%m-%d %H:%M:%f', '2025-01-01', '+' || (${offset}) || ' seconds')` : `timestamptz '2025-01-01 00:00:00+00' + (${offset}) * interval '1 second'`;
  const bool = (expression: string) => sqlite ? `CASE WHEN ${expression} THEN 1 ELSE 0 END` : `(${expression})`;
  const placeholders = (count: number) => Array.from({ length: count }, (_, i) => (sqlite ? "?" : `$${i + 1}`)).join(", ");
  await q(`INSERT INTO "user" (username, "passwordHash", email, "isStaff", "isActive") VALUES (${placeholders(5)})`, ["bench", hash, "", sqlite ? 0 : false, sqlite ? 1 : true]);
  await q(`${series(users - 1)}INSERT INTO "user" (username, "passwordHash", email) SELECT ${text("'user' || n")}, '!', '' ${from(users - 1)}`);
  await q(`${series(CATEGORIES)}INSERT INTO category (title) SELECT ${text("'Category ' || n")} ${from(CATEGORIES)}`);
  await q(`${series(TAGS)}INSERT INTO ajax_tag (name, slug) SELECT ${text("'tag-' || n")}, ${text("'tag-' || n")} ${from(TAGS)}`);
  const chunk = 100_000;
  for (let start = 0; start < size; start += chunk) {
    const count = Math.min(chunk, size - start);
    const n = `(n + ${start})`;
    await q(`${series(count)}INSERT INTO article (title, body, published, "categoryId", "authorId", "createdAt", "updatedAt", version)
      SELECT ${text(`'Article ' || ${n} || ' w' || (${n} % 1000)`)},
        ${text(`'lorem ipsum w' || (${n} % 1000) || ' v' || (${n} % 5000) || ' dolor sit amet, consectetur adipiscing elit'`)},
        ${bool(`${n} % 10 <> 0`)}, CASE WHEN ${n} % 97 = 0 THEN NULL ELSE 1 + ${n} % ${CATEGORIES} END,
        CASE WHEN ${n} % 500 = 0 THEN 1 ELSE 2 + ${n} % ${users - 1} END, ${time(n)}, ${time(n)}, 1 ${from(count)}`);
    await q(`${series(count)}INSERT INTO ajax_tagged_item ("tagId", model, "objectId")
      SELECT 1 + ${n} % ${TAGS}, 'article', ${n} ${from(count)} WHERE ${n} % 3 <> 0`);
    await q(`${series(count)}INSERT INTO ajax_tagged_item ("tagId", model, "objectId")
      SELECT 1 + (${n} * 7 + 1) % ${TAGS}, 'article', ${n} ${from(count)} WHERE ${n} % 3 = 1`);
  }
  const megabyte = "a".repeat(1_000_000);
  for (let i = 0; i < LONG_DRAFTS; i++) {
    // Old drafts: last in the default order, so list pages do not carry 20 MB of body.
    await q(`INSERT INTO article (title, body, published, "authorId", version, "createdAt", "updatedAt") VALUES (${placeholders(7)})`,
      [`long draft ${i}`, megabyte, sqlite ? 0 : false, 1, 1, sqlite ? "2024-01-01 00:00:00.000" : "2024-01-01T00:00:00Z", sqlite ? "2024-01-01 00:00:00.000" : "2024-01-01T00:00:00Z"]);
  }
  await q(sqlite ? "ANALYZE" : "VACUUM ANALYZE");
}

/** A browser with cookies over one keep-alive connection. */
class Browser {
  private cookies = new Map<string, string>();
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });
  constructor(private readonly port: number) {}

  send(method: string, path: string, body?: object): Promise<{ status: number; text: string }> {
    const payload = body ? JSON.stringify(body) : undefined;
    const headers: Record<string, string> = { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ") };
    if (payload) Object.assign(headers, { "content-type": "application/json", "content-length": String(Buffer.byteLength(payload)) });
    const token = this.cookies.get("csrftoken");
    if (token) headers["x-csrftoken"] = decodeURIComponent(token);
    return new Promise((done, fail) => {
      const call = request({ host: "127.0.0.1", port: this.port, method, path, headers, agent: this.agent }, (response) => {
        for (const cookie of ([] as string[]).concat(response.headers["set-cookie"] ?? [])) {
          const [pair] = cookie.split(";");
          const at = pair!.indexOf("=");
          this.cookies.set(pair!.slice(0, at), pair!.slice(at + 1));
        }
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => done({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      });
      call.on("error", fail);
      call.end(payload);
    });
  }

  close(): void { this.agent.destroy(); }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface Row { database: string; size: number; op: string; medianMs: number; p99Ms: number; requests: number }

async function measureSize(kind: TestDatabaseKind, size: number, requests: number, log: (line: string) => void): Promise<Row[]> {
  const database = await createTestDatabase(kind);
  const dataSource = new DataSource(dataSourceOptions(database.url, { statementTimeoutMs: 0 }));
  try {
    await dataSource.initialize();
    await dataSource.runMigrations({ transaction: "each" });
    let started = Date.now();
    await seed(dataSource, kind, size);
    log(`${kind} ${size.toLocaleString("en")}: seeded in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const { app, ajax } = createBlogApp(dataSource, { sessionSecret: "bench secret" });
    const server = app.listen(0, "127.0.0.1");
    await new Promise((done) => server.once("listening", done));
    const browser = new Browser((server.address() as AddressInfo).port);
    const rows: Row[] = [];
    try {
      await browser.send("GET", "/ajax/csrf.json");
      const login = await browser.send("POST", "/ajax/auth/login.json", { username: "bench", password: BENCH_PASSWORD });
      if (login.status !== 200) throw new Error(`login: ${login.status} ${login.text}`);
      // The cursor a client paging by keyset holds at the deep page: the last record before it, signed as the server signs.
      const before = await browser.send("POST", "/ajax/blog/article/list.json", { current_page: deepPage(size) - 1, count: "none" });
      const last = (JSON.parse(before.text).data as Array<{ id: number; createdAt: string }>).at(-1)!;
      const endpoint = ajax.registry.model("blog", "article")!;
      const query = parseListQuery(endpoint, { cursor: "", count: "none" }, false);
      const deepCursor = encodeCursor(endpoint, query, keysetColumns(endpoint, query), { id: last.id, createdAt: new Date(last.createdAt) }, endpoint.runtime.signingKey);
      const byOffset = await browser.send("POST", "/ajax/blog/article/list.json", { current_page: deepPage(size), count: "none" });
      const byCursor = await browser.send("POST", "/ajax/blog/article/list.json", { cursor: deepCursor, count: "none" });
      const ids = (text: string) => (JSON.parse(text).data as Array<{ id: number }>).map((record) => record.id).join(",");
      if (ids(byOffset.text) !== ids(byCursor.text)) throw new Error("the deep page by cursor is not the deep page by offset");
      for (const op of operations(size, deepCursor)) {
        const times: number[] = [];
        for (let i = 0; i < requests + 10; i++) {
          started = performance.now();
          const response = await browser.send("POST", op.path(i), op.body(i));
          const elapsed = performance.now() - started;
          if (response.status !== (op.status ?? 200)) throw new Error(`${op.name}: ${response.status} ${response.text.slice(0, 300)}`);
          if (i >= 10) times.push(elapsed);
        }
        times.sort((a, b) => a - b);
        const row = { database: kind, size, op: op.name, medianMs: +percentile(times, 50).toFixed(2), p99Ms: +percentile(times, 99).toFixed(2), requests };
        log(`  ${op.name.padEnd(40)} median ${row.medianMs.toFixed(2).padStart(8)} ms   p99 ${row.p99Ms.toFixed(2).padStart(8)} ms`);
        rows.push(row);
      }
    } finally {
      browser.close();
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
      await ajax.close();
    }
    return rows;
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await database.drop();
  }
}

/** Runs the scaling benchmark; the table goes to stdout and bench/results. */
export async function runScaleBenchmark(argv: string[], log: (line: string) => void): Promise<void> {
  const option = (name: string) => { const at = argv.indexOf(`--${name}`); return at >= 0 ? argv[at + 1] : undefined; };
  const sizes = (option("sizes") ?? "10000,100000,1000000").split(",").map(Number);
  const databases = (option("databases") ?? "sqlite").split(",") as TestDatabaseKind[];
  const requests = Number(option("requests") ?? 200);
  const rows: Row[] = [];
  for (const kind of databases) for (const size of sizes) rows.push(...await measureSize(kind, size, requests, log));
  const ops = [...new Set(rows.map((row) => row.op))];
  const columns = [...new Set(rows.map((row) => `${row.database} ${row.size.toLocaleString("en")}`))];
  const cell = (op: string, column: string) => {
    const row = rows.find((r) => r.op === op && `${r.database} ${r.size.toLocaleString("en")}` === column);
    return row ? `${row.medianMs} / ${row.p99Ms}` : "";
  };
  const table = [`| request (median / p99 ms) | ${columns.join(" | ")} |`, `|---|${columns.map(() => "---").join("|")}|`,
    ...ops.map((op) => `| ${op} | ${columns.map((column) => cell(op, column)).join(" | ")} |`)].join("\n");
  process.stdout.write(`${table}\n`);
  const dir = resolve(__dirname, "..", "..", "bench", "results");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${new Date().toISOString().slice(0, 10)}-scale-${databases.join("-")}-${sizes.map((size) => size / 1000).join("-")}k.json`);
  rmSync(file, { force: true });
  writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), sizes, databases, requests, rows }, null, 1)}\n`);
  log(`wrote ${file}`);
}
