import { Pool, RoundTrips, type PoolClient, type Queryable, type QueryConfig, type QueryResult } from "../pg";
import {
  conflict, createChanges, createInput, forbidden, groupTags, invalid, listInput, notFound, parsePk, POSTGRES_VALUES, presentArticle, titleChanges, updateInput,
  type Answer, type ArticleRow, type Tag, type TagRow,
} from "./shape";

/**
 * The four operations on PostgreSQL as a careful hand-writer does them with node-postgres:
 * named prepared statements (parsed once per connection), each record read joined to its
 * author and category, the tags of a page in one `= ANY($1)` statement, an insert or update
 * that answers the joined record itself (`RETURNING` in a CTE, no read-back), the audit entry
 * in the write's transaction. Every statement is one round trip; BEGIN and COMMIT are
 * statements and round trips like any other (counted in `counts.total`).
 */
const COLUMNS = `a.id, a.title, a.body, a.published, a."publishedAt", a."createdAt", a."updatedAt", a.version,
  c.id AS c_id, c.title AS c_title, c.description AS c_description, u.id AS u_id, u.username AS u_username, u."isStaff" AS "u_isStaff"`;
/** The record `a` (a table or a CTE's rows) with its author and category. */
const joined = (source: string) => `${COLUMNS} FROM ${source} a JOIN "user" u ON u.id = a."authorId" LEFT JOIN category c ON c.id = a."categoryId"`;
/** The row scope, viewer in `$2`: soft delete's condition, then published or the viewer's own. */
const SCOPE = `a."deletedAt" IS NULL AND (a.published OR a."authorId" = $2)`;

const statement = (name: string, text: string) => (values: unknown[]): QueryConfig => ({ name: `bench_${name}`, text, values });
const GET = statement("get", `SELECT ${joined("article")} WHERE a.id = $1 AND ${SCOPE}`);
const COUNT = statement("count", `SELECT COUNT(*)::int AS n FROM article a WHERE a."categoryId" = $1 AND ${SCOPE}`);
const PAGE = statement("page", `SELECT ${joined("article")} WHERE a."categoryId" = $1 AND ${SCOPE} ORDER BY a."createdAt" DESC, a.id ASC LIMIT $3`);
const TAGS = statement("tags", `SELECT l."objectId" AS oid, t.id AS pk, t.name, t.slug FROM ajax_tagged_item l JOIN ajax_tag t ON t.id = l."tagId"
  WHERE l.model = 'article' AND l."objectId" = ANY($1::int[]) ORDER BY t.name`);
/** The checks an update needs before writing: the record under the row scope, its owner and version. */
const CURRENT = statement("current", `SELECT a.title, a."authorId", a.version FROM article a WHERE a.id = $1 AND ${SCOPE}`);
/** The insert takes its category from the category table: a missing category inserts nothing (the 400), no separate check. */
const INSERT = statement("insert", `WITH written AS (
    INSERT INTO article (title, body, published, "categoryId", "authorId", version) SELECT $1, $2, $3, id, $5, 1 FROM category WHERE id = $4 RETURNING *
  ) SELECT ${joined("written")}`);
const UPDATE = statement("update", `WITH written AS (
    UPDATE article SET title = $1, version = version + 1, "updatedAt" = now() WHERE id = $2 AND version = $3 RETURNING *
  ) SELECT ${joined("written")}`);
const AUDIT = statement("audit", `INSERT INTO ajax_audit (model, "objectId", op, at, "userId", changes) VALUES ('article', $1, $2, now(), $3, $4)`);

export class PgArticles {
  readonly counts = { total: 0, session: 0, user: 0 };
  readonly roundTrips = new RoundTrips();
  readonly pool: Pool;

  constructor(url: string) {
    // As many connections as the framework's TypeORM pool and the bench's 10 connections.
    this.pool = new Pool({ connectionString: url, max: 10 });
    this.roundTrips.watchPool(this.pool);
  }

  close(): Promise<void> {
    return this.pool.end();
  }

