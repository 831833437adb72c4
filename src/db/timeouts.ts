import type { DataSourceOptions } from "typeorm";
import { runOnEachConnection, type Mysql2Module } from "./mysql";

/** How long one statement may run by default: no request the framework serves needs more. */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 5000;

/**
 * DataSource options whose every pooled connection stops a statement that runs longer than
 * `ms` (0: no limit): PostgreSQL's `statement_timeout`, MariaDB's `max_statement_time`, both
 * set when the connection opens. The statement fails, the connection goes back to the pool,
 * and the request answers a JSON `503` with `Retry-After` (db-errors.ts).
 *
 * SQLite (better-sqlite3) runs a statement to its end in the server's own thread and has no
 * such limit; there the bounds are the indexes and limits of docs/search.md.
 *
 * @example new DataSource(withStatementTimeout({ type: "postgres", url }, Number(process.env.STATEMENT_TIMEOUT_MS ?? 5000)))
 */
export function withStatementTimeout<T extends DataSourceOptions>(options: T, ms = DEFAULT_STATEMENT_TIMEOUT_MS): T {
  if (!Number.isFinite(ms) || ms < 0) throw new Error(`ajax-endpoints: a statement timeout is a number of milliseconds, not ${ms}`);
  if (ms === 0) return options;
  const whole = Math.ceil(ms);
  if (options.type === "postgres") {
    const extra = (options as { extra?: Record<string, unknown> }).extra ?? {};
    return { ...options, extra: { ...extra, statement_timeout: whole } };
  }
  if (options.type === "mariadb" || options.type === "mysql") {
    const driver = ((options as { driver?: unknown }).driver ?? require("mysql2")) as Mysql2Module;
    // MariaDB counts in seconds, with microseconds.
    return { ...options, driver: runOnEachConnection(driver, `SET SESSION max_statement_time = ${(whole / 1000).toFixed(3)}`) };
  }
  return options;
}
