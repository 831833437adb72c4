import type { ObjectLiteral, SelectQueryBuilder } from "typeorm";
import type { RequestContext } from "../context";
import { throughGate } from "../db/gate";
import { AJAXError, Messages } from "../errors";
import { refuseUnknownFields } from "../params";
import { requireEntity } from "../db/require-entity";
import type { ModelEndpoint } from "../model/endpoint";
import type { EndpointFeature, FeatureRecordOp, FeatureSchema } from "../model/feature";
import { dialectOf } from "../model/dialect";
import { encodeRecords } from "../model/hydrate";
import { announceWrite, loadVisibleRecord } from "../model/ops";
import { Tag, TaggedItem } from "./entities";
import { readTagNames } from "./parse";
import { checkTagCount, findTags, getOrCreateTags, linkTags, setTags, sortedByName, tagsOfRecords, unlinkTags, type TagData } from "./store";

/** The select alias of the tags read along with records. */
const TAGS_ALONG = "tags_along";

/**
 * A scalar sub-select of a record's tags as one JSON array of `{pk, name, slug}`, in the
 * dialect's JSON aggregation: the tags come in the record's own statement.
 *
 * The model is written as a literal (the table name, fixed at start-up), not bound: where
 * SQLite has `sqlite_stat4` statistics (after ANALYZE or `PRAGMA optimize`), a value bound
 * against an indexed column makes it prepare the whole statement again on every run, which
 * took a get's record statement from 8 µs to 32 µs.
 */
function tagsOfRecordSql(qb: SelectQueryBuilder<ObjectLiteral>, alias: string, endpoint: ModelEndpoint): string {
  const escape = (name: string) => qb.escape(name);
  const dataSource = endpoint.runtime.dataSource;
  const links = dataSource.getMetadata(TaggedItem).tableName;
  const tags = dataSource.getMetadata(Tag).tableName;
  const fields = `'pk', ${escape("at")}.${escape("id")}, 'name', ${escape("at")}.${escape("name")}, 'slug', ${escape("at")}.${escape("slug")}`;
  const dialect = dialectOf(dataSource);
  const aggregate = dialect === "postgres" ? `json_agg(json_build_object(${fields}))`
    : dialect === "mysql" ? `JSON_ARRAYAGG(JSON_OBJECT(${fields}))` : `json_group_array(json_object(${fields}))`;
  return `(SELECT ${aggregate} FROM ${escape(links)} ${escape("al")} INNER JOIN ${escape(tags)} ${escape("at")} ON ${escape("at")}.${escape("id")} = ${escape("al")}.${escape("tagId")}
    WHERE ${escape("al")}.${escape("model")} = '${modelKey(endpoint).replace(/'/g, "''")}' AND ${escape("al")}.${escape("objectId")} = ${escape(alias)}.${escape(endpoint.rules.pk.column.databaseName)})`;
}

/** The tags of a record from its aggregate (JSON text, or parsed by the driver; null for none), sorted by name as answers give them. */
function tagsFromAggregate(value: unknown): TagData[] {
  const list = (typeof value === "string" ? JSON.parse(value) : value ?? []) as Array<{ pk: number | string; name: string; slug: string }>;
  // The objects are the aggregate's own (pk, name, slug in that order): only a pk given as text needs changing.
  for (const tag of list) if (typeof tag.pk !== "number") tag.pk = Number(tag.pk);
  return list.length > 1 ? sortedByName(list as TagData[]) : list as TagData[];
}

/** The operators of `filter[tags__<op>]`. */
const TAG_FILTER_OPS: readonly string[] = ["eq", "all", "any", "none"];
const DEFAULT_SIMILAR_LIMIT = 20;
const MAX_SIMILAR_LIMIT = 100;

/** The `model` value of an endpoint's links: its entity's table name. */
function modelKey(endpoint: ModelEndpoint): string {
  return endpoint.metadata.tableName;
}

function readLimit(value: unknown): number {
  if (value === undefined) return DEFAULT_SIMILAR_LIMIT;
  const parsed = typeof value === "number" ? value : typeof value === "string" && /^\d{1,6}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(parsed)) throw new AJAXError(400, Messages.invalid, { errors: { limit: ["A valid integer is required."] } });
  return Math.min(Math.max(parsed, 1), MAX_SIMILAR_LIMIT);
}

/**
 * `similar`: records of the same model sharing at least one tag, not the record itself, by
 * shared-tag count (high first) then pk, through the row scope; one query, counted in the database.
 */
