import { DataSource } from "typeorm";
import { createBlogApp } from "../../app";
import { entities } from "../../ormconfig";
import type { Ajax } from "../../src";

/**
 * The example app's router over an in-memory SQLite database that is never queried: what
 * `ajax-endpoints client --app` needs to read the registry (`npm run client:generate`).
 */
export default async function blogAjax(): Promise<Ajax> {
  const dataSource = new DataSource({ type: "better-sqlite3", database: ":memory:", entities });
  await dataSource.initialize();
  return createBlogApp(dataSource).ajax;
}
