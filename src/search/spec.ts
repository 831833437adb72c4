import { createHash } from "node:crypto";

/**
 * Which full-text index serves a search over some columns of a table. The migration helper
 * and the list query both derive it from the table and the column set (in any order), so the
 * index a migration made is the one a search uses.
 */
export interface SearchIndexSpec {
  table: string;
  /** Column names, sorted. */
  columns: string[];
  /** The integer primary-key column. */
  pk: string;
  /** The FTS5 table (SQLite), GIN index (PostgreSQL) or shadow table (MariaDB). */
  name: string;
}

/** PostgreSQL's text search configuration for every search index: no stemming, no stop words, accents folded where `unaccent` is available. */
export const PG_SEARCH_CONFIG = "ajax_search";

/** The longest identifier PostgreSQL (63) and MariaDB (64) keep. */
const MAX_NAME = 63;

export function searchIndexSpec(table: string, columns: readonly string[], pk: string): SearchIndexSpec {
  const sorted = [...new Set(columns)].sort();
  if (sorted.length === 0) throw new Error("ajax-endpoints: a search index needs at least one column");
  let name = `${table}_search_${sorted.join("_")}`;
  if (name.length > MAX_NAME) {
    const hash = createHash("sha1").update(`${table}\u0000${sorted.join("\u0000")}`).digest("hex").slice(0, 10);
    name = `${table.slice(0, MAX_NAME - 19)}_search_${hash}`;
  }
  return { table, columns: sorted, pk, name };
}

/**
 * PostgreSQL's document of a row: one tsvector of the columns, `column` giving each one's SQL
 * (qualified in a query, bare in the index). Index and query must build the very same
 * expression for the planner to use the index.
 */
export function pgDocumentSql(spec: SearchIndexSpec, column: (name: string) => string): string {
  const text = spec.columns.map((name) => `coalesce(${column(name)}, '')`).join(" || ' ' || ");
  return `to_tsvector('${PG_SEARCH_CONFIG}'::regconfig, ${text})`;
}

/**
 * MariaDB's document of a row, as its triggers store it: the columns joined, everything that
 * is not a letter, digit or mark turned into a space, so that words split where they split on
 * SQLite and PostgreSQL (MariaDB's own parser keeps `_` and `'` inside words).
 */
export function mysqlDocumentSql(spec: SearchIndexSpec, column: (name: string) => string): string {
  return `REGEXP_REPLACE(CONCAT_WS(' ', ${spec.columns.map(column).join(", ")}), '[^\\\\p{L}\\\\p{N}\\\\p{M}]+', ' ')`;
}