async function similarRecords(endpoint: ModelEndpoint, pk: number, limit: number, ctx: RequestContext): Promise<ObjectLiteral[]> {
  const manager = ctx.manager;
  const qb = endpoint.reader.query(manager, "item");
  const escape = (name: string) => qb.escape(name);
  const links = manager.getRepository(TaggedItem).metadata.tableName;
  qb.innerJoin((sub) => sub.from(TaggedItem, "link")
    .select("link.objectId", "oid").addSelect("COUNT(*)", "shared")
    .where("link.model = :tagModel AND link.objectId <> :tagPk")
    .andWhere(`link.tagId IN (SELECT ${escape("mine")}.${escape("tagId")} FROM ${escape(links)} ${escape("mine")} WHERE ${escape("mine")}.${escape("model")} = :tagModel AND ${escape("mine")}.${escape("objectId")} = :tagPk)`)
    .groupBy("link.objectId"), "matches", `${escape("matches")}.${escape("oid")} = ${escape("item")}.${escape(endpoint.rules.pk.column.databaseName)}`);
  qb.setParameters({ tagModel: modelKey(endpoint), tagPk: pk });
  endpoint.narrowToVisible(qb, ctx);
  qb.orderBy(`${escape("matches")}.${escape("shared")}`, "DESC")
    .addOrderBy(`${escape("item")}.${escape(endpoint.rules.pk.column.databaseName)}`, "ASC")
    .limit(limit);
  const records = await endpoint.reader.load(qb, manager);
  const visible: ObjectLiteral[] = [];
  for (const record of records) if (await endpoint.canGet(ctx.user, record, ctx)) visible.push(record);
  return visible;
}

/** Runs `tags/<command>` on a record the user may see and tag. */
async function runTagCommand(endpoint: ModelEndpoint, command: string, pk: unknown, ctx: RequestContext, maxTags: number): Promise<unknown> {
  const objectId = pk as number;
  const model = modelKey(endpoint);
  if (command === "similar") {
    return throughGate(ctx, "read", async () => {
      await loadVisibleRecord(endpoint, pk, ctx, "check");
      refuseUnknownFields(ctx.params, ["limit"]);
      const limit = readLimit(ctx.params.limit);
      return encodeRecords(endpoint, await similarRecords(endpoint, objectId, limit, ctx), ctx);
    });
  }
  return throughGate(ctx, "write", async (manager) => {
    // The record and the permission first: a caller who may not tag it gets the same 403
    // (or 404) whatever the body holds.
    const record = await loadVisibleRecord(endpoint, pk, ctx, "check");
    if (!(await endpoint.canTag(ctx.user, record as never, ctx))) throw new AJAXError(403, Messages.forbidden);
    refuseUnknownFields(ctx.params, command === "clear" ? [] : ["tags"]);
    if (command !== "clear" && ctx.params.tags === undefined) {
      throw new AJAXError(400, Messages.invalid, { errors: { tags: [Messages.required] } });
    }
    const names = command === "clear" ? [] : readTagNames(ctx.params.tags);
    const before = (await tagsOfRecords(manager, model, [objectId])).get(objectId) ?? [];
    if (command === "add") {
      checkTagCount(new Set([...tagNames(before), ...names]).size, maxTags);
      await linkTags(manager, model, objectId, await getOrCreateTags(manager, names));
    } else if (command === "set") await setTags(manager, model, objectId, names, maxTags);
    // The tags read above are the ones to unlink: no second read.
    else if (command === "clear") await unlinkTags(manager, model, objectId, before.map((tag) => tag.pk));
    else if (command === "remove" && names.length > 0) {
      await unlinkTags(manager, model, objectId, (await findTags(manager, names)).map((tag) => tag.id));
    }
    const after = (await tagsOfRecords(manager, model, [objectId])).get(objectId) ?? [];
    // Other features of the endpoint (an audit trail) hear of the change.
    if (!sameNames(tagNames(before), tagNames(after))) {
      await announceWrite({
        op: "tags", endpoint, pk, before: record, after: record, changes: {}, extra: {}, alsoChanged: { tags: [tagNames(before), tagNames(after)] },
      }, ctx);
    }
    return after;
  });
}

/** The names of tags, in the order given (answers sort them by name). */
function tagNames(tags: readonly TagData[]): string[] {
  return tags.map((tag) => tag.name);
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name, index) => name === b[index]);
}

