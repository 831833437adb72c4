import cluster from "node:cluster";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { DataSource } from "typeorm";
import { createDataSource } from "./ormconfig";
import { createBlogApp, seedDemoUsers } from "./app";
import { runMigrationsExclusively, type Ajax } from "./src";
import { createAjaxServer } from "./src/http/server";

/** How long open requests may take to finish after a shutdown signal before their connections are cut. */
const DRAIN_MS = Number(process.env.SHUTDOWN_DRAIN_MS) || 10_000;

/** Why something failed, in one line: Node's happy-eyeballs AggregateError has an empty message. */
function describeFailure(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return describeFailure(error.errors[0]);
  if (error instanceof Error) return (error.message || (error as { code?: string }).code || error.name).split("\n")[0]!;
  return String(error);
}

/** Ends the process with one line on standard error: start-up failures are not crashes, so no stack trace. */
function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

/** Opens the database of `DATABASE_URL`, or ends the process with one line saying why it could not. */
export async function openDatabase(): Promise<DataSource> {
  let dataSource: DataSource;
  try {
    dataSource = createDataSource();
  } catch (error) {
    // An unknown DATABASE_URL scheme, or a driver package that is not installed.
    fail(`Cannot use the database: ${describeFailure(error)}`);
  }
  try {
    await dataSource.initialize();
  } catch (error) {
    fail(`Cannot reach the database (${dataSource.options.type}): ${describeFailure(error)}`);
  }
  return dataSource;
}

/** Brings the schema up to date (once, when several servers start together) and seeds the demo users. */
export async function prepareDatabase(dataSource: DataSource): Promise<void> {
  try {
    await runMigrationsExclusively(dataSource, { thenUnderLock: () => seedDemoUsers(dataSource) });
  } catch (error) {
    fail(`Cannot bring the database schema up to date: ${describeFailure(error)}`);
  }
}

/** `PORT` (default 3000), or the process ends with one line. */
export function configuredPort(): number {
  const port = Number(process.env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`PORT=${process.env.PORT}: give a port number from 0 to 65535`);
  return port;
}

/** The one line for a server that could not listen. */
export function listenFailure(error: NodeJS.ErrnoException, port: number): string {
  if (error.code === "EADDRINUSE") return `Port ${port} is in use: stop the other server or set PORT to a free port.`;
  if (error.code === "EACCES") return `Port ${port} needs more privileges: use a port above 1023.`;
  return `Cannot listen on port ${port}: ${describeFailure(error)}`;
}

/**
 * Stops on SIGTERM and SIGINT, saying what it does: no new connections, open requests get
 * DRAIN_MS to finish, then the sessions' store and the database are closed and the process
 * exits. A second signal exits at once. In a cluster worker SIGINT is left to the primary,
 * which answers Ctrl-C by sending each worker SIGTERM.
 */
function stopGracefully(server: Server, ajax: Ajax, dataSource: DataSource): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      console.log(`${signal} again: exiting now.`);
      process.exit(1);
    }
    stopping = true;
    console.log(`${signal}: no new connections; waiting up to ${DRAIN_MS / 1000} s for open requests (${signal} again exits at once).`);
    const cutOff = setTimeout(() => {
      console.log("Open requests did not finish in time: closing their connections.");
      server.closeAllConnections();
    }, DRAIN_MS);
    cutOff.unref();
    server.close(() => {
      clearTimeout(cutOff);
      console.log("Requests drained; closing the session store and the database.");
      void ajax.close().then(() => dataSource.destroy()).then(
        () => { console.log("Stopped."); process.exit(0); },
        (error: unknown) => { console.error(`Stopped, but closing failed: ${describeFailure(error)}`); process.exit(1); },
      );
    });
    // Idle keep-alive connections would otherwise hold close() open until they time out.
    server.closeIdleConnections();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", cluster.isWorker ? () => {} : stop);
}

/** Serves the example app over HTTP on `PORT` (default 3000) until SIGTERM or SIGINT. */
export function serve(dataSource: DataSource): void {
  if (!process.env.SESSION_SECRET) console.warn("SESSION_SECRET is not set: using the development secret.");
  const { app, ajax } = createBlogApp(dataSource, {
    sessionSecret: process.env.SESSION_SECRET,
    redisUrl: process.env.SESSION_STORE === "redis" || process.env.REDIS_URL ? process.env.REDIS_URL ?? "redis://127.0.0.1:6379" : undefined,
    logLevel: process.env.LOG_LEVEL,
  });
  const port = configuredPort();
  // A client gets REQUEST_TIMEOUT_MS (default 30 s) for a whole request and HEADERS_TIMEOUT_MS (10 s) for its headers.
  const server = createAjaxServer(app, {
    requestMs: Number(process.env.REQUEST_TIMEOUT_MS) || undefined,
    headersMs: Number(process.env.HEADERS_TIMEOUT_MS) || undefined,
  });
  server.once("error", (error: NodeJS.ErrnoException) => fail(listenFailure(error, port)));
  server.listen(port, () => {
    const { port: listening } = server.address() as AddressInfo;
    console.log(`ajax-endpoints demo on http://localhost:${listening}/ (database: ${dataSource.options.type})`);
  });
  stopGracefully(server, ajax, dataSource);
}

/** Starts the example app: migrations, demo users, then HTTP. */
async function main(): Promise<void> {
  const dataSource = await openDatabase();
  await prepareDatabase(dataSource);
  serve(dataSource);
}

if (require.main === module) void main();
