import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, readdirSync, mkdirSync, writeFileSync, renameSync } from "node:fs";
import { cpus } from "node:os";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import {
  dropPostgresCopy, ensureSeeded, ensureSeededPostgres, freshCopy, freshPostgresCopy, POSTGRES_ADMIN_URL, removeDatabase, visiblePostgresPks, BENCH_USER,
} from "./seed";
import { Client } from "./pg";
import { runScaleBenchmark } from "./scale";
import {
  CEILING, createRequest, getRequest, listRequest, OPS, randomCategory, SERVERS, serversOn, UPDATABLE, updateRequest,
  type DatabaseKind, type HttpRequest, type OpName, type ServerSpec,
} from "./workloads";

// autocannon ships no types; the few fields used here.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require("autocannon") as (options: object) => Promise<AutocannonResult>;
interface AutocannonResult {
  duration: number;
  requests: { total: number };
  latency: { p99: number; p50: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}

// ---- options -------------------------------------------------------------------------

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
const option = (name: string) => {
  const index = argv.indexOf(`--${name}`);
  return index >= 0 ? argv[index + 1] : undefined;
};
const quick = flag("quick");
const databaseKind = (option("db") ?? "sqlite") as DatabaseKind;
if (databaseKind !== "sqlite" && databaseKind !== "postgres") throw new Error(`--db ${databaseKind}: use sqlite (the default) or postgres`);
const soakSeconds = option("soak") !== undefined ? Number(option("soak")) : 0;
const settings = {
  rounds: Number(option("rounds") ?? (quick ? 2 : 3)),
  warmupSeconds: Number(option("warmup") ?? (quick ? 0.5 : 2)),
  durationSeconds: Number(option("duration") ?? (quick ? 1 : 8)),
  connections: 10,
  ops: (option("ops")?.split(",") ?? OPS) as OpName[],
  servers: option("servers")?.split(",") ?? serversOn(databaseKind).map((s) => s.key),
  database: databaseKind,
};
const DIST_BENCH = __dirname;
const REPO = resolve(__dirname, "..", "..");
const log = (line: string) => process.stderr.write(`${line}\n`);

// ---- databases -------------------------------------------------------------------------

/**
 * Where the servers' data comes from: a SQLite file copied per server run, or the PostgreSQL
 * database `ajax_bench` copied per server run with `CREATE DATABASE ... TEMPLATE`. A server
 * gets the copy as `--db <file>` or `--db postgres://...`.
 */
interface Backend {
  /** Seeds once (reused while the seed key holds); answers the pks the bench user may see. */
  prepare(): Promise<number[]>;
  copy(name: string): Promise<string>;
  remove(db: string): Promise<void>;
  version(): Promise<string>;
}

function sqliteBackend(): Backend {
  let seeded = "";
  return {
    prepare: async () => { seeded = await ensureSeeded(log); return visiblePks(seeded); },
    copy: async (name) => freshCopy(seeded, name),
    remove: async (db) => removeDatabase(db),
    version: async () => {
      const memory = new Database(":memory:");
      try { return `SQLite ${(memory.prepare("SELECT sqlite_version() AS v").get() as { v: string }).v}`; } finally { memory.close(); }
    },
  };
}

function postgresBackend(): Backend {
  return {
    prepare: async () => visiblePostgresPks(await ensureSeededPostgres(log)),
    copy: (name) => freshPostgresCopy(name),
    remove: (db) => dropPostgresCopy(db),
    version: async () => {
      const client = new Client({ connectionString: POSTGRES_ADMIN_URL });
      await client.connect();
      try { return `PostgreSQL ${(await client.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v}`; } finally { await client.end(); }
    },
  };
}
const backend = databaseKind === "postgres" ? postgresBackend() : sqliteBackend();

// ---- server processes ----------------------------------------------------------------

interface RunningServer {
  spec: ServerSpec;
  child: ChildProcess;
  port: number;
  db: string;
  headers: Record<string, string>;
  ipc<T>(type: string): Promise<T>;
  stop(): Promise<void>;
}

async function startServer(spec: ServerSpec, db: string): Promise<RunningServer> {
  // BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the servers.
  const nodeArgs = process.env.BENCH_NODE_ARGS?.split(" ").filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, join(DIST_BENCH, spec.script), "--db", db, ...(spec.args ?? [])], {
    stdio: ["ignore", "inherit", "inherit", "ipc"], env: { ...process.env, NODE_ENV: "production" },
  });
  const pending = new Map<number, (message: any) => void>();
  let nextId = 1;
  const port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => reject(new Error(`${spec.key} did not start in 30 s`)), 30_000);
    child.on("exit", (code) => reject(new Error(`${spec.key} exited with ${code} before it was ready`)));
    child.on("message", (message: any) => {
      if (message.type === "ready") { clearTimeout(timer); resolvePort(message.port); }
      else pending.get(message.id)?.(message);
    });
  });
  const server: RunningServer = {
    spec, child, port, db, headers: {},
    ipc: <T>(type: string) => new Promise<T>((done) => {
      const id = nextId++;
      pending.set(id, (message) => { pending.delete(id); done(message as T); });
      child.send({ type, id });
    }),
    stop: () => new Promise<void>((done) => {
      if (child.exitCode !== null) return done();
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      child.once("exit", () => { clearTimeout(timer); done(); });
      child.send({ type: "stop" });
    }),
  };
  if (spec.session) server.headers = await logIn(port);
  server.headers["content-type"] = "application/json";
  return server;
}

