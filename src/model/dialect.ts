import type { DataSource } from "typeorm";

/** The databases the framework supports, by how their SQL differs. */
export type Dialect = "sqlite" | "postgres" | "mysql";

export function dialectOf(dataSource: DataSource): Dialect {
  const type = dataSource.options.type;
  if (type === "postgres") return "postgres";
  if (type === "mysql" || type === "mariadb") return "mysql";
  if (type === "better-sqlite3") return "sqlite";
  throw new Error(`ajax-endpoints: database type "${type}" is not supported (use better-sqlite3, postgres, mysql or mariadb)`);
}

/**
 * SQL for the database's current time with milliseconds, stored as UTC. TypeORM writes
 * `CURRENT_TIMESTAMP` on update and, on SQLite, `datetime('now')` on insert: whole seconds on
 * SQLite and MariaDB, so an `updatedAt` could read back earlier than the `createdAt` of the
 * same second, and on SQLite (where datetimes compare as text) a filter with milliseconds
 * would miss it.
 */
export function nowSql(dialect: Dialect): string {
  if (dialect === "postgres") return "CURRENT_TIMESTAMP";
  if (dialect === "mysql") return "CURRENT_TIMESTAMP(3)";
  return "strftime('%Y-%m-%d %H:%M:%f', 'now')";
}

/** Escapes `%`, `_` and the escape character itself for `LIKE ... ESCAPE '!'`. */
export function escapeLike(text: string): string {
  return text.replace(/[!%_]/g, (char) => `!${char}`);
}

/** SQL for "column contains the parameter", case-sensitive on every database. */
export function containsSql(dialect: Dialect, column: string, param: string): string {
  if (dialect === "postgres") return `strpos(${column}, ${param}) > 0`;
  if (dialect === "mysql") return `INSTR(${column}, BINARY ${param}) > 0`;
  return `instr(${column}, ${param}) > 0`;
}

/** SQL for "column starts with the parameter", case-sensitive on every database. */
export function startsWithSql(dialect: Dialect, column: string, param: string): string {
  if (dialect === "postgres") return `strpos(${column}, ${param}) = 1`;
  if (dialect === "mysql") return `INSTR(${column}, BINARY ${param}) = 1`;
  return `instr(${column}, ${param}) = 1`;
}

/**
 * SQLite's own `LOWER()` only lower-cases ASCII, so "Äpfel" would never match a search for
 * "äpfel" there while it does on PostgreSQL and MariaDB. On SQLite the framework registers this
 * function instead: JavaScript's `toLowerCase`, the same one that lower-cases the search term.
 */
const SQLITE_LOWER = "ajax_lower";

/** Registers the SQL functions the framework's queries use (on SQLite; the others have them built in). */
export function installSqlFunctions(dataSource: DataSource): void {
  if (dialectOf(dataSource) !== "sqlite") return;
  const database = (dataSource.driver as unknown as { databaseConnection: BetterSqliteDatabase }).databaseConnection;
  database.function(SQLITE_LOWER, { deterministic: true },
    (text: unknown) => (typeof text === "string" ? text.toLowerCase() : text));
}

interface BetterSqliteDatabase {
  function(name: string, options: { deterministic: boolean }, implementation: (value: unknown) => unknown): void;
}

/** SQL for "column contains the (lower-cased, LIKE-escaped, %-wrapped) parameter", ignoring case. */
export function iContainsSql(dialect: Dialect, column: string, param: string): string {
  return `${dialect === "sqlite" ? SQLITE_LOWER : "LOWER"}(${column}) LIKE ${param} ESCAPE '!'`;
}
