import { createDataSource } from "./ormconfig";
import { createBlogApp, seedDemoUsers } from "./app";

/** Starts the example app: migrations, demo users, then HTTP on `PORT` (default 3000). */
async function main(): Promise<void> {
  const dataSource = createDataSource();
  try {
    await dataSource.initialize();
  } catch (error) {
    console.error(`Cannot reach the database (${dataSource.options.type}): ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  await dataSource.runMigrations({ transaction: "each" });
  await seedDemoUsers(dataSource);
  if (!process.env.SESSION_SECRET) console.warn("SESSION_SECRET is not set: using the development secret.");
  const { app } = createBlogApp(dataSource, {
    sessionSecret: process.env.SESSION_SECRET,
    redisUrl: process.env.SESSION_STORE === "redis" || process.env.REDIS_URL ? process.env.REDIS_URL ?? "redis://127.0.0.1:6379" : undefined,
  });
  const port = Number(process.env.PORT ?? 3000);
  const server = app.listen(port, () => {
    console.log(`ajax-endpoints demo on http://localhost:${port}/ (database: ${dataSource.options.type})`);
  });
  const stop = () => server.close(() => { void dataSource.destroy().finally(() => process.exit(0)); });
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

void main();
