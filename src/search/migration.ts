import type { EntityTarget, ObjectLiteral, QueryRunner } from "typeorm";
import { dialectOf } from "../model/dialect";
import { mysqlDocumentSql, pgDocumentSql, PG_SEARCH_CONFIG, searchIndexSpec, type SearchIndexSpec } from "./spec";

/**
 * What to index: an entity and its property names, or a table and its column names (then
 * `pk` is the integer primary-key column, default `id`).
 */
export type SearchTarget = EntityTarget<ObjectLiteral> | { table: string; pk?: string };

function specOf(queryRunner: QueryRunner, target: SearchTarget, fields: readonly string[]): SearchIndexSpec {
  if (typeof target === "object" && target !== null && "table" in target && typeof target.table === "string") {
    return searchIndexSpec(target.table, fields, target.pk ?? "id");
  }
  const metadata = queryRunner.connection.getMetadata(target as EntityTarget<ObjectLiteral>);
  const columns = fields.map((field) => {
    const column = metadata.findColumnWithPropertyName(field);
    if (!column) throw new Error(`ajax-endpoints: ${metadata.name} has no column "${field}" to index for search`);
    return column.databaseName;
  });
  if (metadata.primaryColumns.length !== 1) throw new Error(`ajax-endpoints: search needs one integer primary key (${metadata.name})`);
  return searchIndexSpec(metadata.tableName, columns, metadata.primaryColumns[0]!.databaseName);
}

/**
 * Creates the full-text index that a `searchFields` list searches, in a migration:
 * an external-content FTS5 table kept current by triggers (SQLite), a GIN index over a
 * `tsvector` expression (PostgreSQL), a shadow table with an InnoDB `FULLTEXT` index kept
 * current by triggers (MariaDB). Existing rows are indexed. Running it again rebuilds it.
 *
 * @example
 * // migrations/1764000000000-ArticleSearch.ts
 * async up(queryRunner: QueryRunner) { await createSearchIndex(queryRunner, Article, ["title", "body"]); }
 * async down(queryRunner: QueryRunner) { await dropSearchIndex(queryRunner, Article, ["title", "body"]); }
 */
export async function createSearchIndex(queryRunner: QueryRunner, target: SearchTarget, fields: readonly string[]): Promise<void> {
  const spec = specOf(queryRunner, target, fields);
  await dropSearchIndex(queryRunner, target, fields);
  const dialect = dialectOf(queryRunner.connection);
  const statements = dialect === "sqlite" ? sqliteStatements(spec)
    : dialect === "postgres" ? await postgresStatements(queryRunner, spec) : mysqlStatements(spec);
  await withoutStatementTimeout(queryRunner, dialect, async () => {
    for (const sql of statements) await queryRunner.query(sql);
  });
}

/**
 * Indexing every existing row of a large table takes longer than a request's statement time
 * limit (db/timeouts.ts): lifted for this session while the index is built, then put back.
 */
async function withoutStatementTimeout(queryRunner: QueryRunner, dialect: string, work: () => Promise<void>): Promise<void> {
  if (dialect === "sqlite") return work();
  const variable = dialect === "postgres" ? "statement_timeout" : "max_statement_time";
  const [row] = await queryRunner.query(dialect === "postgres" ? "SELECT current_setting('statement_timeout') AS value" : "SELECT @@SESSION.max_statement_time AS value");
  const previous = String(row?.value ?? "0");
  await queryRunner.query(`SET SESSION ${variable} = 0`);
  try {
    await work();
  } finally {
    await queryRunner.query(dialect === "postgres" ? `SET SESSION ${variable} = '${previous.replace(/'/g, "")}'` : `SET SESSION ${variable} = ${Number(previous) || 0}`);
  }
}

/** Removes what {@link createSearchIndex} made (PostgreSQL's shared text search configuration stays). */
export async function dropSearchIndex(queryRunner: QueryRunner, target: SearchTarget, fields: readonly string[]): Promise<void> {
  const spec = specOf(queryRunner, target, fields);
  const dialect = dialectOf(queryRunner.connection);
  const q = (name: string) => queryRunner.connection.driver.escape(name);
  if (dialect === "postgres") {
    await queryRunner.query(`DROP INDEX IF EXISTS ${q(spec.name)}`);
    return;
  }
  for (const suffix of ["ai", "au", "ad"]) await queryRunner.query(`DROP TRIGGER IF EXISTS ${q(`${spec.name}_${suffix}`)}`);
  await queryRunner.query(`DROP TABLE IF EXISTS ${q(spec.name)}`);
}

const sqliteName = (name: string) => `"${name.replace(/"/g, '""')}"`;
const sqliteText = (text: string) => `'${text.replace(/'/g, "''")}'`;

