import "reflect-metadata";
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { DataSource, type DataSourceOptions } from "typeorm";
import { AjaxSession, AuditEntry, DEFAULT_STATEMENT_TIMEOUT_MS, mysqlDriverWithUtcSessions, Tag, TaggedItem, withStatementTimeout } from "./src";
import { Article, Category, Comment, User } from "./entities";
import { Initial1763700000000 } from "./migrations/1763700000000-Initial";
import { ArticleSearch1764200000000 } from "./migrations/1764200000000-ArticleSearch";
import { ListIndexes1764200001000 } from "./migrations/1764200001000-ListIndexes";
import { SoftDeleteAudit1764300000000 } from "./migrations/1764300000000-SoftDeleteAudit";

/** The example app's entities, with the framework's session, tag and audit tables. */
export const entities = [User, Category, Article, Comment, AjaxSession, Tag, TaggedItem, AuditEntry];
export const migrations = [Initial1763700000000, ArticleSearch1764200000000, ListIndexes1764200001000, SoftDeleteAudit1764300000000];

/** The SQLite file used when `DATABASE_URL` is unset. */
export const DEFAULT_SQLITE_PATH = "data/blog.sqlite";

/**
 * DataSource options from a `DATABASE_URL`: unset is the SQLite file `data/blog.sqlite`;
 * `sqlite:<path>` another SQLite file; `postgres://...` PostgreSQL; `mysql://...` or
 * `mariadb://...` MariaDB. Migrations run at start-up; `synchronize` is off. On PostgreSQL and
 * MariaDB a statement stops after `statementTimeoutMs` (`STATEMENT_TIMEOUT_MS`, default 5000; 0
 * for none) and its request answers `503`.
 */
export function dataSourceOptions(
  url = process.env.DATABASE_URL,
  { statementTimeoutMs = Number(process.env.STATEMENT_TIMEOUT_MS ?? DEFAULT_STATEMENT_TIMEOUT_MS) }: { statementTimeoutMs?: number } = {},
): DataSourceOptions {
  const common = { entities, migrations, synchronize: false, migrationsRun: false } as const;
  if (!url || url.startsWith("sqlite:")) {
    const path = resolve(url ? url.slice("sqlite:".length).replace(/^\/\//, "") : DEFAULT_SQLITE_PATH);
    mkdirSync(dirname(path), { recursive: true });
    return { ...common, type: "better-sqlite3", database: path, enableWAL: true, timeout: 5000 };
  }
  if (url.startsWith("postgres://") || url.startsWith("postgresql://")) {
    return withStatementTimeout({ ...common, type: "postgres", url, poolSize: 10, connectTimeoutMS: 5000 }, statementTimeoutMs);
  }
  if (url.startsWith("mysql://") || url.startsWith("mariadb://")) {
    return withStatementTimeout({
      ...common, type: url.startsWith("mariadb://") ? "mariadb" : "mysql", url: url.replace(/^mariadb:/, "mysql:"),
      timezone: "Z", charset: "utf8mb4", poolSize: 10, connectTimeout: 5000, driver: mysqlDriverWithUtcSessions(),
    }, statementTimeoutMs);
  }
  throw new Error(`DATABASE_URL "${url}" is not sqlite:<path>, postgres://..., mysql://... or mariadb://...`);
}

/** A DataSource for a `DATABASE_URL`, not yet initialized. */
export function createDataSource(url = process.env.DATABASE_URL): DataSource {
  return new DataSource(dataSourceOptions(url));
}
