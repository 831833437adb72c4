import "reflect-metadata";
import { createServer } from "node:http";
import { DataSource } from "typeorm";
import { createBlogApp } from "../../app";
import { dataSourceOptions } from "../../ormconfig";
import { databaseUrl, serve, serverArgs, StatementCounter } from "./harness";

/** (1) ajax-endpoints: the example blog app exactly as a user would mount it, on SQLite or PostgreSQL (`--db`). */
async function main(): Promise<void> {
  const { db } = serverArgs();
  const counter = new StatementCounter();
  const dataSource = new DataSource({ ...dataSourceOptions(databaseUrl(db)), logger: counter } as never);
  await dataSource.initialize();
  counter.watchPostgres(dataSource);
  const { app, ajax } = createBlogApp(dataSource, { sessionSecret: "bench secret" });
  serve(createServer(app), counter, async () => { await ajax.close(); await dataSource.destroy(); });
}

void main();
