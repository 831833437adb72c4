import type { EntityManager, ObjectLiteral } from "typeorm";
import type { RequestContext } from "../context";
import type { FieldRule } from "./fields";
import { ModelEndpoint } from "./endpoint";
import { queryTemplates } from "../db/compiled";
import { compileRecordEncoder } from "./record-code";
import { recordKey, relationPk, RowReader, shownColumns } from "./rows";

/** Marks a related record the user may not see: it is shown as its pk. */
const DENIED = Symbol("denied");
type Cached = ObjectLiteral | typeof DENIED;
type Cache = Map<ModelEndpoint, Map<string, Cached>>;

/**
 * Relations an endpoint expands, worked out once per binding: keyed by the endpoint's field
 * rules, which `bind()` builds anew for every router the endpoint is registered with.
 */
const expandedRelations = new WeakMap<object, ReadonlySet<FieldRule>>();

/** Relations of an endpoint that are expanded into records. */
export function hydratedRelations(endpoint: ModelEndpoint): ReadonlySet<FieldRule> {
  let relations = expandedRelations.get(endpoint.rules);
  if (!relations) {
    const only = endpoint.hydrate ? new Set(endpoint.hydrate) : undefined;
    relations = new Set(endpoint.rules.readable.filter((rule) => rule.relation && (!only || only.has(rule.name))
      && !endpoint.runtime.endpointFor(rule.relation.inverseEntityMetadata).isFallback));
    expandedRelations.set(endpoint.rules, relations);
  }
  return relations;
}

/** Readers of only the shown columns, per binding (field rules) and column-alias prefix. */
const shownReaders = new WeakMap<object, Map<string, RowReader>>();

/** A reader of only the columns a response shows, with column aliases starting `prefix`. */
export function shownReader(endpoint: ModelEndpoint, prefix = "f"): RowReader {
  let byPrefix = shownReaders.get(endpoint.rules);
  if (!byPrefix) shownReaders.set(endpoint.rules, byPrefix = new Map());
  let reader = byPrefix.get(prefix);
  if (!reader) byPrefix.set(prefix, reader = new RowReader(endpoint.rules, endpoint.runtime.dataSource, shownColumns(endpoint.rules), prefix));
  return reader;
}

/** The endpoint overrides `canGet`, which may look at any column: its records are read whole. */
export function decidesCanGetItself(endpoint: ModelEndpoint): boolean {
  return endpoint.canGet !== ModelEndpoint.prototype.canGet;
}

/** Whether reads of the endpoint's rows are narrowed at all: its own row scope, or a feature's (soft delete). */
export function narrowsItsReads(endpoint: ModelEndpoint): boolean {
  return endpoint.scope !== ModelEndpoint.prototype.scope || endpoint.narrowToVisible !== ModelEndpoint.prototype.narrowToVisible
    || endpoint.featureSet.list.some((feature) => feature.narrowReads);
}

/**
 * How related records are read: only the columns a response shows (a user's password hash
 * and e-mail are never read to be dropped), unless the endpoint decides `canGet` itself,
 * which may look at any column.
 */
export function relatedReader(endpoint: ModelEndpoint): RowReader {
  return decidesCanGetItself(endpoint) ? endpoint.reader : shownReader(endpoint);
}

/**
 * The SQL of a read by pks (`:...hydratePks`) of an endpoint whose reads nothing narrows, per
 * reader: the same for every request, so it is built once and only bound after that.
 */
const unnarrowedByPks = new WeakMap<RowReader, string>();

/**
 * Loads records of `endpoint` by pk, through its row scope and `canGet`: the one way a
 * related record is read, so hydration and FK checks apply the same policy.
 */
