import cluster from "node:cluster";
import { availableParallelism } from "node:os";
import { openDatabase, prepareDatabase, serve } from "./server";
import { relayLiveNotes } from "./src";

/** The first wait before a dead worker is replaced; it doubles while workers keep dying. */
const FIRST_RESTART_DELAY_MS = 100;
/** The longest wait before a replacement. */
const MAX_RESTART_DELAY_MS = 10_000;
/** A worker that has served this long resets the wait to its first value. */
const STABLE_AFTER_MS = 30_000;

/**
 * Serves the example app on one port with `WORKERS` processes (default: one per CPU), all
 * sharing the port through Node's cluster module. The primary runs the migrations and seeds the
 * demo users once, before forking, so the workers start on an up-to-date schema. Sessions must
 * live where every worker sees them: the database (the default) or Redis (`REDIS_URL`).
 *
 * A worker that dies after it started listening, whatever killed it, is replaced, after a wait
 * that doubles while workers keep dying (so a crash loop cannot spin the CPU). A worker that
 * dies before it ever listened could not start (a bad setting, the database away): another
 * would fail the same way, so the cluster stops with that worker's exit code.
 */
async function primary(): Promise<void> {
  const workers = Number(process.env.WORKERS ?? availableParallelism());
  if (!Number.isSafeInteger(workers) || workers < 1) {
    console.error(`WORKERS=${process.env.WORKERS}: give a whole number of worker processes, at least 1`);
    process.exit(1);
  }
  const dataSource = await openDatabase();
  await prepareDatabase(dataSource);
  await dataSource.destroy();

  let stopping = false;
  let restartDelay = FIRST_RESTART_DELAY_MS;
  const listeningSince = new Map<number, number>();
  const fork = () => { cluster.fork(); };
  const workerCount = () => Object.keys(cluster.workers ?? {}).length;
  const stop = (exitCode: number) => {
    stopping = true;
    process.exitCode = exitCode;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill("SIGTERM");
    if (workerCount() === 0) process.exit(exitCode);
  };

  cluster.on("listening", (worker) => {
    listeningSince.set(worker.id, Date.now());
    console.log(`worker ${worker.process.pid} listening`);
  });
  cluster.on("exit", (worker, code, signal) => {
    const since = listeningSince.get(worker.id);
    listeningSince.delete(worker.id);
    if (stopping) {
      if (workerCount() === 0) process.exit(process.exitCode ?? 0);
      return;
    }
    const how = signal ?? `exit code ${code}`;
    if (since === undefined) {
      console.error(`worker ${worker.process.pid} could not start (${how}); stopping the cluster`);
      stop(typeof code === "number" && code !== 0 ? code : 1);
      return;
    }
    if (Date.now() - since >= STABLE_AFTER_MS) restartDelay = FIRST_RESTART_DELAY_MS;
    console.error(`worker ${worker.process.pid} ended (${how}); starting another in ${restartDelay} ms`);
    setTimeout(() => { if (!stopping) fork(); }, restartDelay);
    restartDelay = Math.min(restartDelay * 2, MAX_RESTART_DELAY_MS);
  });
  process.on("SIGTERM", () => stop(0));
  process.on("SIGINT", () => stop(0));
  // The change feed of a worker hears of the other workers' writes (SQLite or MariaDB without Redis).
  relayLiveNotes();
  console.log(`ajax-endpoints cluster: primary ${process.pid} starting ${workers} worker(s)`);
  for (let index = 0; index < workers; index++) fork();
}

async function worker(): Promise<void> {
  serve(await openDatabase());
}

void (cluster.isPrimary ? primary() : worker());
