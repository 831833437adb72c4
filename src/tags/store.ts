import type { EntityManager } from "typeorm";
import { queryTemplates } from "../db/compiled";
import { escapeLike } from "../model/dialect";
import { Tag, TaggedItem } from "./entities";
import { slugify } from "./parse";

/** A tag as it goes on the wire. */
export interface TagData {
  pk: number;
  name: string;
  slug: string;
}

const byName = (a: TagData, b: TagData) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** Tags with these exact names. */
async function findTags(manager: EntityManager, names: string[]): Promise<Tag[]> {
  if (names.length === 0) return [];
  return manager.createQueryBuilder(Tag, "tag").where("tag.name IN (:...names)", { names }).getMany();
}

/**
 * The tags with these names, creating the missing ones with taggit's slugs (`new-york`, then
 * `new-york_1`, ...). Inserts ignore conflicts, so a tag created meanwhile by another request
 * is found on the next pass instead of failing the transaction.
 */
export async function getOrCreateTags(manager: EntityManager, names: string[]): Promise<Tag[]> {
  for (let attempt = 0; ; attempt++) {
    const found = await findTags(manager, names);
    const missing = names.filter((name) => !found.some((tag) => tag.name === name));
    if (missing.length === 0) return found;
    if (attempt === 3) throw new Error(`tags ${JSON.stringify(missing)} could neither be found nor created`);
    const taken = new Set<string>();
    for (const base of new Set(missing.map(slugify))) {
      const rows = await manager.createQueryBuilder(Tag, "tag").select("tag.slug", "slug")
        .where("tag.slug LIKE :prefix ESCAPE '!'", { prefix: `${escapeLike(base)}%` }).getRawMany<{ slug: string }>();
      for (const row of rows) taken.add(row.slug);
    }
    const fresh = missing.map((name) => {
      const base = slugify(name);
      let slug = base;
      for (let n = 1; taken.has(slug); n++) slug = `${base}_${n}`;
      taken.add(slug);
      return { name, slug };
    });
    await manager.createQueryBuilder().insert().into(Tag).values(fresh).orIgnore().execute();
  }
}

/** Links tags to a record; links that exist already are left alone. */
export async function linkTags(manager: EntityManager, model: string, objectId: number, tags: Tag[]): Promise<void> {
  if (tags.length === 0) return;
  await manager.createQueryBuilder().insert().into(TaggedItem)
    .values(tags.map((tag) => ({ tagId: tag.id, model, objectId }))).orIgnore().execute();
}

/** Removes a record's links to these tags (all of them when `tagIds` is undefined). */
export async function unlinkTags(manager: EntityManager, model: string, objectId: number, tagIds?: number[]): Promise<void> {
  if (tagIds && tagIds.length === 0) return;
  const escape = (name: string) => manager.dataSource.driver.escape(name);
  const qb = manager.createQueryBuilder().delete().from(TaggedItem)
    .where(`${escape("model")} = :model AND ${escape("objectId")} = :objectId`, { model, objectId });
  if (tagIds) qb.andWhere(`${escape("tagId")} IN (:...tagIds)`, { tagIds });
  await qb.execute();
}

/** The tags of many records of one model, in one query, each list sorted by name. */
export async function tagsOfRecords(manager: EntityManager, model: string, objectIds: number[]): Promise<Map<number, TagData[]>> {
  const result = new Map<number, TagData[]>(objectIds.map((id) => [id, []]));
  if (objectIds.length === 0) return result;
  const qb = manager.createQueryBuilder(TaggedItem, "link").innerJoin("link.tag", "tag")
    .select("link.objectId", "oid").addSelect("tag.id", "tid").addSelect("tag.name", "tname").addSelect("tag.slug", "tslug")
    .where("link.model = :model AND link.objectId IN (:...objectIds)", { model, objectIds });
  // Every response of a tagged model runs this: bound parameters, one prepared statement per page size.
  const rows = await queryTemplates(manager.dataSource).rawRows(qb, manager) as Array<{ oid: number | string; tid: number | string; tname: string; tslug: string }>;
  for (const row of rows) {
    result.get(Number(row.oid))?.push({ pk: Number(row.tid), name: row.tname, slug: row.tslug });
  }
  for (const list of result.values()) list.sort(byName);
  return result;
}

/** Makes a record's tags exactly `names`. */
export async function setTags(manager: EntityManager, model: string, objectId: number, names: string[]): Promise<void> {
  const tags = await getOrCreateTags(manager, names);
  const current = (await tagsOfRecords(manager, model, [objectId])).get(objectId) ?? [];
  const keep = new Set(tags.map((tag) => tag.id));
  await unlinkTags(manager, model, objectId, current.filter((tag) => !keep.has(tag.pk)).map((tag) => tag.pk));
  await linkTags(manager, model, objectId, tags);
}