export async function loadVisibleByPks(
  endpoint: ModelEndpoint, pks: unknown[], ctx: RequestContext, manager: EntityManager = ctx.manager,
): Promise<Map<string, ObjectLiteral>> {
  const visible = new Map<string, ObjectLiteral>();
  if (pks.length === 0) return visible;
  const alias = endpoint.metadata.tableName.replace(/[^a-zA-Z0-9_]/g, "_") || "t";
  const pkColumn = endpoint.rules.pk.column;
  const byText = new Map<string, unknown>();
  for (const pk of pks) if (!byText.has(String(pk))) byText.set(String(pk), pk);
  const unique = [...byText.values()];
  const reader = relatedReader(endpoint);
  const narrows = narrowsItsReads(endpoint);
  // The default canGet lets every record through: no await per record for it.
  const decides = decidesCanGetItself(endpoint);
  for (let start = 0; start < unique.length; start += 500) {
    const chunk = unique.slice(start, start + 500);
    let records: ObjectLiteral[];
    const built = narrows ? undefined : unnarrowedByPks.get(reader);
    if (built !== undefined) {
      records = reader.decode(await queryTemplates(endpoint.runtime.dataSource).rowsOf(built, { hydratePks: chunk }, manager, "by-key"));
    } else {
      const qb = reader.query(manager, alias);
      qb.where(`${qb.escape(alias)}.${qb.escape(pkColumn.databaseName)} IN (:...hydratePks)`, { hydratePks: chunk });
      endpoint.narrowToVisible(qb, ctx);
      if (!narrows) unnarrowedByPks.set(reader, qb.getQuery());
      records = await reader.load(qb, manager, "by-key");
    }
    for (const record of records) {
      if (!decides || await endpoint.canGet(ctx.user, record, ctx)) visible.set(String(reader.pkOf(record)), record);
    }
  }
  return visible;
}

/** A related record its parent's own query joined (src/model/joined.ts): null when it is not visible. */
export interface JoinedRelated {
  target: ModelEndpoint;
  pk: unknown;
  related: ObjectLiteral | null;
}

/**
 * Related records read with each record, kept on the record under a symbol: nothing outlives
 * it, and a property costs less than a WeakMap entry per record. A symbol never reaches JSON.
 */
const JOINED = Symbol("related records read along");

/** Remembers the related records read together with `record`; hydration then reads them no more. */
export function rememberJoined(record: ObjectLiteral, joined: JoinedRelated[]): void {
  (record as { [JOINED]?: JoinedRelated[] })[JOINED] = joined;
}

/** Fetches every related record the encoding will need: one query per related endpoint per level. */
async function fetchRelated(root: ModelEndpoint, records: ObjectLiteral[], depth: number, ctx: RequestContext): Promise<Cache> {
  const cache: Cache = new Map();
  let level = new Map<ModelEndpoint, ObjectLiteral[]>([[root, records]]);
  // Related records already joined into the records' own query count as fetched (first level).
  const joinedNext = new Map<ModelEndpoint, ObjectLiteral[]>();
  for (const record of records) {
    for (const { target, pk, related } of (record as { [JOINED]?: JoinedRelated[] })[JOINED] ?? []) {
      let entries = cache.get(target);
      if (!entries) cache.set(target, entries = new Map());
      entries.set(String(pk), related ?? DENIED);
      if (related) {
        let list = joinedNext.get(target);
        if (!list) joinedNext.set(target, list = []);
        list.push(related);
      }
    }
  }
  for (let d = 1; d <= depth && level.size > 0; d++) {
    const wanted = new Map<ModelEndpoint, unknown[]>();
    for (const [endpoint, levelRecords] of level) {
      for (const rule of hydratedRelations(endpoint)) {
        const target = endpoint.runtime.endpointFor(rule.relation!.inverseEntityMetadata);
        const known = cache.get(target);
        const list = wanted.get(target) ?? [];
        for (const record of levelRecords) {
          const pk = relationPk(record[rule.name], rule.targetPk!);
          if (pk !== null && !known?.has(String(pk))) list.push(pk);
        }
        if (list.length > 0) wanted.set(target, list);
      }
    }
    const next = new Map<ModelEndpoint, ObjectLiteral[]>();
    for (const [target, pks] of wanted) {
      const visible = await loadVisibleByPks(target, pks, ctx);
      const entries = cache.get(target) ?? new Map<string, Cached>();
      cache.set(target, entries);
      for (const pk of pks) if (!entries.has(String(pk))) entries.set(String(pk), visible.get(String(pk)) ?? DENIED);
      next.set(target, [...visible.values()]);
    }
    if (d === 1) for (const [target, joined] of joinedNext) next.set(target, [...(next.get(target) ?? []), ...joined]);
    level = next;
  }
  return cache;
}

const twoDigits = (n: number) => (n < 10 ? `0${n}` : `${n}`);

/**
 * `date.toISOString()` for years 1000 to 9999, written out from its UTC fields in less than half
 * the time (a listed record has two or three dates); other years, `toISOString()`'s own.
 */