function cookiesOf(response: Response, jar: Map<string, string>): void {
  for (const line of response.headers.getSetCookie()) {
    const [pair] = line.split(";");
    const eq = pair!.indexOf("=");
    jar.set(pair!.slice(0, eq), pair!.slice(eq + 1));
  }
}

/** GET the CSRF token, log in as the bench user, answer the headers a logged-in page sends. */
async function logIn(port: number): Promise<Record<string, string>> {
  const jar = new Map<string, string>();
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
  const first = await fetch(`http://127.0.0.1:${port}/ajax/csrf.json`);
  cookiesOf(first, jar);
  const token = ((await first.json()) as { data: { token: string } }).data.token;
  const login = await fetch(`http://127.0.0.1:${port}/ajax/auth/login.json`, {
    method: "POST", headers: { "content-type": "application/json", "x-csrftoken": token, cookie: cookie() },
    body: JSON.stringify({ username: BENCH_USER.username, password: BENCH_USER.password }),
  });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${await login.text()}`);
  cookiesOf(login, jar);
  await login.arrayBuffer();
  return { cookie: cookie(), "x-csrftoken": decodeURIComponent(jar.get("csrftoken")!) };
}

async function send(server: RunningServer, request: HttpRequest): Promise<{ status: number; text: string }> {
  const response = await fetch(`http://127.0.0.1:${server.port}${request.path}`, {
    method: request.method, headers: server.headers, body: request.body,
  });
  return { status: response.status, text: await response.text() };
}

// ---- /proc readings --------------------------------------------------------------------

const CLOCK_TICKS = 100;
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}
/**
 * CPU seconds of the PostgreSQL backends serving database `db` (a postgres:// URL), by pid:
 * their process titles read `postgres: <user> <database> <client> <state>`. The database
 * server runs on the same cores, so its work per request is part of what a server costs.
 */
function databaseCpuSeconds(db: string): Map<number, number> {
  const byPid = new Map<number, number>();
  const title = ` ${new URL(db).pathname.slice(1)} `;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (cmdline.startsWith("postgres: ") && cmdline.includes(title)) byPid.set(Number(entry), cpuSeconds(Number(entry)));
    } catch {
      // The process ended while the list was read.
    }
  }
  return byPid;
}
/** Backend CPU between two readings; a backend that started in between counts from zero. */
function databaseCpuSince(before: Map<number, number>, db: string): number {
  let seconds = 0;
  for (const [pid, now] of databaseCpuSeconds(db)) seconds += now - (before.get(pid) ?? 0);
  return seconds;
}
function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

// ---- workloads -------------------------------------------------------------------------

/** Per server and round: who the next create and update are, and the versions of the rows being updated. */
class WorkloadState {
  createCounter = 0;
  updateCounter = 0;
  readonly versions = new Map<number, number>(UPDATABLE.map((pk) => [pk, 1]));
  private readonly free = [...UPDATABLE];
  readonly inFlight = new Set<number>();
  constructor(readonly visiblePks: number[]) {}

  takeUpdatable(): number {
    const pk = this.free.shift();
    if (pk === undefined) throw new Error("no free article to update");
    this.inFlight.add(pk);
    return pk;
  }
  giveBack(pk: number, version: number): void {
    if (!this.inFlight.delete(pk)) return;
    this.versions.set(pk, version);
    this.free.push(pk);
  }
}

