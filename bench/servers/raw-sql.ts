import Database from "better-sqlite3";
import { BENCH_USER } from "../seed";

/**
 * The same four operations with better-sqlite3 prepared statements and hand-built JSON, as a
 * user who wants speed writes them: no ORM, the same row scope (with soft delete's
 * `deletedAt IS NULL`), field list, validation and audit entry of every write. Servers (3)
 * and (4) call it for the bench user (no session); the ceiling server for the session's user.
 */
export type Answer = { status: number; body: unknown };

const ARTICLE_COLUMNS = `a.id, a.title, a.body, a.published, a.publishedAt, a.createdAt, a.updatedAt, a.version,
  c.id AS c_id, c.title AS c_title, c.description AS c_description, u.id AS u_id, u.username AS u_username, u.isStaff AS u_isStaff
  FROM article a JOIN "user" u ON u.id = a.authorId LEFT JOIN category c ON c.id = a.categoryId`;
const SCOPE = "a.deletedAt IS NULL AND (a.published = 1 OR a.authorId = @viewer)";

interface ArticleRow {
  id: number; title: string; body: string; published: number; publishedAt: string | null; createdAt: string; updatedAt: string; version: number;
  c_id: number | null; c_title: string | null; c_description: string | null; u_id: number; u_username: string; u_isStaff: number;
}
interface TagRow { oid: number; pk: number; name: string; slug: string }

/** SQLite's `YYYY-MM-DD HH:MM:SS.SSS` (UTC) as ISO 8601. */
function iso(text: string): string {
  return text.length === 23 ? `${text.replace(" ", "T")}Z` : new Date(`${text.replace(" ", "T")}Z`).toISOString();
}

const fail = (status: number, message: string): Answer => ({ status, body: { success: false, data: { code: status, message } } });