function isoText(date: Date): string {
  const year = date.getUTCFullYear();
  if (year < 1000 || year > 9999) return date.toISOString();
  const ms = date.getUTCMilliseconds();
  return `${year}-${twoDigits(date.getUTCMonth() + 1)}-${twoDigits(date.getUTCDate())}T${twoDigits(date.getUTCHours())}:${twoDigits(date.getUTCMinutes())}:${twoDigits(date.getUTCSeconds())}.${ms < 10 ? "00" : ms < 100 ? "0" : ""}${ms}Z`;
}

/** A stored value as it goes on the wire: dates as ISO 8601 in UTC, decimals and big integers as strings. */
export function encodeValue(value: unknown, rule: FieldRule): unknown {
  // Text, numbers and booleans first: they are most values.
  switch (typeof value) {
    case "string": case "boolean": return value;
    case "number": return rule.kind === "decimal" ? String(value) : value;
    case "bigint": return String(value);
  }
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : isoText(value);
  if (rule.kind === "decimal") return String(value);
  if (Buffer.isBuffer(value)) return value.toString("base64");
  return value;
}

/** Where an encoding is: how many more levels relations expand, the records on the way (cycles), the related records fetched. */
interface EncodeContext {
  depthLeft: number;
  path: Set<string>;
  cache: Cache;
}

type RecordEncoder = (record: ObjectLiteral, context: EncodeContext) => ObjectLiteral;

/** Record encoders per binding (field rules), written once (src/model/record-code.ts): every field of every listed record goes through them. */
const encodersByRules = new WeakMap<object, RecordEncoder>();

/**
 * The encoder of an endpoint's records: its readable fields in order, each value by
 * {@link encodeValue}, each relation as its related record (by the related endpoint's encoder,
 * when it is expanded, fetched, visible and not already on the path) or as its pk.
 */
function recordEncoder(endpoint: ModelEndpoint): RecordEncoder {
  let encoder = encodersByRules.get(endpoint.rules);
  if (encoder) return encoder;
  const readable = endpoint.rules.readable;
  const expand = hydratedRelations(endpoint);
  const targets = readable.map((rule) => (rule.relation ? endpoint.runtime.endpointFor(rule.relation.inverseEntityMetadata) : undefined));
  const relation = (index: number, value: unknown, context: EncodeContext): unknown => {
    const rule = readable[index]!;
    const target = targets[index]!;
    const pk = relationPk(value, rule.targetPk!);
    if (pk === null) return null;
    const related = context.depthLeft > 0 && expand.has(rule) ? context.cache.get(target)?.get(String(pk)) : undefined;
    const key = related === undefined || related === DENIED ? undefined : recordKey(target.metadata.name, pk);
    if (key === undefined || context.path.has(key)) return encodeValue(pk, target.rules.pk);
    context.path.add(key);
    context.depthLeft--;
    const nested = recordEncoder(target)(related as ObjectLiteral, context);
    context.depthLeft++;
    context.path.delete(key);
    return nested;
  };
  encoder = compileRecordEncoder<EncodeContext>(
    readable.map((rule) => ({ name: rule.name, relation: rule.relation !== undefined, plainPrimitives: rule.kind !== "decimal" })),
    (index, value) => encodeValue(value, readable[index]!),
    relation,
  );
  encodersByRules.set(endpoint.rules, encoder);
  return encoder;
}

/**
 * Encodes records for a response: each field by the endpoint's rules, each relation expanded
 * into the related record by the related endpoint's rules (depth-limited, cycle-safe, through
 * its row scope), or given as its pk.
 */
export async function encodeRecords(
  endpoint: ModelEndpoint, records: ObjectLiteral[], ctx: RequestContext, depth = endpoint.depth,
): Promise<ObjectLiteral[]> {
  const cache = depth > 0 ? await fetchRelated(endpoint, records, depth, ctx) : new Map();
  // One context for all records: the encoder leaves it as it found it (the path holds the record's own key).
  const context: EncodeContext = { depthLeft: depth, path: new Set<string>(), cache };
  const encode = recordEncoder(endpoint);
  const encoded = records.map((record) => {
    context.path.clear();
    context.path.add(recordKey(endpoint.metadata.name, endpoint.reader.pkOf(record)));
    return encode(record, context);
  });
  for (const feature of endpoint.featureSet.list) await feature.encode?.(endpoint, records, encoded, ctx);
  return encoded;
}