function requestFor(op: OpName, server: RunningServer, state: WorkloadState): HttpRequest {
  const style = server.spec.style;
  switch (op) {
    case "get": return getRequest(style, state.visiblePks[Math.floor(Math.random() * state.visiblePks.length)]!);
    case "list": return listRequest(style, randomCategory());
    case "create": return createRequest(style, ++state.createCounter, randomCategory());
    case "update": {
      const pk = state.takeUpdatable();
      return updateRequest(style, pk, ++state.updateCounter, state.versions.get(pk)!);
    }
  }
}

/** Rows whose update response never arrived (the run ended): read their version back. */
async function reconcile(server: RunningServer, state: WorkloadState): Promise<void> {
  for (const pk of [...state.inFlight]) {
    const { text } = await send(server, getRequest(server.spec.style, pk));
    const record = JSON.parse(text).data as { id: number; version: number };
    state.giveBack(pk, record.version);
  }
}

interface Measurement {
  rps: number;
  p99: number;
  cpuMsPerRequest: number;
  /** PostgreSQL only: CPU of the database's backends per request. */
  dbCpuMsPerRequest: number;
  requests: number;
  errors: number;
}

async function load(server: RunningServer, op: OpName, state: WorkloadState, seconds: number): Promise<Measurement> {
  const cpuBefore = cpuSeconds(server.child.pid!);
  const dbCpuBefore = databaseKind === "postgres" ? databaseCpuSeconds(server.db) : undefined;
  const result = await autocannon({
    url: `http://127.0.0.1:${server.port}`,
    connections: settings.connections,
    duration: seconds,
    headers: server.headers,
    requests: [{
      setupRequest: (req: Record<string, unknown>) => {
        const request = requestFor(op, server, state);
        return { ...req, method: request.method, path: request.path, body: request.body };
      },
      onResponse: op === "update" ? (status: number, body: string) => {
        if (status !== 200) return;
        const { id, version } = JSON.parse(body).data as { id: number; version: number };
        state.giveBack(id, version);
      } : undefined,
    }],
  });
  const cpu = cpuSeconds(server.child.pid!) - cpuBefore;
  const dbCpu = dbCpuBefore ? databaseCpuSince(dbCpuBefore, server.db) : NaN;
  if (op === "update") await reconcile(server, state);
  const requests = result.requests.total;
  return {
    rps: requests / result.duration, p99: result.latency.p99, cpuMsPerRequest: requests > 0 ? (cpu * 1000) / requests : NaN,
    dbCpuMsPerRequest: requests > 0 ? (dbCpu * 1000) / requests : NaN,
    requests, errors: result.non2xx + result.errors + result.timeouts,
  };
}

// ---- checks before timing ---------------------------------------------------------------

const VOLATILE = /"(createdAt|updatedAt)":"[^"]*"/g;
const mask = (text: string) => text.replace(VOLATILE, '"$1":"<time>"');

/** Every server answers the same requests with the same bytes (times of fresh writes masked). */
async function checkIdentical(servers: RunningServer[]): Promise<string[]> {
  const failures: string[] = [];
  const cases: Array<{ name: string; build: (s: RunningServer) => HttpRequest; volatile?: boolean }> = [
    ...[1, 2, 10, 97, 194, 12345, 49999].map((pk) => ({ name: `get ${pk}`, build: (s: RunningServer) => getRequest(s.spec.style, pk) })),
    ...[1, 7, 50].map((category) => ({ name: `list category ${category}`, build: (s: RunningServer) => listRequest(s.spec.style, category) })),
    { name: "update 5", build: (s) => updateRequest(s.spec.style, 5, 1, 1), volatile: true },
    { name: "update 5 again", build: (s) => updateRequest(s.spec.style, 5, 2, 2), volatile: true },
    { name: "create", build: (s) => createRequest(s.spec.style, 0, 3), volatile: true },
  ];
  for (const testCase of cases) {
    const answers = await Promise.all(servers.map((server) => send(server, testCase.build(server))));
    const reference = answers[0]!;
    if (reference.status !== 200) failures.push(`${testCase.name}: ajax-endpoints answered ${reference.status} ${reference.text.slice(0, 200)}`);
    answers.forEach((answer, index) => {
      const a = testCase.volatile ? mask(answer.text) : answer.text;
      const b = testCase.volatile ? mask(reference.text) : reference.text;
      if (answer.status !== reference.status || a !== b) {
        failures.push(`${testCase.name}: ${servers[index]!.spec.key} differs from ajax-endpoints\n  ajax: ${b.slice(0, 600)}\n  ${servers[index]!.spec.key}: ${a.slice(0, 600)}`);
      }
    });
  }
  return failures;
}

