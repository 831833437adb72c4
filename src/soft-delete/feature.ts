import type { ObjectLiteral, SelectQueryBuilder } from "typeorm";
import type { RequestContext } from "../context";
import { throughGate } from "../db/gate";
import { AJAXError, Messages } from "../errors";
import type { ModelEndpoint } from "../model/endpoint";
import type { EndpointFeature } from "../model/feature";
import type { FieldRule } from "../model/fields";
import { encodeRecords } from "../model/hydrate";
import { announceWrite, loadRecord } from "../model/ops";
import { nowSql, dialectOf } from "../model/dialect";
import { readBoolean } from "../model/coerce";
import { refuseUnknownFields } from "../params";

declare module "../model/define" {
  interface FeatureFilterNames {
    /** `filter[deleted]=true`: the deleted records (the {@link softDelete} feature). */
    deleted: true;
  }
}

/** Settings of the {@link softDelete} feature. */
export interface SoftDeleteOptions {
  /** The nullable datetime field that marks a deleted record (default `deletedAt`; TypeORM's `@DeleteDateColumn` fits). */
  field?: string;
  /** Who may bring a deleted record back with `<pk>/restore.json` (default: staff). */
  canRestore?(user: unknown, record: ObjectLiteral, ctx: RequestContext): boolean | Promise<boolean>;
  /** Who may list deleted records with `filter[deleted]=true` (default: staff); others get a `403`. */
  canListDeleted?(user: unknown, ctx: RequestContext): boolean;
}

/** Whether a list asks for its deleted records: `filter[deleted]=true` (any boolean word, as every boolean is read). */
function asksForDeleted(ctx: RequestContext): boolean {
  const filter = ctx.params.filter;
  return filter !== null && typeof filter === "object" && readBoolean((filter as Record<string, unknown>).deleted) === true;
}

/**
 * Soft delete: `delete` marks the record (sets its `deletedAt`) instead of removing the row,
 * and every read path (get, list, `total`, hydration, FK checks, `similar`, tag ops) leaves it
 * out, since they all read through {@link ModelEndpoint.narrowToVisible}. `<pk>/restore.json`
 * brings it back (`canRestore`, staff by default); staff list deleted records with
 * `filter[deleted]=true` (list `"deleted"` in `filterFields`). Its tags stay for a restore.
 *
 * Unique constraints keep holding a deleted record's values: a new record with the same unique
 * value is a `409` until the deleted one is restored or removed from the database.
 *
 * @example class ArticleEndpoint extends ModelEndpoint<Article> { entity = Article; features = [softDelete()]; }
 */
export function softDelete(options: SoftDeleteOptions = {}): EndpointFeature {
  const fieldName = options.field ?? "deletedAt";
  const canRestore = options.canRestore ?? ((_user, _record, ctx) => ctx.isStaff);
  const canListDeleted = options.canListDeleted ?? ((_user, ctx) => ctx.isStaff);
  const ruleOf = (endpoint: ModelEndpoint): FieldRule => endpoint.rules.byName.get(fieldName)!;
  const column = (qb: SelectQueryBuilder<ObjectLiteral>, alias: string, endpoint: ModelEndpoint) =>
    `${qb.escape(alias)}.${qb.escape(ruleOf(endpoint).column.databaseName)}`;
  const escape = (endpoint: ModelEndpoint, name: string) => endpoint.runtime.dataSource.driver.escape(name);

  return {
    name: "softDelete",
    check(endpoint) {
      const rule = endpoint.rules.byName.get(fieldName);
      if (!rule || rule.relation || rule.kind !== "datetime" || !rule.nullable) {
        throw new Error(`ajax-endpoints: softDelete() needs a nullable datetime field "${fieldName}" on ${endpoint.metadata.name} (a @DeleteDateColumn fits)`);
      }
      if (rule.writable) {
        throw new Error(`ajax-endpoints: "${fieldName}" of ${endpoint.metadata.name} marks deleted records: list it in serverSetFields (or use @DeleteDateColumn)`);
      }
    },
    narrowReads(qb, alias, endpoint, ctx, purpose) {
      // TypeORM adds its own "IS NULL" for a @DeleteDateColumn; withDeleted() turns that off, so
      // the condition is written once, here. Twice, PostgreSQL's planner squares its selectivity,
      // expects one row, and picks a nested loop that reads every row for each row.
      qb.withDeleted();
      if (purpose === "list" && asksForDeleted(ctx)) {
        if (!canListDeleted(ctx.user, ctx)) throw new AJAXError(403, Messages.forbidden);
        qb.andWhere(`${column(qb, alias, endpoint)} IS NOT NULL`);
        return;
      }
      qb.andWhere(`${column(qb, alias, endpoint)} IS NULL`);
    },
    filters: {
      // The work is done in narrowReads (it must lift the "not deleted" condition); this checks the value and the caller.
      deleted: (_qb, op, value) => (op === "eq" && readBoolean(value) !== undefined ? null : 'Use filter[deleted]=true to list deleted records.'),
    },
    async deleteRow(endpoint, pk, version, ctx) {
      const rules = endpoint.rules;
      const qb = ctx.manager.createQueryBuilder().update(endpoint.metadata.target)
        .set({ [fieldName]: () => nowSql(dialectOf(endpoint.runtime.dataSource)) })
        .where(`${escape(endpoint, rules.pk.column.databaseName)} = :pk`, { pk })
        .andWhere(`${escape(endpoint, ruleOf(endpoint).column.databaseName)} IS NULL`);
      if (rules.version) qb.andWhere(`${escape(endpoint, rules.version.column.databaseName)} = :version`, { version });
      return (await qb.execute()).affected ?? 0;
    },
    recordOps: {
      restore: {
        summary: "Bring a deleted record back",
        body: { type: "object", properties: {}, additionalProperties: false },
        data: "record",
        run: (endpoint, pk, ctx) => throughGate(ctx, "write", async (manager) => {
          // A deleted record the caller's row scope lets through; anything else is a 404.
          const qb = endpoint.reader.query(manager, "item").withDeleted();
          // The row scope only: narrowToVisible would leave the deleted record out.
          qb.where(`${qb.escape("item")}.${qb.escape(endpoint.rules.pk.column.databaseName)} = :pk`, { pk })
            .andWhere(`${column(qb, "item", endpoint)} IS NOT NULL`);
          endpoint.scope(qb as never, ctx.user, ctx);
          const record = (await endpoint.reader.load(qb.limit(1), manager))[0];
          if (!record) throw new AJAXError(404, Messages.notFound);
          if (!(await canRestore(ctx.user, record, ctx))) throw new AJAXError(403, Messages.forbidden);
          refuseUnknownFields(ctx.params, []);
          await manager.createQueryBuilder().update(endpoint.metadata.target).set({ [fieldName]: null })
            .where(`${escape(endpoint, endpoint.rules.pk.column.databaseName)} = :pk`, { pk }).execute();
          const restored = (await loadRecord(endpoint, pk, ctx, false))!;
          await announceWrite({ op: "restore", endpoint, pk, before: record, after: restored, changes: { [fieldName]: null }, extra: {}, alsoChanged: {} }, ctx);
          return (await encodeRecords(endpoint, [restored], ctx))[0];
        }),
      },
    },
    openapi: {
      filterProperties: () => ({ deleted: { type: "boolean", description: "true: the deleted records only (staff)." } }),
    },
  };
}
