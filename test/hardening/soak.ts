/**
 * Load and soak: starts the example server as its own process on a fresh SQLite file, drives a
 * mixed workload (lists, gets, creates and updates with tags, tag ops, deletes, logins and
 * logouts) at a steady rate from this process over loopback, and reports errors (must be 0),
 * latency percentiles and the server's RSS after warm-up and at the end.
 *
 *   npm run soak                      # SOAK_SECONDS=60, SOAK_RATE=60 requests/s
 *   SOAK_SECONDS=300 npm run soak     # the five-minute run behind docs/guarantees.md
 *
 * Exits non-zero when any request failed, or when a run of at least five minutes grew the
 * server's RSS by 10% or more after warm-up.
 */
import { Agent } from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServerProcess } from "./process";
import { Caller, type Reply } from "./support";

export interface SoakOptions {
  seconds: number;
  /** Requests started per second. */
  rate: number;
  /** Most requests in flight; past it a tick is counted as skipped (the server fell behind). */
  concurrency: number;
}

export interface SoakReport {
  seconds: number;
  rate: number;
  requests: number;
  errors: number;
  errorSamples: string[];
  skipped: number;
  byOp: Record<string, number>;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  rssMiB: { first: number; afterWarmup: number; end: number; growthPercent: number };
}

interface Worker {
  caller: Caller;
  username: string;
  /** Articles this worker wrote, with their versions: only it updates them, so no 409 is expected. */
  own: Map<number, number>;
  busy: boolean;
}

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const median = (values: number[]) => percentile([...values].sort((a, b) => a - b), 50);

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const folder = mkdtempSync(join(tmpdir(), "ajax-soak-"));
  const server = await startServerProcess(`sqlite:${join(folder, "soak.sqlite")}`);
  // Idle sockets are dropped before the server's 5 s keep-alive timeout, as a well-behaved client does: else a request
  // may go out on a connection the server is closing at that moment (ECONNRESET).
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency, timeout: 4000 });
  try {
    const workers: Worker[] = [];
    for (let i = 0; i < options.concurrency; i++) {
      const username = i % 2 === 0 ? "bob" : "alice";
      const caller = new Caller(server.base, agent, `${username}-${i}`);
      await caller.login(username);
      workers.push({ caller, username, own: new Map(), busy: false });
    }
    const latencies: number[] = [];
    const byOp: Record<string, number> = {};
    const errorSamples: string[] = [];
    let errors = 0;
    let skipped = 0;
    let requests = 0;

    const expect = (op: string, reply: Reply, allowed: number[]) => {
      if (!allowed.includes(reply.status)) {
        errors++;
        if (errorSamples.length < 10) errorSamples.push(`${op}: ${reply.status} ${reply.text.slice(0, 200)}`);
      }
    };

    /** One operation of the mix, as a worker. */
    const operate = async (worker: Worker): Promise<void> => {
      const { caller } = worker;
      const roll = Math.random() * 100;
      const ownIds = [...worker.own.keys()];
      const started = performance.now();
      let op = "";
      try {
        if (roll < 30) {
          op = "list";
          const body = pick([{}, { order: "-createdAt", items_per_page: 20 }, { filter: { published: true } }, { search: "soak" },
            { filter: { tags__any: ["soak", "load"] } }, { current_page: 2, items_per_page: 10 }]);
          expect(op, await caller.post("/ajax/blog/article/list.json", body), [200]);
        } else if (roll < 48) {
          op = "get";
          const id = ownIds.length > 0 ? pick(ownIds) : 1;
          expect(op, await caller.post(`/ajax/blog/article/${id}/get.json`), ownIds.length > 0 ? [200] : [200, 404]);
        } else if (roll < 60 || ownIds.length < 3) {
          op = "create";
          const reply = await caller.post("/ajax/blog/article.json", { title: `soak ${Date.now()}`, body: "load ".repeat(50), tags: pick(["soak", "soak load", "load, steady"]), published: Math.random() < 0.5 });
          expect(op, reply, [200]);
          if (reply.status === 200) worker.own.set(reply.json.data.id, reply.json.data.version);
        } else if (roll < 70) {
          op = "update";
          const id = pick(ownIds);
          const reply = await caller.post(`/ajax/blog/article/${id}/update.json`, { title: `soak updated ${Date.now()}`, tags: pick(["soak", "soak steady"]), _version: worker.own.get(id) });
          expect(op, reply, [200]);
          if (reply.status === 200) worker.own.set(id, reply.json.data.version);
        } else if (roll < 80) {
          op = "tags";
          const id = pick(ownIds);
          const command = pick(["add", "remove", "similar"]);
          expect(op, await caller.post(`/ajax/blog/article/${id}/tags/${command}.json`, command === "similar" ? {} : { tags: pick(["extra", "load"]) }), [200]);
        } else if (roll < 85 && ownIds.length > 3) {
          op = "delete";
          const id = ownIds[0]!;
          worker.own.delete(id);
          expect(op, await caller.post(`/ajax/blog/article/${id}/delete.json`), [200]);
        } else if (roll < 96) {
          op = "other";
          const path = pick(["/ajax/blog/comment/list.json", "/ajax/blog/category/list.json", "/ajax/blog/stats.json", "/ajax/auth/user.json"]);
          expect(op, await caller.post(path), [200]);
        } else {
          op = "login";
          // A fresh browser: token, login, a read, and sometimes a logout.
          const fresh = new Caller(server.base, agent, "fresh");
          await fresh.csrf();
          const login = await fresh.post("/ajax/auth/login.json", { username: worker.username, password: `${worker.username}-password` });
          expect(op, login, [200]);
          if (Math.random() < 0.5) expect(op, await fresh.post("/ajax/auth/logout.json"), [200]);
        }
      } catch (error) {
        errors++;
        if (errorSamples.length < 10) errorSamples.push(`${op}: ${error instanceof Error ? error.message : String(error)}`);
      }
      latencies.push(performance.now() - started);
      byOp[op] = (byOp[op] ?? 0) + 1;
      requests++;
    };

    const rss: Array<{ at: number; bytes: number }> = [];
    const startedAt = Date.now();
    const sampler = setInterval(() => rss.push({ at: Date.now() - startedAt, bytes: server.rss() }), 1000);
    rss.push({ at: 0, bytes: server.rss() });
    const inFlight = new Set<Promise<void>>();
    const interval = 1000 / options.rate;
    const total = Math.round(options.seconds * options.rate);
    for (let tick = 0; tick < total; tick++) {
      const due = startedAt + tick * interval;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const worker = workers.find((candidate) => !candidate.busy);
      if (!worker) { skipped++; continue; }
      worker.busy = true;
      const job = operate(worker).finally(() => { worker.busy = false; inFlight.delete(job); });
      inFlight.add(job);
    }
    await Promise.all(inFlight);
    clearInterval(sampler);
    rss.push({ at: Date.now() - startedAt, bytes: server.rss() });

    const warmupMs = Math.min(60_000, options.seconds * 1000 * 0.2);
    const afterWarmup = rss.filter((s) => s.at >= warmupMs && s.at < warmupMs + 5000).map((s) => s.bytes);
    const end = rss.slice(-5).map((s) => s.bytes);
    const mib = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
    const startRss = median(afterWarmup.length > 0 ? afterWarmup : [rss[0]!.bytes]);
    const endRss = median(end);
    const sorted = [...latencies].sort((a, b) => a - b);
    const round = (ms: number) => Math.round(ms * 10) / 10;
    return {
      seconds: options.seconds, rate: options.rate, requests, errors, errorSamples, skipped, byOp,
      latencyMs: { p50: round(percentile(sorted, 50)), p90: round(percentile(sorted, 90)), p99: round(percentile(sorted, 99)), max: round(sorted[sorted.length - 1] ?? 0) },
      rssMiB: { first: mib(rss[0]!.bytes), afterWarmup: mib(startRss), end: mib(endRss), growthPercent: Math.round(((endRss - startRss) / startRss) * 1000) / 10 },
    };
  } finally {
    agent.destroy();
    await server.kill("SIGTERM");
    rmSync(folder, { recursive: true, force: true });
  }
}

