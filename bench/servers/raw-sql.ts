import Database from "better-sqlite3";
import { BENCH_USER } from "../seed";
import {
  conflict, createChanges, createInput, forbidden, groupTags, invalid, listInput, notFound, parsePk, presentArticle, SQLITE_VALUES, titleChanges, updateInput,
  type Answer, type ArticleRow, type Tag, type TagRow,
} from "./shape";

export type { Answer };

/**
 * The same four operations with better-sqlite3 prepared statements and hand-built JSON, as a
 * user who wants speed writes them: no ORM, the same row scope (with soft delete's
 * `deletedAt IS NULL`), field list, validation and audit entry of every write. Servers (3)
 * and (4) call it for the bench user (no session); the ceiling server for the session's user.
 */
const ARTICLE_COLUMNS = `a.id, a.title, a.body, a.published, a.publishedAt, a.createdAt, a.updatedAt, a.version,
  c.id AS c_id, c.title AS c_title, c.description AS c_description, u.id AS u_id, u.username AS u_username, u.isStaff AS u_isStaff
  FROM article a JOIN "user" u ON u.id = a.authorId LEFT JOIN category c ON c.id = a.categoryId`;
const SCOPE = "a.deletedAt IS NULL AND (a.published = 1 OR a.authorId = @viewer)";

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

  private tagsOf(ids: number[]): Map<number, Tag[]> {
    if (ids.length === 0) return groupTags(ids, []);
    let statement = this.tagStatements.get(ids.length);
    if (!statement) {
      statement = this.db.prepare(`SELECT l.objectId AS oid, t.id AS pk, t.name, t.slug FROM ajax_tagged_item l JOIN ajax_tag t ON t.id = l.tagId
        WHERE l.model = 'article' AND l.objectId IN (${ids.map(() => "?").join(", ")}) ORDER BY t.name`);
      this.tagStatements.set(ids.length, statement);
    }
    return groupTags(ids, this.run(() => statement.all(...ids) as TagRow[]));
  }

  private present(row: ArticleRow, tags: Tag[]) {
    return presentArticle(row, tags, SQLITE_VALUES);
  }

  get(pkText: string, viewer = this.viewer): Answer {
    const pk = parsePk(pkText);
    if (pk === undefined) return notFound();
    const row = this.run(() => this.getOne.get({ pk, viewer }) as ArticleRow | undefined);
    if (!row) return notFound();
    return { status: 200, body: { success: true, data: this.present(row, this.tagsOf([pk]).get(pk)!) } };
  }

  list(params: any, viewer = this.viewer): Answer {
    const input = listInput(params);
    if (!input) return invalid();
    const { category, perPage } = input;
    const total = this.run(() => this.count.get({ category, viewer }) as number);
    const rows = this.run(() => this.page.all({ category, viewer, limit: perPage }) as ArticleRow[]);
    const tags = this.tagsOf(rows.map((r) => r.id));
    return { status: 200, body: { success: true, data: rows.map((r) => this.present(r, tags.get(r.id)!)), total, current_page: 1, items_per_page: perPage } };
  }

  create(params: any, viewer = this.viewer): Answer {
    const input = createInput(params);
    if (!input) return invalid();
    const { title, body, published, category } = input;
    if (!this.run(() => this.categoryExists.get(category))) return invalid();
    const row = this.db.transaction(() => {
      const { lastInsertRowid } = this.run(() => this.insert.run(title, body, published ? 1 : 0, category, viewer));
      const created = this.run(() => this.getOne.get({ pk: Number(lastInsertRowid), viewer }) as ArticleRow);
      const changes = createChanges(this.present(created, []), created.c_id, created.u_id);
      this.run(() => this.audit.run(String(created.id), "create", String(viewer), changes));
      return created;
    })();
    return { status: 200, body: { success: true, data: this.present(row, []) } };
  }

  updateArticle(pkText: string, params: any, viewer = this.viewer): Answer {
    const pk = parsePk(pkText);
    if (pk === undefined) return notFound();
    const input = updateInput(params);
    if (!input) return invalid();
    const { title, version } = input;
    const row = this.db.transaction((): ArticleRow | Answer => {
      const current = this.run(() => this.getOne.get({ pk, viewer }) as ArticleRow | undefined);
      if (!current) return notFound();
      if (current.u_id !== viewer) return forbidden();
      if (current.version !== version) return conflict();
      if (this.run(() => this.update.run(title, pk, version)).changes === 0) return conflict();
      if (title !== current.title) this.run(() => this.audit.run(String(pk), "update", String(viewer), titleChanges(current.title, title)));
      return this.run(() => this.getOne.get({ pk, viewer }) as ArticleRow);
    })();
    if ("status" in row) return row;
    return { status: 200, body: { success: true, data: this.present(row, this.tagsOf([pk]).get(pk)!) } };
  }
}
