import "reflect-metadata";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DataSource } from "typeorm";
import { createBlogApp, seedDemoUsers } from "../../app";
import { User } from "../../entities";
import { dataSourceOptions } from "../../ormconfig";
import { createAjaxServer, hashPassword } from "../../src";

/**
 * The server of the change-feed benchmark (bench/live/run.ts starts it as a process of its own,
 * so that its RSS is the server's alone): the example app on a fresh SQLite file (or
 * DATABASE_URL), with USERS extra users `user<i>` / `user-password`, one feed per session
 * allowed up to MAX_FEEDS. Prints `{"url": ...}` once listening.
 */
async function main(): Promise<void> {
  const users = Number(process.env.USERS ?? 50);
  const url = process.env.DATABASE_URL ?? `sqlite:${join(mkdtempSync(join(tmpdir(), "ajax-live-bench-")), "bench.sqlite")}`;
  const dataSource = new DataSource(dataSourceOptions(url));
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: "each" });
  await seedDemoUsers(dataSource);
  const hash = await hashPassword("user-password");
  for (let i = 0; i < users; i++) await dataSource.getRepository(User).insert({ username: `user${i}`, passwordHash: hash, isStaff: false, email: `user${i}@example.invalid` });
  const { app } = createBlogApp(dataSource, {
    ajax: { live: { maxPerSession: Number(process.env.MAX_FEEDS ?? 1000), heartbeatMs: 60_000 } },
  });
  const server = createAjaxServer(app);
  server.listen(0, "127.0.0.1", () => {
    const address = server.address() as { port: number };
    console.log(JSON.stringify({ url: `http://127.0.0.1:${address.port}` }));
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