/** Per request; `roundTrips` only on PostgreSQL (ReadyForQuery messages on the server's connections). */
interface QueryCounts { total: number; session: number; user: number; roundTrips?: number }

/** SQL statements per request of each op, from the server's own statement counter. */
async function countQueries(server: RunningServer, state: WorkloadState): Promise<Record<string, QueryCounts>> {
  const counts: Record<string, QueryCounts> = {};
  for (const op of settings.ops) {
    const n = 10;
    await server.ipc("resetQueries");
    for (let i = 0; i < n; i++) {
      const request = requestFor(op, server, state);
      const { status, text } = await send(server, request);
      if (status !== 200) throw new Error(`${server.spec.key} ${op}: ${status} ${text.slice(0, 300)}`);
      if (op === "update") { const { id, version } = JSON.parse(text).data; state.giveBack(id, version); }
    }
    // A statement a server sends without awaiting it before it answers (ajax-endpoints' change-feed
    // NOTIFY after a write's COMMIT on PostgreSQL) is counted when sent; give its reply time to arrive.
    await new Promise((done) => setTimeout(done, 100));
    const { counts: c } = await server.ipc<{ counts: QueryCounts | null }>("queries");
    if (c) counts[op] = { total: c.total / n, session: c.session / n, user: c.user / n, ...(c.roundTrips !== undefined ? { roundTrips: c.roundTrips / n } : {}) };
  }
  return counts;
}

// ---- the run ----------------------------------------------------------------------------

