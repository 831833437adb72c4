import cluster from "node:cluster";
import { availableParallelism } from "node:os";
import { openDatabase, prepareDatabase, serve } from "./server";

/** A worker that dies sooner than this after its start is failing at start-up: stop forking. */
const CRASH_LOOP_MS = 5000;

/**
 * Serves the example app on one port with `WORKERS` processes (default: one per CPU), all
 * sharing the port through Node's cluster module. The primary runs the migrations and seeds the
 * demo users once, before forking, so the workers start on an up-to-date schema. Sessions must
 * live where every worker sees them: the database (the default) or Redis (`REDIS_URL`).
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
  const startedAt = new Map<number, number>();
  const fork = () => {
    const worker = cluster.fork();
    startedAt.set(worker.id, Date.now());
  };
  cluster.on("exit", (worker, code, signal) => {
    const lived = Date.now() - (startedAt.get(worker.id) ?? 0);
    startedAt.delete(worker.id);
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    console.error(`worker ${worker.process.pid} ended (${signal ?? `exit code ${code}`})`);
    if (lived < CRASH_LOOP_MS) {
      console.error("it ended right after starting: not restarting it; stopping the cluster");
      stopping = true;
      for (const other of Object.values(cluster.workers ?? {})) other?.process.kill("SIGTERM");
      process.exitCode = 1;
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(1);
      return;
    }
    fork();
  });
  const stop = () => {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill("SIGTERM");
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  console.log(`ajax-endpoints cluster: primary ${process.pid} starting ${workers} worker(s)`);
  for (let index = 0; index < workers; index++) fork();
}

async function worker(): Promise<void> {
  serve(await openDatabase());
}

void (cluster.isPrimary ? primary() : worker());
