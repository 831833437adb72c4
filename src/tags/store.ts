import { randomBytes } from "node:crypto";
import type { EntityManager } from "typeorm";
import { queryTemplates } from "../db/compiled";
import { AJAXError, Messages } from "../errors";
import { Tag, TaggedItem } from "./entities";
import { slugify } from "./parse";

/** A `400` on `tags` when a record would have more than `maxTags` tags. */
export function checkTagCount(count: number, maxTags: number): void {
  if (count > maxTags) throw new AJAXError(400, Messages.invalid, { errors: { tags: [`A record has at most ${maxTags} tags.`] } });
}

/** A tag as it goes on the wire. */
export interface TagData {
  pk: number;
  name: string;
  slug: string;
}

const byName = (a: TagData, b: TagData) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** Tags in the order answers give them: by name. */
export function sortedByName(tags: TagData[]): TagData[] {
  return tags.sort(byName);
}

/** Tags with these exact names. */
export async function findTags(manager: EntityManager, names: string[]): Promise<Tag[]> {
  if (names.length === 0) return [];
  return manager.createQueryBuilder(Tag, "tag").where("tag.name IN (:...names)", { names }).getMany();
}

/** How many suffixes (`_1`, `_2`, ...) a new tag's slug tries before a random one. */
const SLUG_PROBES = 5;

/**
 * The tags with these names, creating the missing ones with taggit's slugs (`new-york`, then
 * `new-york_1`, ...). The unique indexes decide: each pass inserts the missing names with the
 * next slug candidate, ignoring conflicts, and reads back by name; a name still missing had its
 * slug taken and tries the next one. A tag another request created meanwhile is simply found.
 * No pass reads other tags' slugs, so the cost does not grow with the number of tags.
 */
export async function getOrCreateTags(manager: EntityManager, names: string[]): Promise<Tag[]> {
  let found = await findTags(manager, names);
  for (let attempt = 0; ; attempt++) {
    const missing = names.filter((name) => !found.some((tag) => tag.name === name));
    if (missing.length === 0) return found;
    if (attempt > SLUG_PROBES + 2) throw new Error(`tags ${JSON.stringify(missing)} could neither be found nor created`);
    const suffix = attempt === 0 ? "" : attempt <= SLUG_PROBES ? `_${attempt}` : `_${randomBytes(4).toString("hex")}`;
    await manager.createQueryBuilder().insert().into(Tag)
      .values(missing.map((name) => ({ name, slug: `${slugify(name)}${suffix}` }))).orIgnore().execute();
    found = [...found, ...await findTags(manager, missing)];
  }
}

/**
 * Deletes those of these tags that no record uses any more, in the transaction that unlinked
 * them: a tag lives as long as something is tagged with it.
 */
export async function removeOrphanTags(manager: EntityManager, tagIds: number[]): Promise<void> {
  if (tagIds.length === 0) return;
  const escape = (name: string) => manager.dataSource.driver.escape(name);
  const links = manager.dataSource.getMetadata(TaggedItem).tableName;
  const tags = manager.dataSource.getMetadata(Tag).tableName;
  // MariaDB refuses a DELETE whose subquery reads the table it deletes from; this one reads the links only.
  await manager.createQueryBuilder().delete().from(Tag)
    .where(`${escape("id")} IN (:...tagIds)`, { tagIds })
    .andWhere(`NOT EXISTS (SELECT 1 FROM ${escape(links)} ${escape("l")} WHERE ${escape("l")}.${escape("tagId")} = ${escape(tags)}.${escape("id")})`)
    .execute();
}

/** Links tags to a record; links that exist already are left alone. */
export async function linkTags(manager: EntityManager, model: string, objectId: number, tags: Tag[]): Promise<void> {
  if (tags.length === 0) return;
  await manager.createQueryBuilder().insert().into(TaggedItem)
    .values(tags.map((tag) => ({ tagId: tag.id, model, objectId }))).orIgnore().execute();
}

/**
 * Removes a record's links to these tags (all of them when `tagIds` is undefined), and the
 * tags that were used by nothing else.
 */
export async function unlinkTags(manager: EntityManager, model: string, objectId: number, tagIds?: number[]): Promise<void> {
  if (tagIds && tagIds.length === 0) return;
  const removed = tagIds ?? ((await tagsOfRecords(manager, model, [objectId])).get(objectId) ?? []).map((tag) => tag.pk);
  if (removed.length === 0) return;
  const escape = (name: string) => manager.dataSource.driver.escape(name);
  await manager.createQueryBuilder().delete().from(TaggedItem)
    .where(`${escape("model")} = :model AND ${escape("objectId")} = :objectId`, { model, objectId })
    .andWhere(`${escape("tagId")} IN (:...tagIds)`, { tagIds: removed })
    .execute();
  await removeOrphanTags(manager, removed);
}

/** The tags of many records of one model, in one query, each list sorted by name. */
export async function tagsOfRecords(manager: EntityManager, model: string, objectIds: number[]): Promise<Map<number, TagData[]>> {
  const result = new Map<number, TagData[]>(objectIds.map((id) => [id, []]));
  if (objectIds.length === 0) return result;
  const qb = manager.createQueryBuilder(TaggedItem, "link").innerJoin("link.tag", "tag")
    .select("link.objectId", "oid").addSelect("tag.id", "tid").addSelect("tag.name", "tname").addSelect("tag.slug", "tslug")
    .where("link.model = :model AND link.objectId IN (:...objectIds)", { model, objectIds });
  // Every response of a tagged model runs this: bound parameters, one prepared statement per page size.
  const rows = await queryTemplates(manager.dataSource).rawRows(qb, manager, "by-key") as Array<{ oid: number | string; tid: number | string; tname: string; tslug: string }>;
  for (const row of rows) {
    result.get(Number(row.oid))?.push({ pk: Number(row.tid), name: row.tname, slug: row.tslug });
  }
  for (const list of result.values()) sortedByName(list);
  return result;
}

/** Makes a record's tags exactly `names` (at most `maxTags` of them, else a `400`); answers the tags it had before. */
export async function setTags(manager: EntityManager, model: string, objectId: number, names: string[], maxTags: number): Promise<TagData[]> {
  checkTagCount(names.length, maxTags);
  const tags = await getOrCreateTags(manager, names);
  const current = (await tagsOfRecords(manager, model, [objectId])).get(objectId) ?? [];
  const keep = new Set(tags.map((tag) => tag.id));
  await unlinkTags(manager, model, objectId, current.filter((tag) => !keep.has(tag.pk)).map((tag) => tag.pk));
  await linkTags(manager, model, objectId, tags);
  return current;
}
