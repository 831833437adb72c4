import type { DataSource } from "typeorm";
import { createDataSource } from "./ormconfig";
import { createBlogApp, seedDemoUsers } from "./app";
import { runMigrationsExclusively } from "./src";
import { createAjaxServer } from "./src/http/server";

/** Why a connection failed, in one line: Node's happy-eyeballs AggregateError has an empty message. */
function describeFailure(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return describeFailure(error.errors[0]);
  if (error instanceof Error) return error.message || (error as { code?: string }).code || error.name;
  return String(error);
}

/** Opens the database of `DATABASE_URL`, or ends the process with one line saying why it could not. */
export async function openDatabase(): Promise<DataSource> {
  const dataSource = createDataSource();
  try {
    await dataSource.initialize();
  } catch (error) {
    console.error(`Cannot reach the database (${dataSource.options.type}): ${describeFailure(error)}`);
    process.exit(1);
  }
  return dataSource;
}

/** Brings the schema up to date (once, when several servers start together) and seeds the demo users. */
export async function prepareDatabase(dataSource: DataSource): Promise<void> {
  await runMigrationsExclusively(dataSource, { thenUnderLock: () => seedDemoUsers(dataSource) });
}

/** Serves the example app over HTTP on `PORT` (default 3000) until SIGTERM or SIGINT. */
export function serve(dataSource: DataSource): void {
  if (!process.env.SESSION_SECRET) console.warn("SESSION_SECRET is not set: using the development secret.");
  const { app } = createBlogApp(dataSource, {
    sessionSecret: process.env.SESSION_SECRET,
    redisUrl: process.env.SESSION_STORE === "redis" || process.env.REDIS_URL ? process.env.REDIS_URL ?? "redis://127.0.0.1:6379" : undefined,
  });
  const port = Number(process.env.PORT ?? 3000);
  // A client gets REQUEST_TIMEOUT_MS (default 30 s) for a whole request and HEADERS_TIMEOUT_MS (10 s) for its headers.
  const server = createAjaxServer(app, {
    requestMs: Number(process.env.REQUEST_TIMEOUT_MS) || undefined,
    headersMs: Number(process.env.HEADERS_TIMEOUT_MS) || undefined,
  }).listen(port, () => {
    console.log(`ajax-endpoints demo on http://localhost:${port}/ (database: ${dataSource.options.type})`);
  });
  const stop = () => server.close(() => { void dataSource.destroy().finally(() => process.exit(0)); });
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

/** Starts the example app: migrations, demo users, then HTTP. */
async function main(): Promise<void> {
  const dataSource = await openDatabase();
  await prepareDatabase(dataSource);
  serve(dataSource);
}

if (require.main === module) void main();
