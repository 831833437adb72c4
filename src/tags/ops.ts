import type { ObjectLiteral, SelectQueryBuilder } from "typeorm";
import type { RequestContext } from "../context";
import { throughGate } from "../db/gate";
import { AJAXError, Messages } from "../errors";
import { refuseUnknownFields } from "../params";
import { setTagsProbe } from "../http/routes";
import type { ModelEndpoint } from "../model/endpoint";
import { addEncodeExtension, encodeRecords } from "../model/hydrate";
import { addCustomFilter } from "../model/list";
import { addWriteExtension, loadVisibleRecord } from "../model/ops";
import { addWriteKeyHandler } from "../model/write";
import { setTagCommandRunner } from "../router";
import { Tag, TaggedItem } from "./entities";
import { readTagNames } from "./parse";
import { checkTagCount, getOrCreateTags, linkTags, setTags, tagsOfRecords, unlinkTags, type TagData } from "./store";

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
  endpoint.scope(qb as never, ctx.user, ctx);
  qb.orderBy(`${escape("matches")}.${escape("shared")}`, "DESC")
    .addOrderBy(`${escape("item")}.${escape(endpoint.rules.pk.column.databaseName)}`, "ASC")
    .limit(limit);
  const records = await endpoint.reader.load(qb, manager);
  const visible: ObjectLiteral[] = [];
  for (const record of records) if (await endpoint.canGet(ctx.user, record, ctx)) visible.push(record);
  return visible;
}

/** Runs `tags/<command>` on a record the user may see and tag. */
async function runTagCommand(endpoint: ModelEndpoint, command: string, pk: unknown, ctx: RequestContext): Promise<unknown> {
  const objectId = pk as number;
  const model = modelKey(endpoint);
  if (command === "similar") {
    return throughGate(ctx, "read", async () => {
      await loadVisibleRecord(endpoint, pk, ctx);
      refuseUnknownFields(ctx.params, ["limit"]);
      const limit = readLimit(ctx.params.limit);
      return encodeRecords(endpoint, await similarRecords(endpoint, objectId, limit, ctx), ctx);
    });
  }
  return throughGate(ctx, "write", async (manager) => {
    // The record and the permission first: a caller who may not tag it gets the same 403
    // (or 404) whatever the body holds.
    const record = await loadVisibleRecord(endpoint, pk, ctx);
    if (!(await endpoint.canTag(ctx.user, record as never, ctx))) throw new AJAXError(403, Messages.forbidden);
    refuseUnknownFields(ctx.params, command === "clear" ? [] : ["tags"]);
    if (command !== "clear" && ctx.params.tags === undefined) {
      throw new AJAXError(400, Messages.invalid, { errors: { tags: [Messages.required] } });
    }
    const names = command === "clear" ? [] : readTagNames(ctx.params.tags);
    if (command === "add") {
      const current = (await tagsOfRecords(manager, model, [objectId])).get(objectId) ?? [];
      checkTagCount(new Set([...current.map((tag) => tag.name), ...names]).size, endpoint.maxTags);
      await linkTags(manager, model, objectId, await getOrCreateTags(manager, names));
    } else if (command === "set") await setTags(manager, model, objectId, names, endpoint.maxTags);
    else if (command === "clear") await unlinkTags(manager, model, objectId);
    else if (command === "remove" && names.length > 0) {
      const tags = await manager.createQueryBuilder(Tag, "tag").where("tag.name IN (:...names)", { names }).getMany();
      await unlinkTags(manager, model, objectId, tags.map((tag) => tag.id));
    }
    return (await tagsOfRecords(manager, model, [objectId])).get(objectId) ?? [];
  });
}

/** `filter[tags]`, `filter[tags__all]`, `filter[tags__any]`, `filter[tags__none]` by tag name. */
function tagFilter(qb: SelectQueryBuilder<ObjectLiteral>, op: string, value: unknown, endpoint: ModelEndpoint, index: number): string | null {
  if (!["eq", "all", "any", "none"].includes(op)) return `Filter operator "${op}" is not allowed.`;
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

let installed = false;

/** Plugs tags into the router, the list filters and the encoder. Runs once, on import of the package. */
export function installTags(): void {
  if (installed) return;
  installed = true;
  setTagsProbe((endpoint) => endpoint.tags);
  setTagCommandRunner(runTagCommand);
  addCustomFilter("tags", tagFilter);
  addWriteKeyHandler((endpoint, key) => endpoint.tags && key === "tags");
  addWriteExtension(async (op, endpoint, pk, extra, ctx) => {
    if (!endpoint.tags) return;
    const objectId = pk as number;
    if (op === "delete") await unlinkTags(ctx.manager, modelKey(endpoint), objectId);
    else if (extra.tags !== undefined) await setTags(ctx.manager, modelKey(endpoint), objectId, readTagNames(extra.tags), endpoint.maxTags);
  });
  addEncodeExtension(async (endpoint, records, encoded, ctx) => {
    if (!endpoint.tags || records.length === 0) return;
    const ids = records.map((record) => endpoint.reader.pkOf(record) as number);
    const tags = await tagsOfRecords(ctx.manager, modelKey(endpoint), ids);
    encoded.forEach((item, index) => { item.tags = tags.get(ids[index]!) ?? ([] as TagData[]); });
  });
}