/** `filter[tags]`, `filter[tags__all]`, `filter[tags__any]`, `filter[tags__none]` by tag name. */
function tagFilter(qb: SelectQueryBuilder<ObjectLiteral>, op: string, value: unknown, endpoint: ModelEndpoint, index: number): string | null {
  if (!TAG_FILTER_OPS.includes(op)) return `Filter operator "${op}" is not allowed.`;
  let names: string[];
  try {
    // eq names one tag, commas and all; it is checked as a list of that one name.
    names = op === "eq" ? (typeof value === "string" && value.trim() !== "" ? readTagNames([value], "filter") : []) : readTagNames(value, "filter");
  } catch {
    return "Must be a list of tag names.";
  }
  if (names.length === 0) return "Name at least one tag.";
  const escape = (name: string) => qb.escape(name);
  const links = endpoint.runtime.dataSource.getMetadata(TaggedItem).tableName;
  const tags = endpoint.runtime.dataSource.getMetadata(Tag).tableName;
  const namesParam = `tagNames${index}`;
  const modelParam = `tagModel${index}`;
  const l = escape(`tl${index}`);
  const t = escape(`tt${index}`);
  const matching = `FROM ${escape(links)} ${l} INNER JOIN ${escape(tags)} ${t} ON ${t}.${escape("id")} = ${l}.${escape("tagId")}
    WHERE ${l}.${escape("model")} = :${modelParam} AND ${l}.${escape("objectId")} = ${escape(qb.alias)}.${escape(endpoint.rules.pk.column.databaseName)}
    AND ${t}.${escape("name")} IN (:...${namesParam})`;
  qb.setParameter(namesParam, names).setParameter(modelParam, modelKey(endpoint));
  if (op === "none") qb.andWhere(`NOT EXISTS (SELECT 1 ${matching})`);
  else if (op === "all") {
    // Driven by the tags: their links (by the tag index) grouped per record, not a count per article.
    qb.andWhere(`${escape(qb.alias)}.${escape(endpoint.rules.pk.column.databaseName)} IN (SELECT ${l}.${escape("objectId")}
      FROM ${escape(links)} ${l} INNER JOIN ${escape(tags)} ${t} ON ${t}.${escape("id")} = ${l}.${escape("tagId")}
      WHERE ${l}.${escape("model")} = :${modelParam} AND ${t}.${escape("name")} IN (:...${namesParam})
      GROUP BY ${l}.${escape("objectId")} HAVING COUNT(DISTINCT ${l}.${escape("tagId")}) = ${names.length})`);
  } else qb.andWhere(`EXISTS (SELECT 1 ${matching})`);
  return null;
}

declare module "../model/define" {
  interface FeatureFilterNames {
    /** `filter[tags]`, `filter[tags__all]`, `__any`, `__none` (the {@link tags} feature). */
    tags: true;
  }
}

/** Settings of the {@link tags} feature. */
export interface TagsOptions {
  /** The most tags one record may have; more is a `400` on `tags` (default 50). */
  maxTags?: number;
}

const TAG_LIST = { type: "array", items: { $ref: "#/components/schemas/Tag" } };
/** How many tags a record holds unless `maxTags` says otherwise. */
const DEFAULT_MAX_TAGS = 50;

/**
 * Tags as django-taggit has them (CONTRACT.md §7): the `tags/add`, `remove`, `set`, `clear`
 * and `similar` ops, a `tags` field in create, update and answers, and `filter[tags...]`
 * (list `"tags"` in `filterFields`). Needs an integer primary key, and `Tag` and `TaggedItem`
 * in the DataSource.
 *
 * @example class ArticleEndpoint extends ModelEndpoint<Article> { entity = Article; features = [tags({ maxTags: 20 })]; }
 */
