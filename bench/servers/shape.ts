/**
 * What every hand-written server of the bench does the same way whatever its database: the
 * input checks of the four operations, the record's JSON as ajax-endpoints shows it (field
 * order included: the bytes must match), the error answers and the audit entry's changes.
 * The databases differ only in how their driver hands back booleans and times ({@link Values}).
 */
export type Answer = { status: number; body: unknown };

/** A record row joined to its author and category, as the hand-written servers select it. */
export interface ArticleRow {
  id: number; title: string; body: string; published: unknown; publishedAt: unknown; createdAt: unknown; updatedAt: unknown; version: number;
  c_id: number | null; c_title: string | null; c_description: string | null; u_id: number; u_username: string; u_isStaff: unknown;
}
export interface TagRow { oid: number; pk: number; name: string; slug: string }
export interface Tag { pk: number; name: string; slug: string }

/** How a driver hands back booleans and times. */
export interface Values { bool(value: unknown): boolean; time(value: unknown): string }

/** SQLite's `YYYY-MM-DD HH:MM:SS.SSS` (UTC) as ISO 8601. */
export function iso(text: string): string {
  return text.length === 23 ? `${text.replace(" ", "T")}Z` : new Date(`${text.replace(" ", "T")}Z`).toISOString();
}
/** better-sqlite3: booleans are 0/1, times the migrations' text. */
export const SQLITE_VALUES: Values = { bool: (value) => value === 1, time: (value) => iso(value as string) };
/** node-postgres: booleans are booleans, a timestamptz is a Date. */
export const POSTGRES_VALUES: Values = { bool: (value) => value === true, time: (value) => (value as Date).toISOString() };

export const fail = (status: number, message: string): Answer => ({ status, body: { success: false, data: { code: status, message } } });
export const notFound = () => fail(404, "Not found.");
export const invalid = () => fail(400, "Invalid input.");
export const conflict = () => fail(409, "The record was changed by someone else; reload it and try again.");
export const forbidden = () => fail(403, "You do not have permission to perform this action.");

export function presentArticle(row: ArticleRow, tags: Tag[], values: Values) {
  return {
    id: row.id, title: row.title, body: row.body, published: values.bool(row.published), publishedAt: row.publishedAt === null ? null : values.time(row.publishedAt),
    createdAt: values.time(row.createdAt), updatedAt: values.time(row.updatedAt), version: row.version,
    category: row.c_id === null ? null : { id: row.c_id, title: row.c_title, description: row.c_description },
    author: { id: row.u_id, username: row.u_username, isStaff: values.bool(row.u_isStaff) },
    tags,
  };
}

/** Tag rows grouped by record; every record is there, with none if it has none. */
export function groupTags(ids: number[], rows: TagRow[]): Map<number, Tag[]> {
  const byArticle = new Map<number, Tag[]>(ids.map((id) => [id, []]));
  for (const row of rows) byArticle.get(row.oid)!.push({ pk: row.pk, name: row.name, slug: row.slug });
  return byArticle;
}

/** A pk from the URL, or undefined for text that cannot be one (the framework answers 404). */
export const parsePk = (text: string) => (/^\d{1,15}$/.test(text) ? Number(text) : undefined);

/** A list's input: the page size (at most 50) and the category filter. */
export function listInput(params: any): { perPage: number; category: number } | undefined {
  const perPage = Math.min(Number(params?.items_per_page ?? 20), 50);
  const category = Number(params?.filter?.category);
  return !Number.isSafeInteger(perPage) || perPage < 1 || !Number.isSafeInteger(category) ? undefined : { perPage, category };
}

/** A create's input, checked as the endpoint's rules check it. */
export function createInput(params: any): { title: string; body: string; published: boolean; category: number } | undefined {
  const { title, body, published, category } = params ?? {};
  return typeof title !== "string" || title.length === 0 || title.length > 200 || typeof body !== "string" ||
    typeof published !== "boolean" || !Number.isSafeInteger(category) ? undefined : { title, body, published, category };
}

/** An update's input: the new title and the version the client read. */
export function updateInput(params: any): { title: string; version: number } | undefined {
  const { title, _version: version } = params ?? {};
  return typeof title !== "string" || title.length === 0 || title.length > 200 || !Number.isSafeInteger(version) ? undefined : { title, version };
}

/** The audit entry's changes of a create, as the audit feature writes them: every readable field, from nothing. */
export function createChanges(shown: ReturnType<typeof presentArticle>, categoryId: number | null, authorId: number): string {
  return JSON.stringify({ id: [null, shown.id], title: [null, shown.title], body: [null, shown.body], published: [null, shown.published],
    publishedAt: [null, shown.publishedAt], category: [null, categoryId], author: [null, authorId] });
}

/** The audit entry's changes of an update of the title. */
export const titleChanges = (before: string, after: string) => JSON.stringify({ title: [before, after] });