const median = (values: number[]) => {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

function machine() {
  const cpuModel = /model name\s*:\s*(.*)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? cpus()[0]?.model ?? "unknown";
  return { nproc: cpus().length, node: process.version, cpu: cpuModel, loadavg: readFileSync("/proc/loadavg", "utf8").trim() };
}

function visiblePks(db: string): number[] {
  const database = new Database(db, { readonly: true });
  try {
    return (database.prepare("SELECT id FROM article WHERE published = 1 OR authorId = ?").all(BENCH_USER.id) as Array<{ id: number }>).map((r) => r.id);
  } finally {
    database.close();
  }
}

async function main(): Promise<void> {
  if (flag("scale")) return runScaleBenchmark(argv, log);
  const started = Date.now();
  const visible = await backend.prepare();
  const available = serversOn(databaseKind);
  const unavailable = settings.servers.filter((key) => !available.some((s) => s.key === key));
  if (unavailable.length > 0) throw new Error(`not on ${databaseKind}: ${unavailable.join(", ")} (servers: ${available.map((s) => s.key).join(", ")})`);
  const specs = available.filter((s) => settings.servers.includes(s.key));
  const before = { ...machine(), database: await backend.version() };
  log(`machine: ${before.nproc} cores, ${before.cpu}, node ${before.node}, ${before.database}, load ${before.loadavg}`);

  if (soakSeconds > 0) return soak(visible, soakSeconds, before);

  // 1. Byte-identical answers and statement counts, every server at once on its own copy.
  log("checking that every server answers the same bytes ...");
  const checkCopies: string[] = [];
  // One copy at a time: a PostgreSQL copy is the server copying files (nothing to gain on two cores),
  // and CREATE DATABASE ... TEMPLATE fails while another session is in the template.
  for (const spec of specs) checkCopies.push(await backend.copy(`check-${spec.key}`));
  const checkServers = await Promise.all(specs.map((spec, i) => startServer(spec, checkCopies[i]!)));
  const failures = await checkIdentical(checkServers);
  const queries: Record<string, Record<string, QueryCounts>> = {};
  if (failures.length === 0) {
    for (const server of checkServers) {
      const state = new WorkloadState(visible);
      state.versions.set(5, 3); // the identity check updated article 5 twice
      if (server.spec.countsQueries) queries[server.spec.key] = await countQueries(server, state);
    }
  }
  for (const server of checkServers) { await server.stop(); await backend.remove(server.db); }
  if (failures.length > 0) {
    log(`\nFAILED: the servers do not answer the same bytes:\n${failures.join("\n")}`);
    process.exit(1);
  }
  log("identical. statements per request counted.");

  // 2. Rounds: A B C D E, then E D C B A, ... so drift and order effects cancel.
  const samples = new Map<string, Measurement[]>();
  const rss: Array<{ round: number; startMiB: number; endMiB: number }> = [];
  for (let round = 0; round < settings.rounds; round++) {
    const order = round % 2 === 0 ? specs : [...specs].reverse();
    for (const spec of order) {
      const server = await startServer(spec, await backend.copy(`round-${spec.key}`));
      const state = new WorkloadState(visible);
      const rssStart = rssMiB(server.child.pid!);
      for (const op of settings.ops) {
        await load(server, op, state, settings.warmupSeconds);
        const m = await load(server, op, state, settings.durationSeconds);
        const key = `${spec.key}/${op}`;
        samples.set(key, [...(samples.get(key) ?? []), m]);
        log(`round ${round + 1}/${settings.rounds} ${spec.key.padEnd(16)} ${op.padEnd(7)} ${m.rps.toFixed(0).padStart(6)} req/s  p99 ${m.p99} ms  cpu ${m.cpuMsPerRequest.toFixed(3)} ms/req${Number.isFinite(m.dbCpuMsPerRequest) ? `  db cpu ${m.dbCpuMsPerRequest.toFixed(3)} ms/req` : ""}${m.errors ? `  ERRORS ${m.errors}` : ""}`);
      }
      if (spec.key === "ajax") rss.push({ round: round + 1, startMiB: rssStart, endMiB: rssMiB(server.child.pid!) });
      await server.stop();
      await backend.remove(server.db);
    }
  }

  // 3. The table.
  const rows = [];
  for (const op of settings.ops) {
    const ajaxRps = median((samples.get(`ajax/${op}`) ?? []).map((m) => m.rps));
    const ceilingRps = median((samples.get(`${CEILING}/${op}`) ?? []).map((m) => m.rps));
    for (const spec of specs) {
      const list = samples.get(`${spec.key}/${op}`) ?? [];
      const rps = median(list.map((m) => m.rps));
      rows.push({
        op, server: spec.key, label: labelOf(spec),
        rps: Math.round(rps), p99Ms: median(list.map((m) => m.p99)),
        cpuMsPerRequest: Number(median(list.map((m) => m.cpuMsPerRequest)).toFixed(3)),
        dbCpuMsPerRequest: Number(median(list.map((m) => m.dbCpuMsPerRequest)).toFixed(3)),
        ratioToAjax: Number((rps / ajaxRps).toFixed(2)),
        ratioToCeiling: Number((rps / ceilingRps).toFixed(2)),
        // Paired: each round's req/s over the ceiling's in the same round (the machine is shared).
        pairedToCeiling: list.map((m, round) => Number((m.rps / (samples.get(`${CEILING}/${op}`)?.[round]?.rps ?? NaN)).toFixed(2))),
        medianPairedToCeiling: Number(median(list.map((m, round) => m.rps / (samples.get(`${CEILING}/${op}`)?.[round]?.rps ?? NaN))).toFixed(2)),
        errors: list.reduce((sum, m) => sum + m.errors, 0),
        queries: queries[spec.key]?.[op] ?? null,
        samples: list.map((m) => Math.round(m.rps)),
      });
    }
  }
  const after = machine();
  const result = {
    date: new Date().toISOString(), kind: quick ? "quick" : "full", settings, machine: { ...before, loadavgAfter: after.loadavg },
    ajaxRss: rss, rows, seconds: Math.round((Date.now() - started) / 1000),
  };
  printTable(result);
  writeResult(result);
}

const labelOf = (spec: ServerSpec) => (databaseKind === "postgres" ? spec.postgresLabel ?? spec.label : spec.label);

function printTable(result: { rows: any[]; ajaxRss: Array<{ round: number; startMiB: number; endMiB: number }>; machine: any; seconds: number }): void {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  const out: string[] = [];
  // PostgreSQL: the database's CPU per request beside the server's, and the round trips counted on
  // the wire beside the statements the server's hook counted.
  const postgres = result.rows.some((row) => row.queries?.roundTrips !== undefined || Number.isFinite(row.dbCpuMsPerRequest));
  out.push(line(["op", "server", "req/s (median)", "p99 ms", "CPU ms/req", ...(postgres ? ["PostgreSQL CPU ms/req"] : []), "vs ajax-endpoints",
    "vs ceiling: median of round ratios (ratio of medians; each round)", "SQL/req (session, user)", ...(postgres ? ["round trips/req"] : []), "errors"]));
  out.push(line(["---", "---", "---:", "---:", "---:", ...(postgres ? ["---:"] : []), "---:", "---:", "---", ...(postgres ? ["---:"] : []), "---:"]));
  for (const row of result.rows) {
    const q = row.queries ? `${fmt(row.queries.total)} (${fmt(row.queries.session)}, ${fmt(row.queries.user)})` : "";
    out.push(line([row.op, row.label, String(row.rps), String(row.p99Ms), row.cpuMsPerRequest.toFixed(3),
      ...(postgres ? [Number.isFinite(row.dbCpuMsPerRequest) ? row.dbCpuMsPerRequest.toFixed(3) : ""] : []), `${row.ratioToAjax.toFixed(2)}x`,
      Number.isFinite(row.ratioToCeiling) ? `${row.medianPairedToCeiling.toFixed(2)}x (${row.ratioToCeiling.toFixed(2)}x; ${row.pairedToCeiling.join(", ")})` : "-", q,
      ...(postgres ? [row.queries?.roundTrips !== undefined ? fmt(row.queries.roundTrips) : ""] : []), String(row.errors)]));
  }
  out.push("");
  for (const r of result.ajaxRss) out.push(`ajax-endpoints RSS round ${r.round}: ${r.startMiB.toFixed(1)} MiB at start, ${r.endMiB.toFixed(1)} MiB at end`);
  out.push(`${result.machine.database}; load average: ${result.machine.loadavg} before, ${result.machine.loadavgAfter} after; ${result.seconds} s`);
  console.log(out.join("\n"));
}
const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));

