import type { ObjectLiteral, SelectQueryBuilder } from "typeorm";
import type { RequestContext } from "../context";
import { dialectOf } from "./dialect";
import type { ModelEndpoint } from "./endpoint";
import type { FieldRule } from "./fields";
import { decidesCanGetItself, hydratedRelations, rememberJoined, shownReader, type JoinedRelated } from "./hydrate";
import { relationPk, type RowReader } from "./rows";

/** A many-to-one relation joined into a record's query, and how its columns are read. */
export interface JoinedRelation {
  rule: FieldRule;
  target: ModelEndpoint;
  reader: RowReader;
}


/**
 * Joins the related records a response expands (many-to-one, first level) into the query of one
 * record, so that a get reads its record, author and category in one statement (one round trip
 * on PostgreSQL and MariaDB; not on SQLite, see below). The related
 * endpoint's row scope and features still decide: they narrow a query of the related entity
 * under the join's alias as they would a read of their own, and their conditions become the
 * join's condition (with soft delete's, which TypeORM adds to a join as to a read). A relation is
 * read in its own statement as before where that cannot be said in a join: an endpoint that
 * decides `canGet` itself (it may look at hidden columns), conditions joined by OR, joins or
 * `withDeleted` of its own, or parameters whose names the record's query already uses.
 */
export function joinRelated(endpoint: ModelEndpoint, qb: SelectQueryBuilder<ObjectLiteral>, ctx: RequestContext): JoinedRelation[] {
  // On SQLite a statement is a function call, not a round trip: the record with two LEFT JOINs
  // measured 23 µs against 11 µs for it and two reads by pk, and the whole get and update slower
  // (docs/benchmark.md). There the related records are read in batches.
  if (endpoint.depth < 1 || dialectOf(endpoint.runtime.dataSource) === "sqlite") return [];
  const joined: JoinedRelation[] = [];
  const used = new Set(Object.keys(qb.expressionMap.parameters));
  for (const rule of hydratedRelations(endpoint)) {
    if (rule.relation!.isOneToMany || rule.relation!.isManyToMany) continue;
    const target = endpoint.runtime.endpointFor(rule.relation!.inverseEntityMetadata);
    if (decidesCanGetItself(target) || !rule.column.referencedColumn) continue;
    const alias = `h_${rule.name.replace(/[^a-zA-Z0-9_]/g, "_")}`;
    const probe = ctx.manager.createQueryBuilder(target.metadata.target, alias);
    target.narrowToVisible(probe, ctx);
    const map = probe.expressionMap;
    const parameters = probe.getParameters();
    if (map.withDeleted || map.joinAttributes.length > 0 || Object.keys(parameters).some((name) => used.has(name))
      || map.wheres.some((where, index) => typeof where.condition !== "string" || (index > 0 && where.type !== "and"))) continue;
    for (const name in parameters) used.add(name);
    const on = [`${qb.escape(alias)}.${qb.escape(rule.column.referencedColumn.databaseName)} = ${qb.escape(qb.alias)}.${qb.escape(rule.column.databaseName)}`,
      ...map.wheres.map((where) => `(${where.condition as string})`)].join(" AND ");
    qb.leftJoin(target.metadata.name, alias, on, parameters);
    const reader = shownReader(target, `${alias}_`);
    reader.selectInto(qb, alias);
    joined.push({ rule, target, reader });
  }
  return joined;
}

/** Reads the joined related records of each record from its row, through each related `canGet`, for hydration to use. */
export async function keepJoined(records: ObjectLiteral[], rows: ObjectLiteral[], joined: JoinedRelation[], ctx: RequestContext): Promise<void> {
  if (joined.length === 0) return;
  for (let index = 0; index < records.length; index++) {
    const record = records[index]!;
    const found: JoinedRelated[] = [];
    for (const { rule, target, reader } of joined) {
      const pk = relationPk(record[rule.name], rule.targetPk!);
      if (pk === null) continue;
      const related = reader.decode([rows[index]!])[0]!;
      const visible = reader.pkOf(related) !== null && await target.canGet(ctx.user, related, ctx);
      found.push({ target, pk, related: visible ? related : null });
    }
    rememberJoined(record, found);
  }
}