export class RawArticles {
  readonly counts = { total: 0, session: 0, user: 0 };
  private readonly db: Database.Database;
  private readonly getOne: Database.Statement;
  private readonly page: Database.Statement;
  private readonly count: Database.Statement;
  private readonly categoryExists: Database.Statement;
  private readonly insert: Database.Statement;
  private readonly update: Database.Statement;
  private readonly audit: Database.Statement;
  private readonly tagStatements = new Map<number, Database.Statement>();
  private readonly viewer = BENCH_USER.id;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma("journal_mode = WAL");
    this.getOne = this.db.prepare(`SELECT ${ARTICLE_COLUMNS} WHERE a.id = @pk AND ${SCOPE}`);
    this.page = this.db.prepare(`SELECT ${ARTICLE_COLUMNS} WHERE a.categoryId = @category AND ${SCOPE} ORDER BY a.createdAt DESC, a.id ASC LIMIT @limit OFFSET 0`);
    this.count = this.db.prepare(`SELECT COUNT(*) AS n FROM article a WHERE a.categoryId = @category AND ${SCOPE}`).pluck();
    this.categoryExists = this.db.prepare("SELECT 1 FROM category WHERE id = ?").pluck();
    this.insert = this.db.prepare("INSERT INTO article (title, body, published, categoryId, authorId, version) VALUES (?, ?, ?, ?, ?, 1)");
    this.update = this.db.prepare(`UPDATE article SET title = ?, version = version + 1, updatedAt = strftime('%Y-%m-%d %H:%M:%f', 'now')
      WHERE id = ? AND version = ?`);
    this.audit = this.db.prepare(`INSERT INTO ajax_audit (model, objectId, op, at, userId, changes)
      VALUES ('article', ?, ?, strftime('%Y-%m-%d %H:%M:%f', 'now'), ?, ?)`);
  }

  close(): void {
    this.db.close();
  }

  private run<T>(work: () => T): T {
    this.counts.total++;
    return work();
  }

  private tagsOf(ids: number[]): Map<number, Array<{ pk: number; name: string; slug: string }>> {
    const byArticle = new Map<number, Array<{ pk: number; name: string; slug: string }>>(ids.map((id) => [id, []]));
    if (ids.length === 0) return byArticle;
    let statement = this.tagStatements.get(ids.length);
    if (!statement) {
      statement = this.db.prepare(`SELECT l.objectId AS oid, t.id AS pk, t.name, t.slug FROM ajax_tagged_item l JOIN ajax_tag t ON t.id = l.tagId
        WHERE l.model = 'article' AND l.objectId IN (${ids.map(() => "?").join(", ")}) ORDER BY t.name`);
      this.tagStatements.set(ids.length, statement);
    }
    for (const row of this.run(() => statement.all(...ids) as TagRow[])) byArticle.get(row.oid)!.push({ pk: row.pk, name: row.name, slug: row.slug });
    return byArticle;
  }

  private present(row: ArticleRow, tags: unknown[]) {
    return {
      id: row.id, title: row.title, body: row.body, published: row.published === 1, publishedAt: row.publishedAt === null ? null : iso(row.publishedAt),
      createdAt: iso(row.createdAt), updatedAt: iso(row.updatedAt), version: row.version,
      category: row.c_id === null ? null : { id: row.c_id, title: row.c_title, description: row.c_description },
      author: { id: row.u_id, username: row.u_username, isStaff: row.u_isStaff === 1 },
      tags,
    };
  }

  get(pkText: string, viewer = this.viewer): Answer {
    if (!/^\d{1,15}$/.test(pkText)) return fail(404, "Not found.");
    const pk = Number(pkText);
    const row = this.run(() => this.getOne.get({ pk, viewer }) as ArticleRow | undefined);
    if (!row) return fail(404, "Not found.");
    return { status: 200, body: { success: true, data: this.present(row, this.tagsOf([pk]).get(pk)!) } };
  }

  list(params: any, viewer = this.viewer): Answer {
    const perPage = Math.min(Number(params?.items_per_page ?? 20), 50);
    const category = Number(params?.filter?.category);
    if (!Number.isSafeInteger(perPage) || perPage < 1 || !Number.isSafeInteger(category)) return fail(400, "Invalid input.");
    const total = this.run(() => this.count.get({ category, viewer }) as number);
    const rows = this.run(() => this.page.all({ category, viewer, limit: perPage }) as ArticleRow[]);
    const tags = this.tagsOf(rows.map((r) => r.id));
    return { status: 200, body: { success: true, data: rows.map((r) => this.present(r, tags.get(r.id)!)), total, current_page: 1, items_per_page: perPage } };
  }

  create(params: any, viewer = this.viewer): Answer {
    const { title, body, published, category } = params ?? {};
    if (typeof title !== "string" || title.length === 0 || title.length > 200 || typeof body !== "string" ||
      typeof published !== "boolean" || !Number.isSafeInteger(category)) return fail(400, "Invalid input.");
    if (!this.run(() => this.categoryExists.get(category))) return fail(400, "Invalid input.");
    const row = this.db.transaction(() => {
      const { lastInsertRowid } = this.run(() => this.insert.run(title, body, published ? 1 : 0, category, viewer));
      const created = this.run(() => this.getOne.get({ pk: Number(lastInsertRowid), viewer }) as ArticleRow);
      const shown = this.present(created, []);
      const changes = { id: [null, shown.id], title: [null, shown.title], body: [null, shown.body], published: [null, shown.published],
        publishedAt: [null, shown.publishedAt], category: [null, created.c_id], author: [null, created.u_id] };
      this.run(() => this.audit.run(String(created.id), "create", String(viewer), JSON.stringify(changes)));
      return created;
    })();
    return { status: 200, body: { success: true, data: this.present(row, []) } };
  }

  updateArticle(pkText: string, params: any, viewer = this.viewer): Answer {
    if (!/^\d{1,15}$/.test(pkText)) return fail(404, "Not found.");
    const pk = Number(pkText);
    const { title, _version: version } = params ?? {};
    if (typeof title !== "string" || title.length === 0 || title.length > 200 || !Number.isSafeInteger(version)) return fail(400, "Invalid input.");
    const conflict = fail(409, "The record was changed by someone else; reload it and try again.");
    const row = this.db.transaction((): ArticleRow | Answer => {
      const current = this.run(() => this.getOne.get({ pk, viewer }) as ArticleRow | undefined);
      if (!current) return fail(404, "Not found.");
      if (current.u_id !== viewer) return fail(403, "You do not have permission to perform this action.");
      if (current.version !== version) return conflict;
      if (this.run(() => this.update.run(title, pk, version)).changes === 0) return conflict;
      if (title !== current.title) this.run(() => this.audit.run(String(pk), "update", String(viewer), JSON.stringify({ title: [current.title, title] })));
      return this.run(() => this.getOne.get({ pk, viewer }) as ArticleRow);
    })();
    if ("status" in row) return row;
    return { status: 200, body: { success: true, data: this.present(row, this.tagsOf([pk]).get(pk)!) } };
  }
}