  /** One statement (one round trip) on `on` (the pool, or a transaction's client). */
  query<R>(config: QueryConfig | string, on: Queryable = this.pool): Promise<QueryResult<R>> {
    this.counts.total++;
    return typeof config === "string" ? on.query<R>(config) : on.query<R>(config);
  }

  /** BEGIN, the work, COMMIT on one client (ROLLBACK when the work answers an error or throws). */
  private async transaction<T>(work: (client: PoolClient) => Promise<T | Answer>): Promise<T | Answer> {
    const client = await this.pool.connect();
    try {
      await this.query("BEGIN", client);
      const result = await work(client);
      await this.query(isAnswer(result) ? "ROLLBACK" : "COMMIT", client);
      return result;
    } catch (error) {
      await this.query("ROLLBACK", client).catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  private async tagsOf(ids: number[]): Promise<Map<number, Tag[]>> {
    if (ids.length === 0) return groupTags(ids, []);
    return groupTags(ids, (await this.query<TagRow>(TAGS([ids]))).rows);
  }

  private present(row: ArticleRow, tags: Tag[]) {
    return presentArticle(row, tags, POSTGRES_VALUES);
  }

  async get(pkText: string, viewer: number): Promise<Answer> {
    const pk = parsePk(pkText);
    if (pk === undefined) return notFound();
    const row = (await this.query<ArticleRow>(GET([pk, viewer]))).rows[0];
    if (!row) return notFound();
    return { status: 200, body: { success: true, data: this.present(row, (await this.tagsOf([pk])).get(pk)!) } };
  }

  async list(params: any, viewer: number): Promise<Answer> {
    const input = listInput(params);
    if (!input) return invalid();
    const { category, perPage } = input;
    const total = (await this.query<{ n: number }>(COUNT([category, viewer]))).rows[0]!.n;
    const rows = (await this.query<ArticleRow>(PAGE([category, viewer, perPage]))).rows;
    const tags = await this.tagsOf(rows.map((r) => r.id));
    return { status: 200, body: { success: true, data: rows.map((r) => this.present(r, tags.get(r.id)!)), total, current_page: 1, items_per_page: perPage } };
  }

  async create(params: any, viewer: number): Promise<Answer> {
    const input = createInput(params);
    if (!input) return invalid();
    const { title, body, published, category } = input;
    const row = await this.transaction(async (client) => {
      const created = (await this.query<ArticleRow>(INSERT([title, body, published, category, viewer]), client)).rows[0];
      if (!created) return invalid();
      const changes = createChanges(this.present(created, []), created.c_id, created.u_id);
      await this.query(AUDIT([String(created.id), "create", String(viewer), changes]), client);
      return created;
    });
    if (isAnswer(row)) return row;
    return { status: 200, body: { success: true, data: this.present(row, []) } };
  }

  async updateArticle(pkText: string, params: any, viewer: number): Promise<Answer> {
    const pk = parsePk(pkText);
    if (pk === undefined) return notFound();
    const input = updateInput(params);
    if (!input) return invalid();
    const { title, version } = input;
    const row = await this.transaction(async (client) => {
      const current = (await this.query<{ title: string; authorId: number; version: number }>(CURRENT([pk, viewer]), client)).rows[0];
      if (!current) return notFound();
      if (current.authorId !== viewer) return forbidden();
      if (current.version !== version) return conflict();
      const updated = (await this.query<ArticleRow>(UPDATE([title, pk, version]), client)).rows[0];
      if (!updated) return conflict();
      if (title !== current.title) await this.query(AUDIT([String(pk), "update", String(viewer), titleChanges(current.title, title)]), client);
      return updated;
    });
    if (isAnswer(row)) return row;
    return { status: 200, body: { success: true, data: this.present(row, (await this.tagsOf([pk])).get(pk)!) } };
  }
}

const isAnswer = (value: unknown): value is Answer => typeof value === "object" && value !== null && "status" in value && "body" in value;