/** The pass rule: no failed request; and for runs of five minutes or more, RSS growth under 10%. */
export function soakFailures(report: SoakReport): string[] {
  const failures: string[] = [];
  if (report.errors > 0) failures.push(`${report.errors} requests failed: ${report.errorSamples.join(" | ")}`);
  if (report.seconds >= 300 && report.rssMiB.growthPercent >= 10) failures.push(`RSS grew ${report.rssMiB.growthPercent}% after warm-up`);
  return failures;
}

async function main(): Promise<void> {
  const options: SoakOptions = {
    seconds: Number(process.env.SOAK_SECONDS) || 60,
    rate: Number(process.env.SOAK_RATE) || 60,
    concurrency: Number(process.env.SOAK_CONCURRENCY) || 16,
  };
  console.log(`soak: ${options.seconds} s at ${options.rate} requests/s (at most ${options.concurrency} in flight), example server on a fresh SQLite file`);
  const report = await runSoak(options);
  console.log(JSON.stringify(report, null, 2));
  if (process.env.SOAK_REPORT) writeFileSync(process.env.SOAK_REPORT, JSON.stringify(report, null, 2));
  const failures = soakFailures(report);
  for (const failure of failures) console.error(`soak FAILED: ${failure}`);
  console.log(`soak: ${report.requests} requests, ${report.errors} errors, p99 ${report.latencyMs.p99} ms, RSS ${report.rssMiB.afterWarmup} -> ${report.rssMiB.end} MiB (${report.rssMiB.growthPercent}%)`);
  process.exit(failures.length > 0 ? 1 : 0);
}

if (require.main === module) {
  // Ctrl-C: exit through process.exit, which stops the server process too.
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(130));
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