function sqliteStatements(spec: SearchIndexSpec): string[] {
  const fts = sqliteName(spec.name);
  const table = sqliteName(spec.table);
  const columns = spec.columns.map(sqliteName);
  const values = (row: "new" | "old") => spec.columns.map((column) => `${row}.${sqliteName(column)}`).join(", ");
  const pk = sqliteName(spec.pk);
  const remove = `INSERT INTO ${fts} (${fts}, rowid, ${columns.join(", ")}) VALUES ('delete', old.${pk}, ${values("old")});`;
  const add = `INSERT INTO ${fts} (rowid, ${columns.join(", ")}) VALUES (new.${pk}, ${values("new")});`;
  return [
    // External content: the text lives in the table only; the FTS5 table holds the index. Two- and
    // three-character prefix indexes make a short last word as cheap as a whole one.
    `CREATE VIRTUAL TABLE ${fts} USING fts5(${columns.join(", ")}, content=${sqliteText(spec.table)}, content_rowid=${sqliteText(spec.pk)}, tokenize='unicode61 remove_diacritics 2', prefix='2 3')`,
    `CREATE TRIGGER ${sqliteName(`${spec.name}_ai`)} AFTER INSERT ON ${table} BEGIN ${add} END`,
    `CREATE TRIGGER ${sqliteName(`${spec.name}_ad`)} AFTER DELETE ON ${table} BEGIN ${remove} END`,
    `CREATE TRIGGER ${sqliteName(`${spec.name}_au`)} AFTER UPDATE OF ${[pk, ...columns].join(", ")} ON ${table} BEGIN ${remove} ${add} END`,
    `INSERT INTO ${fts} (${fts}) VALUES ('rebuild')`,
  ];
}

async function postgresStatements(queryRunner: QueryRunner, spec: SearchIndexSpec): Promise<string[]> {
  const q = (name: string) => `"${name.replace(/"/g, '""')}"`;
  const statements: string[] = [];
  const [config] = await queryRunner.query("SELECT 1 AS found FROM pg_ts_config WHERE cfgname = $1", [PG_SEARCH_CONFIG]);
  if (!config) {
    statements.push(`CREATE TEXT SEARCH CONFIGURATION ${PG_SEARCH_CONFIG} (COPY = simple)`);
    // unaccent ships with PostgreSQL's contrib and is a trusted extension (PostgreSQL 13+): a
    // database owner may install it. Without it, searches still ignore case but not accents.
    const [available] = await queryRunner.query("SELECT 1 AS found FROM pg_available_extensions WHERE name = 'unaccent'");
    if (available) {
      statements.push("CREATE EXTENSION IF NOT EXISTS unaccent",
        `ALTER TEXT SEARCH CONFIGURATION ${PG_SEARCH_CONFIG} ALTER MAPPING FOR hword, hword_part, word WITH unaccent, simple`);
    }
  }
  statements.push(`CREATE INDEX ${q(spec.name)} ON ${q(spec.table)} USING GIN (${pgDocumentSql(spec, q)})`);
  return statements;
}

function mysqlStatements(spec: SearchIndexSpec): string[] {
  const q = (name: string) => `\`${name.replace(/`/g, "``")}\``;
  const shadow = q(spec.name);
  const table = q(spec.table);
  const pk = q(spec.pk);
  const document = (row: string) => mysqlDocumentSql(spec, (column) => `${row}.${q(column)}`);
  return [
    // A table of its own, so the article's columns keep their exact (binary) collation while the
    // search compares words ignoring case and accents.
    `CREATE TABLE ${shadow} (${q("id")} BIGINT NOT NULL PRIMARY KEY, ${q("doc")} LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL) ENGINE=InnoDB`,
    `INSERT INTO ${shadow} (${q("id")}, ${q("doc")}) SELECT ${pk}, ${document(table)} FROM ${table}`,
    // Without stop words ("the", "about", ... would otherwise never match); read when the index is made.
    "SET SESSION innodb_ft_enable_stopword = OFF",
    `CREATE FULLTEXT INDEX ${q(`${spec.name}_ft`)} ON ${shadow} (${q("doc")})`,
    "SET SESSION innodb_ft_enable_stopword = ON",
    `CREATE TRIGGER ${q(`${spec.name}_ai`)} AFTER INSERT ON ${table} FOR EACH ROW INSERT INTO ${shadow} (${q("id")}, ${q("doc")}) VALUES (NEW.${pk}, ${document("NEW")})`,
    `CREATE TRIGGER ${q(`${spec.name}_au`)} AFTER UPDATE ON ${table} FOR EACH ROW UPDATE ${shadow} SET ${q("id")} = NEW.${pk}, ${q("doc")} = ${document("NEW")} WHERE ${q("id")} = OLD.${pk}`,
    `CREATE TRIGGER ${q(`${spec.name}_ad`)} AFTER DELETE ON ${table} FOR EACH ROW DELETE FROM ${shadow} WHERE ${q("id")} = OLD.${pk}`,
  ];
}
