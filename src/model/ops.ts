import type { ObjectLiteral } from "typeorm";
import type { ColumnMetadata } from "typeorm/metadata/ColumnMetadata";
import { AJAXError, Messages } from "../errors";
import { refuseUnknownFields } from "../params";
import type { RequestContext } from "../context";
import { queryTemplates } from "../db/compiled";
import { throughGate } from "../db/gate";
import { dialectOf, nowSql } from "./dialect";
import type { ModelEndpoint } from "./endpoint";
import type { WriteEvent } from "./feature";
import { encodeRecords } from "./hydrate";
import { loadRecordsWithAnswers } from "./joined";
import { checkWrite, expectedVersion } from "./write";

/**
 * Tells each feature of the endpoint about a write, in their order, inside the op's
 * transaction. Features announce their own writes through it too (restore, tag changes).
 */
export async function announceWrite(event: WriteEvent, ctx: RequestContext): Promise<void> {
  for (const feature of event.endpoint.featureSet.list) await feature.afterWrite?.(event, ctx);
}

/**
 * What a loaded record is for: `answer` when it will be encoded (its author, category, tags...
 * are read in the same statement), `check` when only its own columns are looked at (the record
 * an update, delete or tag op checks permission and version on, before it writes).
 */
export type RecordUse = "answer" | "check";

/**
 * Loads one record through the row scope. With `scoped: false` the scope is skipped (reading
 * back a record the user just wrote). Returns undefined when there is no such visible row.
 */
export async function loadRecord(
  endpoint: ModelEndpoint, pk: unknown, ctx: RequestContext, scoped = true, use: RecordUse = "answer",
): Promise<ObjectLiteral | undefined> {
  const qb = endpoint.reader.query(ctx.manager, "item");
  qb.where(`${qb.escape("item")}.${qb.escape(endpoint.rules.pk.column.databaseName)} = :pk`, { pk });
  if (scoped) endpoint.narrowToVisible(qb, ctx, "record");
  if (use === "check") return (await endpoint.reader.load(qb.limit(1), ctx.manager, "by-key"))[0];
  // Its author, category, tags... in the same statement, where their endpoints' scopes allow (src/model/joined.ts).
  return (await loadRecordsWithAnswers(endpoint, qb.limit(1), ctx, "one"))[0];
}

/**
 * Loads a record the user may see (row scope and `canGet`), or answers `404`. Pass `check`
 * when the record will not be encoded: its relations and tags are then not read with it (an
 * answer made from it anyway reads them in batches, as hydration does).
 */
export async function loadVisibleRecord(endpoint: ModelEndpoint, pk: unknown, ctx: RequestContext, use: RecordUse = "answer"): Promise<ObjectLiteral> {
  const record = await loadRecord(endpoint, pk, ctx, true, use);
  if (!record || !(await endpoint.canGet(ctx.user, record, ctx))) throw new AJAXError(404, Messages.notFound);
  return record;
}

async function encodeOne(endpoint: ModelEndpoint, record: ObjectLiteral, ctx: RequestContext): Promise<ObjectLiteral> {
  return (await encodeRecords(endpoint, [record], ctx))[0]!;
}

/** Sets the entity's create and update date columns that the write leaves out to the database's clock, to the millisecond. */
function stampDates(endpoint: ModelEndpoint, values: ObjectLiteral, op: "create" | "update"): void {
  const now = nowSql(dialectOf(endpoint.runtime.dataSource));
  const columns = op === "create" ? [endpoint.metadata.createDateColumn, endpoint.metadata.updateDateColumn] : [endpoint.metadata.updateDateColumn];
  for (const column of columns) {
    if (column && !(column.propertyName in values)) values[column.propertyName] = () => now;
  }
}

/** get: the record, hydrated. */
export async function getOp(endpoint: ModelEndpoint, pk: unknown, ctx: RequestContext): Promise<ObjectLiteral> {
  return throughGate(ctx, "read", async () => {
    const record = await loadVisibleRecord(endpoint, pk, ctx);
    refuseUnknownFields(ctx.params, []);
    return encodeOne(endpoint, record, ctx);
  });
}

/** create: writable fields only, owner set by the server, one transaction; answers the record as read back. */
export async function createOp(endpoint: ModelEndpoint, ctx: RequestContext): Promise<ObjectLiteral> {
  return throughGate(ctx, "write", async (manager) => {
    // May this user create at all? Asked before the body is checked, so that a caller without
    // permission learns nothing of the field rules; then again with the checked values.
    if (!(await endpoint.canCreate(ctx.user, {}, ctx))) throw new AJAXError(403, Messages.forbidden);
    const { values, extra } = await checkWrite(endpoint, ctx);
    if (endpoint.ownerField && ctx.user) {
      const owner = endpoint.rules.byName.get(endpoint.ownerField)!;
      values[endpoint.ownerField] = { [owner.targetPk!.propertyName]: endpoint.runtime.userPk(ctx.user) };
    }
    if (!(await endpoint.canCreate(ctx.user, values, ctx))) throw new AJAXError(403, Messages.forbidden);
    await endpoint.beforeCreate(values, ctx);
    stampDates(endpoint, values, "create");
    const insert = manager.createQueryBuilder().insert().into(endpoint.metadata.target).values(values);
    const inserted = await queryTemplates(manager.dataSource).insertReturningPk(insert, manager, endpoint.rules.pk.column);
    const pk = inserted ? inserted.pk : (await insert.execute()).identifiers[0]?.[endpoint.rules.pk.name];
    const record = await loadRecord(endpoint, pk, ctx, false);
    if (!record) throw new Error(`created ${endpoint.metadata.name} ${String(pk)} could not be read back`);
    await announceWrite({ op: "create", endpoint, pk, after: record, changes: values, extra, alsoChanged: {} }, ctx);
    await endpoint.afterCreate(record, ctx);
    return encodeOne(endpoint, record, ctx);
  });
}

