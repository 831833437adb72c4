import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { ObjectLiteral, SelectQueryBuilder } from "typeorm";
import { AJAXError, Messages } from "../errors";
import type { ModelEndpoint } from "./endpoint";
import type { FieldRule } from "./fields";
import type { ListQuery } from "./list";
import { answeredValue } from "./rows";

/** One column of a keyset: a field and its direction, the pk last. */
export interface KeysetColumn {
  rule: FieldRule;
  descending: boolean;
}

/** The longest cursor the server accepts (it issues far shorter ones). */
const MAX_CURSOR_LENGTH = 2048;

function invalidCursor(message = "This cursor was not issued for this list (another ordering, filter or search), or it was changed."): AJAXError {
  return new AJAXError(400, Messages.invalid, { errors: { cursor: [message] } });
}

/**
 * The columns a list is ordered by, the pk last (as `applyOrder` orders it), for keyset paging.
 * Keyset paging compares values, so it needs order fields that are never null, and no
 * relevance ordering (a rank is not a value of the row).
 */
export function keysetColumns(endpoint: ModelEndpoint, query: ListQuery): KeysetColumn[] {
  const columns: KeysetColumn[] = [];
  for (const { rule, descending } of query.order) {
    if (!rule) throw invalidCursor("Cursor paging cannot order by relevance; order by fields.");
    if (rule.nullable) throw invalidCursor(`Cursor paging needs order fields that are never null; "${rule.name}" can be.`);
    columns.push({ rule, descending });
  }
  const pk = endpoint.rules.pk;
  const last = query.order[query.order.length - 1];
  if (!columns.some(({ rule }) => rule === pk)) columns.push({ rule: pk, descending: last?.rule ? last.descending : false });
  return columns;
}

/** What a cursor is bound to: the endpoint, the ordering, the filters and the search, hashed. */
function fingerprint(endpoint: ModelEndpoint, query: ListQuery): string {
  const shape = {
    model: endpoint.metadata.tableName,
    order: query.order.map(({ rule, descending }) => [rule?.name ?? null, descending]),
    filters: query.filters.map(({ field, op, value }) => [field, op, value]),
    search: query.search,
  };
  return createHash("sha256").update(JSON.stringify(shape)).digest("base64url").slice(0, 16);
}

function sign(key: string, payload: string): string {
  return createHmac("sha256", key).update(payload).digest("base64url").slice(0, 32);
}

/** A signed cursor that points just past `record` in this list. */
export function encodeCursor(endpoint: ModelEndpoint, query: ListQuery, columns: KeysetColumn[], record: ObjectLiteral, key: string): string {
  const values = columns.map(({ rule }) => answeredValue(rule, record));
  const payload = Buffer.from(JSON.stringify({ f: fingerprint(endpoint, query), v: values })).toString("base64url");
  return `${payload}.${sign(key, payload)}`;
}

/**
 * The position a cursor holds, once its signature and its list are checked: a client cannot
 * forge a position (in rows it may not see, or anywhere else), nor reuse a cursor with another
 * ordering, filter or search.
 */
export function decodeCursor(endpoint: ModelEndpoint, query: ListQuery, columns: KeysetColumn[], cursor: string, key: string): unknown[] {
  if (cursor.length > MAX_CURSOR_LENGTH) throw invalidCursor();
  const [payload, signature, extra] = cursor.split(".");
  if (!payload || !signature || extra !== undefined) throw invalidCursor();
  const expected = Buffer.from(sign(key, payload));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw invalidCursor();
  let decoded: { f?: unknown; v?: unknown };
  try {
    decoded = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { f?: unknown; v?: unknown };
  } catch {
    throw invalidCursor();
  }
  if (decoded.f !== fingerprint(endpoint, query) || !Array.isArray(decoded.v) || decoded.v.length !== columns.length) throw invalidCursor();
  return columns.map(({ rule }, index) => {
    const value = decoded.v as unknown[];
    return rule.kind === "datetime" ? new Date(String(value[index])) : value[index];
  });
}

/**
 * Narrows a list to the rows after a position: `(a > x) OR (a = x AND b > y) OR ...` with `<`
 * for descending columns. The cost does not grow with the depth of the page: an index on the
 * order columns finds the position directly, where an offset counts every row before it.
 */
export function applyKeyset(qb: SelectQueryBuilder<ObjectLiteral>, endpoint: ModelEndpoint, columns: KeysetColumn[], values: unknown[]): void {
  const alias = qb.escape(qb.alias);
  const driver = endpoint.runtime.dataSource.driver;
  const params: Record<string, unknown> = {};
  const expressions = columns.map(({ rule }, index) => {
    params[`keyset${index}`] = driver.preparePersistentValue(values[index], rule.relation ? rule.targetPk! : rule.column);
    return `${alias}.${qb.escape(rule.column.databaseName)}`;
  });
  const branches = columns.map(({ descending }, index) => {
    const equal = expressions.slice(0, index).map((expression, before) => `${expression} = :keyset${before}`);
    return `(${[...equal, `${expressions[index]} ${descending ? "<" : ">"} :keyset${index}`].join(" AND ")})`;
  });
  // The first column's range, said again on its own: the ORs alone make the planners walk the
  // index from its start and filter up to the position (a cost that grows with the depth); with it
  // they seek to the position in the index.
  const leading = `${expressions[0]} ${columns[0]!.descending ? "<=" : ">="} :keyset0`;
  qb.andWhere(`(${leading} AND (${branches.join(" OR ")}))`, params);
}
