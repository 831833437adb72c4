import "reflect-metadata";
import { createServer } from "node:http";
import { DataSource } from "typeorm";
import { createBlogApp } from "../../app";
import { dataSourceOptions } from "../../ormconfig";
import { serve, serverArgs, StatementCounter } from "./harness";

/** (1) ajax-endpoints: the example blog app exactly as a user would mount it. */
async function main(): Promise<void> {
  const { db } = serverArgs();
  const counter = new StatementCounter();
  const dataSource = new DataSource({ ...dataSourceOptions(`sqlite:${db}`), logger: counter } as never);
  await dataSource.initialize();
  const { app, ajax } = createBlogApp(dataSource, { sessionSecret: "bench secret" });
  serve(createServer(app), counter, async () => { await ajax.close(); await dataSource.destroy(); });
}

void main();