export function tags(options: TagsOptions = {}): EndpointFeature {
  const maxTags = options.maxTags ?? DEFAULT_MAX_TAGS;
  // The schemas that carry the limit are named by it when it is not the default, so that two
  // endpoints with different limits each document their own (components are shared by name).
  const limited = maxTags === DEFAULT_MAX_TAGS ? "" : String(maxTags);
  const tagNamesName = `TagNames${limited}`;
  const tagsBodyName = `TagsBody${limited}`;
  const tagNamesRef = { $ref: `#/components/schemas/${tagNamesName}` };
  const TAGS_BODY = { $ref: `#/components/schemas/${tagsBodyName}` };
  const command = (name: string, summary: string, body: FeatureSchema | undefined, data: FeatureRecordOp["data"]): FeatureRecordOp => ({
    run: (endpoint, pk, ctx) => runTagCommand(endpoint, name, pk, ctx, maxTags), summary, body, bodyRequired: body === TAGS_BODY, data,
  });
  /**
   * Tags read with their records, kept on the record object under this feature's own symbol:
   * nothing outlives the record, and a property costs less than a WeakMap entry per listed
   * record (those also weigh on every garbage collection). A symbol never reaches JSON.
   */
  const readAlongTags = Symbol("tags read along");
  type WithTags = ObjectLiteral & { [readAlongTags]?: TagData[] };
  return {
    name: "tags",
    check(endpoint) {
      if (endpoint.rules.pk.kind !== "integer") throw new Error(`ajax-endpoints: tags need an integer primary key (${endpoint.metadata.name})`);
      const why = `${endpoint.metadata.name}'s endpoint has tags`;
      requireEntity(endpoint.runtime.dataSource, Tag, "Tag", why);
      requireEntity(endpoint.runtime.dataSource, TaggedItem, "TaggedItem", why);
    },
    recordOps: {
      "tags/add": command("add", "Add tags", TAGS_BODY, TAG_LIST),
      "tags/remove": command("remove", "Remove tags (unknown names are ignored)", TAGS_BODY, TAG_LIST),
      "tags/set": command("set", "Set exactly these tags", TAGS_BODY, TAG_LIST),
      "tags/clear": command("clear", "Remove every tag", undefined, TAG_LIST),
      "tags/similar": { ...command("similar", "Records sharing tags with this one, most shared first", { $ref: "#/components/schemas/SimilarQuery" }, "records"), readOnly: true },
    },
    filters: { tags: tagFilter },
    writableKeys: ["tags"],
    async afterWrite(event, ctx) {
      const objectId = event.pk as number;
      if (event.op === "delete") {
        if (!event.soft) await unlinkTags(ctx.manager, modelKey(event.endpoint), objectId);
      }
      else if (event.extra.tags !== undefined) {
        const model = modelKey(event.endpoint);
        const before = tagNames(await setTags(ctx.manager, model, objectId, readTagNames(event.extra.tags), maxTags));
        const tagsAfter = (await tagsOfRecords(ctx.manager, model, [objectId])).get(objectId) ?? [];
        // The record was read back (with its tags) before they were set: the answer shows the new ones.
        if (event.after) (event.after as WithTags)[readAlongTags] = tagsAfter;
        const after = tagNames(tagsAfter);
        if (!sameNames(before, after)) event.alsoChanged.tags = [before, after];
      }
    },
    readAlong(qb, alias, endpoint, _ctx, rows) {
      // A PostgreSQL page reads its tags in one batch (encode): with a small tag table PostgreSQL
      // plans the per-row sub-select as a hash join over every tag, about 20 µs a row (1.0 ms of
      // database time for a page of 50 against 0.3 ms for the batch, EXPLAIN ANALYZE on the bench
      // data). One record, and pages on SQLite (64 µs folded against 104 µs batched) and MariaDB, fold them in.
      if (rows === "many" && dialectOf(endpoint.runtime.dataSource) === "postgres") return undefined;
      qb.addSelect(tagsOfRecordSql(qb, alias, endpoint), TAGS_ALONG);
      return (record, row) => { (record as WithTags)[readAlongTags] = tagsFromAggregate(row[TAGS_ALONG]); };
    },
    async encode(endpoint, records, encoded, ctx) {
      if (records.length === 0) return;
      // Tags read with the records (readAlong) need no statement; hydration's and similar's records do.
      const missing = records.filter((record) => (record as WithTags)[readAlongTags] === undefined).map((record) => endpoint.reader.pkOf(record) as number);
      const found = missing.length > 0 ? await tagsOfRecords(ctx.manager, modelKey(endpoint), missing) : undefined;
      encoded.forEach((item, index) => {
        const record = records[index]!;
        item.tags = (record as WithTags)[readAlongTags] ?? found?.get(endpoint.reader.pkOf(record) as number) ?? ([] as TagData[]);
      });
    },
    openapi: {
      components: {
        Tag: {
          type: "object", description: "A tag as records and tag ops show it.", required: ["pk", "name", "slug"], additionalProperties: false,
          properties: { pk: { type: "integer" }, name: { type: "string" }, slug: { type: "string" } },
        },
        [tagsBodyName]: { type: "object", required: ["tags"], properties: { tags: tagNamesRef }, additionalProperties: false },
        SimilarQuery: {
          type: "object", properties: { limit: { type: "integer", default: DEFAULT_SIMILAR_LIMIT, description: `Clamped to 1..${MAX_SIMILAR_LIMIT}.` } }, additionalProperties: false,
        },
        [tagNamesName]: {
          description: "A list of tag names, or one string parsed as django-taggit does (quoted runs are one tag; commas split when there is one, else spaces).",
          oneOf: [{ type: "array", items: { type: "string", minLength: 1, maxLength: 100 }, maxItems: maxTags }, { type: "string" }],
        },
      },
      readProperties: { tags: { ...TAG_LIST, description: "The record's tags, sorted by name (not on records nested by hydration)." } },
      writeProperties: { tags: tagNamesRef },
      filterProperties: (_name, ops) => Object.fromEntries(TAG_FILTER_OPS.filter((op) => !ops || ops.includes(op)).map((op) => [op === "eq" ? "tags" : `tags__${op}`,
        op === "eq" ? { type: "string", description: "Records with this tag." } : { ...tagNamesRef, description: `Records with ${op} of these tags.` }])),
    },
  };
}