function writeResult(result: object): void {
  const dir = join(REPO, "bench", "results");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${new Date().toISOString().slice(0, 10)}${databaseKind === "postgres" ? "-postgres" : ""}${quick ? "-quick" : soakSeconds ? "-soak" : ""}.json`);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(result, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
  log(`written to ${file}`);
}

/** Runs ajax-endpoints alone for `seconds` through every op in turn and reports how its RSS moves. */
async function soak(visible: number[], seconds: number, before: ReturnType<typeof machine>): Promise<void> {
  const server = await startServer(SERVERS[0]!, await backend.copy("soak-ajax"));
  const state = new WorkloadState(visible);
  const chunk = 15;
  for (const op of OPS) await load(server, op, state, 5);
  const startMiB = rssMiB(server.child.pid!);
  const samples: Array<{ t: number; rssMiB: number }> = [{ t: 0, rssMiB: startMiB }];
  let errors = 0;
  let requests = 0;
  const t0 = Date.now();
  for (let i = 0; (Date.now() - t0) / 1000 < seconds; i++) {
    const op = OPS[i % OPS.length]!;
    const m = await load(server, op, state, Math.min(chunk, Math.max(1, seconds - (Date.now() - t0) / 1000)));
    errors += m.errors;
    requests += m.requests;
    samples.push({ t: Math.round((Date.now() - t0) / 1000), rssMiB: rssMiB(server.child.pid!) });
    log(`soak ${samples.at(-1)!.t}s ${op} ${m.rps.toFixed(0)} req/s rss ${samples.at(-1)!.rssMiB.toFixed(1)} MiB`);
  }
  const endMiB = rssMiB(server.child.pid!);
  await server.stop();
  await backend.remove(server.db);
  const growth = ((endMiB - startMiB) / startMiB) * 100;
  const result = {
    date: new Date().toISOString(), kind: "soak", seconds, machine: { ...before, loadavgAfter: machine().loadavg },
    requests, errors, rss: { startMiB, endMiB, maxMiB: Math.max(...samples.map((s) => s.rssMiB)), growthPercent: Number(growth.toFixed(1)) }, samples,
  };
  console.log(`soak ${seconds} s, ${requests} requests, ${errors} errors: RSS ${startMiB.toFixed(1)} MiB after warm-up -> ${endMiB.toFixed(1)} MiB at end (${growth >= 0 ? "+" : ""}${growth.toFixed(1)}%), max ${result.rss.maxMiB.toFixed(1)} MiB`);
  writeResult(result);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
