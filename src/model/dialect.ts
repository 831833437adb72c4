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

/** SQL for "column contains the (lower-cased, LIKE-escaped, %-wrapped) parameter", ignoring case. */
export function iContainsSql(column: string, param: string): string {
  return `LOWER(${column}) LIKE ${param} ESCAPE '!'`;
}
