import type { ObjectLiteral, SelectQueryBuilder } from "typeorm";
import type { RequestContext } from "../context";
import { queryTemplates } from "../db/compiled";
import { dialectOf } from "./dialect";
import type { ModelEndpoint } from "./endpoint";
import type { ReadRows, RowKeeper } from "./feature";
import type { FieldRule } from "./fields";
import { decidesCanGetItself, hydratedRelations, narrowsItsReads, rememberJoined, shownReader, type JoinedRelated } from "./hydrate";
import { relationPk, type RowReader } from "./rows";

/** A many-to-one relation read in its record's statement, and how its columns are read. */
export interface JoinedRelation {
  rule: FieldRule;
  target: ModelEndpoint;
  reader: RowReader;
}

/**
 * Runs a query of the endpoint's records (built with its reader) and answers the records, with
 * what their answers need read in the same statement: the expanded many-to-one relations
 * ({@link joinRelated}) and what features read along (tags). A get is then one statement, and
 * a list page one more than its count.
 */
export async function loadRecordsWithAnswers(
  endpoint: ModelEndpoint, qb: SelectQueryBuilder<ObjectLiteral>, ctx: RequestContext, rows: ReadRows,
): Promise<ObjectLiteral[]> {
  const joined = joinRelated(endpoint, qb, ctx, rows);
  const keepers: RowKeeper[] = [];
  for (const feature of endpoint.featureSet.list) {
    const keeper = feature.readAlong?.(qb, qb.alias, endpoint, ctx, rows);
    if (keeper) keepers.push(keeper);
  }
  const raw = await queryTemplates(endpoint.runtime.dataSource).rawRows(qb, ctx.manager, rows === "one" ? "by-key" : "per-call");
  const records = endpoint.reader.decode(raw);
  keepJoined(records, raw, joined);
  for (const keep of keepers) records.forEach((record, index) => keep(record, raw[index]!));
  return records;
}

/**
 * Reads the related records a response expands (many-to-one, first level) in the query of
 * their records, so that a get reads its record, author and category in one statement. The
 * related endpoint's row scope and features still decide: they narrow a query of the related
 * entity under its own alias as they would a read of their own, and their conditions become
 * the condition under which its columns are read. On PostgreSQL and MariaDB that is a LEFT
 * JOIN (one round trip); on SQLite a scalar sub-select per column, because a LEFT JOIN next to
 * a scope's OR made SQLite's planner take 23 µs where the record alone takes 5 µs and the
 * record with a sub-select per column of author and category 8 µs (bench data, better-sqlite3).
 * A page of records on SQLite reads them in batches instead (hydration): 50 rows' sub-selects
 * look up the same few authors and categories again and again (120 µs against 9 µs for the
 * two batched reads, where a statement costs a function call and no round trip).
 * A relation is read in its own statement as before where its scope cannot be said this way:
 * an endpoint that decides `canGet` itself (it may look at hidden columns), conditions joined
 * by OR, joins or `withDeleted` of its own, or parameters whose names the query already uses.
 */
export function joinRelated(endpoint: ModelEndpoint, qb: SelectQueryBuilder<ObjectLiteral>, ctx: RequestContext, rows: ReadRows): JoinedRelation[] {
  const bySubSelect = dialectOf(endpoint.runtime.dataSource) === "sqlite";
  if (endpoint.depth < 1 || (bySubSelect && rows === "many")) return [];
  const driver = endpoint.runtime.dataSource.driver;
  const joined: JoinedRelation[] = [];
  const used = new Set(Object.keys(qb.expressionMap.parameters));
  for (const rule of hydratedRelations(endpoint)) {
    if (rule.relation!.isOneToMany || rule.relation!.isManyToMany) continue;
    const target = endpoint.runtime.endpointFor(rule.relation!.inverseEntityMetadata);
    if (decidesCanGetItself(target) || !rule.column.referencedColumn) continue;
    const alias = `h_${rule.name.replace(/[^a-zA-Z0-9_]/g, "_")}`;
    let narrowing: string[] = [];
    let parameters: ObjectLiteral = {};
    // A target whose reads nothing narrows needs no query of its own to find out (most users and categories).
    if (narrowsItsReads(target)) {
      const probe = ctx.manager.createQueryBuilder(target.metadata.target, alias);
      target.narrowToVisible(probe, ctx);
      const map = probe.expressionMap;
      parameters = probe.getParameters();
      if (map.withDeleted || map.joinAttributes.length > 0 || Object.keys(parameters).some((name) => used.has(name))
        || map.wheres.some((where, index) => typeof where.condition !== "string" || (index > 0 && where.type !== "and"))) continue;
      for (const name in parameters) used.add(name);
      narrowing = map.wheres.map((where) => `(${where.condition as string})`);
    }
    const escapedAlias = qb.escape(alias);
    const conditions = [`${escapedAlias}.${qb.escape(rule.column.referencedColumn.databaseName)} = ${qb.escape(qb.alias)}.${qb.escape(rule.column.databaseName)}`, ...narrowing];
    const reader = shownReader(target, `${alias}_`);
    if (bySubSelect) {
      // TypeORM adds a @DeleteDateColumn's condition to a join, not to SQL written here.
      const deleted = target.metadata.deleteDateColumn;
      if (deleted) conditions.push(`${escapedAlias}.${qb.escape(deleted.databaseName)} IS NULL`);
      // The alias is known to the query, so that the scope's `alias.property` names are replaced as in a join.
      qb.expressionMap.createAlias({ type: "other", name: alias, metadata: target.metadata });
      reader.selectEachFrom(qb, driver.escape(target.metadata.tablePath), alias, conditions.join(" AND "));
      qb.setParameters(parameters);
    } else {
      qb.leftJoin(target.metadata.name, alias, conditions.join(" AND "), parameters);
      reader.selectInto(qb, alias);
    }
    joined.push({ rule, target, reader });
  }
  return joined;
}

/**
 * Reads the joined related records of each record from its row, for hydration to use: a row
 * without the related record (null pk) is one its scope hides.
 */
export function keepJoined(records: ObjectLiteral[], rows: ObjectLiteral[], joined: JoinedRelation[]): void {
  if (joined.length === 0) return;
  for (let index = 0; index < records.length; index++) {
    const record = records[index]!;
    const found: JoinedRelated[] = [];
    for (const { rule, target, reader } of joined) {
      const pk = relationPk(record[rule.name], rule.targetPk!);
      if (pk === null) continue;
      const related = reader.decodeOne(rows[index]!);
      // Joined targets keep the default canGet (joinRelated leaves out those that decide it themselves): no await per row for it.
      found.push({ target, pk, related: reader.pkOf(related) !== null ? related : null });
    }
    rememberJoined(record, found);
  }
}