/** update: partial, only changed fields written, version-checked; answers the record as read back. */
export async function updateOp(endpoint: ModelEndpoint, pk: unknown, ctx: RequestContext): Promise<ObjectLiteral> {
  return throughGate(ctx, "write", async (manager) => {
    const record = await loadVisibleRecord(endpoint, pk, ctx, "check");
    // May this user update this record at all? Asked before the body is checked (a caller
    // without permission gets the same 403 whatever it sent), then again with the changes.
    if (!(await endpoint.canUpdate(ctx.user, record, {}, ctx))) throw new AJAXError(403, Messages.forbidden);
    const versionRule = endpoint.rules.version;
    const version = versionRule ? expectedVersion(ctx) : undefined;
    if (versionRule && version === undefined && endpoint.requireVersion) {
      throw new AJAXError(400, Messages.invalid, {
        errors: { _version: ["The version you read is required (If-Match header or _version field)."] },
      });
    }
    const { values: changes, extra } = await checkWrite(endpoint, ctx, record);
    if (!(await endpoint.canUpdate(ctx.user, record, changes, ctx))) throw new AJAXError(403, Messages.forbidden);
    if (versionRule && version !== undefined && record[versionRule.name] !== version) throw new AJAXError(409, Messages.stale);
    await endpoint.beforeUpdate(changes, record, ctx);
    if (Object.keys(changes).length > 0) {
      stampDates(endpoint, changes, "update");
      const keys: Array<[ColumnMetadata, unknown]> = [[endpoint.rules.pk.column, pk]];
      if (versionRule) keys.push([versionRule.column, record[versionRule.name]]);
      const templates = queryTemplates(manager.dataSource);
      let affected = await templates.updateByKeys(manager, endpoint.metadata, changes, keys);
      if (affected === undefined) {
        // What updateByKeys does not write itself, TypeORM's builder does (bound all the same).
        const qb = manager.createQueryBuilder().update(endpoint.metadata.target).set(changes)
          .where(`${manager.dataSource.driver.escape(endpoint.rules.pk.column.databaseName)} = :pk`, { pk });
        if (versionRule) qb.andWhere(`${manager.dataSource.driver.escape(versionRule.column.databaseName)} = :version`, { version: record[versionRule.name] });
        affected = await templates.affectedRows(qb, manager);
      }
      if (affected === 0) throw new AJAXError(409, Messages.stale);
    }
    const updated = (await loadRecord(endpoint, pk, ctx, false))!;
    await announceWrite({ op: "update", endpoint, pk, before: record, after: updated, changes, extra, alsoChanged: {} }, ctx);
    await endpoint.afterUpdate(updated, ctx);
    return encodeOne(endpoint, updated, ctx);
  });
}

/** delete: answers `{pk}`; a second delete is a `404`. */
export async function deleteOp(endpoint: ModelEndpoint, pk: unknown, ctx: RequestContext): Promise<{ pk: unknown }> {
  return throughGate(ctx, "write", async (manager) => {
    const record = await loadVisibleRecord(endpoint, pk, ctx, "check");
    if (!(await endpoint.canDelete(ctx.user, record, ctx))) throw new AJAXError(403, Messages.forbidden);
    refuseUnknownFields(ctx.params, ["pk", "_version"]);
    // django-ajax clients send the pk they mean; one that is not this record's is a mistake, not a delete.
    if (ctx.params.pk !== undefined && String(ctx.params.pk) !== String(pk)) {
      throw new AJAXError(400, Messages.invalid, { errors: { pk: ["Does not match the record in the URL."] } });
    }
    const versionRule = endpoint.rules.version;
    const version = versionRule ? expectedVersion(ctx) : undefined;
    if (versionRule && version !== undefined && record[versionRule.name] !== version) throw new AJAXError(409, Messages.stale);
    await endpoint.beforeDelete(record, ctx);
    const readVersion = versionRule ? record[versionRule.name] : undefined;
    // A feature may delete in its own way (soft delete marks the row); else the row goes.
    const remover = endpoint.featureSet.list.find((feature) => feature.deleteRow);
    let affected: number;
    if (remover) {
      affected = await remover.deleteRow!(endpoint, pk, readVersion, ctx);
    } else {
      const qb = manager.createQueryBuilder().delete().from(endpoint.metadata.target)
        .where(`${manager.dataSource.driver.escape(endpoint.rules.pk.column.databaseName)} = :pk`, { pk });
      if (versionRule) qb.andWhere(`${manager.dataSource.driver.escape(versionRule.column.databaseName)} = :version`, { version: readVersion });
      affected = await queryTemplates(manager.dataSource).affectedRows(qb, manager);
    }
    if (affected === 0) throw new AJAXError(409, Messages.stale);
    await announceWrite({ op: "delete", endpoint, pk, before: record, changes: {}, extra: {}, soft: remover !== undefined, alsoChanged: {} }, ctx);
    await endpoint.afterDelete(record, ctx);
    return { pk };
  });
}
