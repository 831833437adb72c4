import type { DataSource, EntityManager, ObjectLiteral, SelectQueryBuilder } from "typeorm";
import { dialectOf } from "../model/dialect";
import type { ModelEndpoint } from "../model/endpoint";
import { pgDocumentSql, PG_SEARCH_CONFIG, searchIndexSpec, type SearchIndexSpec } from "./spec";
import type { SearchTerms } from "./terms";

const SEARCH_ALIAS = "search";
const SEARCH_PARAM = "searchQuery";

const specs = new WeakMap<ModelEndpoint, SearchIndexSpec>();

/** The index an endpoint's `searchFields` search. */
export function searchSpecOf(endpoint: ModelEndpoint): SearchIndexSpec {
  let spec = specs.get(endpoint);
  if (!spec) {
    const columns = endpoint.searchFields.map((name) => endpoint.rules.byName.get(name)!.column.databaseName);
    spec = searchIndexSpec(endpoint.metadata.tableName, columns, endpoint.rules.pk.column.databaseName);
    specs.set(endpoint, spec);
  }
  return spec;
}

const present = new WeakMap<DataSource, Map<string, Promise<boolean>>>();

/**
 * Fails when the index a search needs was never made, naming the migration that makes it:
 * without it a search would be an error from the database (SQLite, MariaDB) or, worse, a
 * scan of the whole table (PostgreSQL). Checked once per index and DataSource.
 */
export async function checkSearchIndex(endpoint: ModelEndpoint, manager: EntityManager): Promise<void> {
  const dataSource = endpoint.runtime.dataSource;
  const spec = searchSpecOf(endpoint);
  let known = present.get(dataSource);
  if (!known) present.set(dataSource, (known = new Map()));
  let check = known.get(spec.name);
  if (!check) {
    const dialect = dialectOf(dataSource);
    const sql = dialect === "sqlite" ? "SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = ?"
      : dialect === "postgres" ? "SELECT 1 AS found FROM pg_indexes WHERE indexname = $1 AND schemaname = ANY (current_schemas(false))"
        : "SELECT 1 AS found FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?";
    check = manager.query(sql, [spec.name]).then((rows: unknown[]) => rows.length > 0);
    known.set(spec.name, check);
    check.then((found) => { if (!found) known!.delete(spec.name); }, () => known!.delete(spec.name));
  }
  if (!(await check)) {
    throw new Error(`ajax-endpoints: ${endpoint.metadata.name} searches ${JSON.stringify(endpoint.searchFields)}, but the full-text index ` +
      `"${spec.name}" does not exist; add a migration that runs createSearchIndex(queryRunner, ${endpoint.metadata.name}, ${JSON.stringify(endpoint.searchFields)})`);
  }
}

/** The full-text query text of each database, from words that hold nothing but letters, digits and marks. */
function fullTextQuery(dialect: ReturnType<typeof dialectOf>, terms: SearchTerms): string {
  const [whole, prefix, and] = dialect === "sqlite" ? ['"$"', '"$"*', " "] : dialect === "postgres" ? ["'$'", "'$':*", " & "] : ["+$", "+$*", " "];
  const parts = terms.words.map((word) => whole.replace("$", word));
  if (terms.prefix !== undefined) parts.push(prefix.replace("$", terms.prefix));
  return parts.join(and);
}

/**
 * Narrows a list query to the rows whose search fields hold every word (the last as a prefix),
 * through the endpoint's full-text index. Answers the SQL of the match's relevance and the
 * direction that puts the best match first.
 */
export function applySearch(qb: SelectQueryBuilder<ObjectLiteral>, endpoint: ModelEndpoint, terms: SearchTerms): { rank: string; descending: boolean } {
  const dialect = dialectOf(endpoint.runtime.dataSource);
  const spec = searchSpecOf(endpoint);
  const q = (name: string) => qb.escape(name);
  const itemPk = `${q(qb.alias)}.${q(spec.pk)}`;
  qb.setParameter(SEARCH_PARAM, fullTextQuery(dialect, terms));
  if (dialect === "postgres") {
    const document = pgDocumentSql(spec, (column) => `${q(qb.alias)}.${q(column)}`);
    const query = `to_tsquery('${PG_SEARCH_CONFIG}'::regconfig, :${SEARCH_PARAM})`;
    qb.andWhere(`${document} @@ ${query}`);
    return { rank: `ts_rank(${document}, ${query})`, descending: true };
  }
  const search = q(SEARCH_ALIAS);
  if (dialect === "sqlite") {
    // Driven by the FTS5 index, which hands out matches by rowid, newest first, and stops at
    // the cap: SQLite has no statement time limit, so a word in every row must not cost a sort of
    // every row. Each match then finds its row by rowid.
    const fts = q(spec.name);
    const cap = Math.max(1, Math.floor(endpoint.maxSearchMatches));
    qb.innerJoin(`(SELECT ${fts}.${q("rowid")} AS ${q("rowid")}, ${fts}.${q("rank")} AS ${q("rank")} FROM ${fts} WHERE ${fts} MATCH :${SEARCH_PARAM} ORDER BY ${fts}.${q("rowid")} DESC LIMIT ${cap})`,
      SEARCH_ALIAS, `${search}.${q("rowid")} = ${itemPk}`);
    return { rank: `${search}.${q("rank")}`, descending: false };
  }
  qb.innerJoin(spec.name, SEARCH_ALIAS, `${search}.${q("id")} = ${itemPk}`);
  const match = `MATCH (${search}.${q("doc")}) AGAINST (:${SEARCH_PARAM} IN BOOLEAN MODE)`;
  qb.andWhere(match);
  return { rank: match, descending: true };
}

