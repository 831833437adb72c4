import { feathers, type HookContext } from "@feathersjs/feathers";
import { KnexService } from "@feathersjs/knex";
import { BadRequest, NotFound } from "@feathersjs/errors";
import knex from "knex";
import { BENCH_USER } from "../seed";
import { serve, serverArgs } from "./harness";

/**
 * (5) FeathersJS 5 on Koa with the knex adapter (better-sqlite3 client) over the same file: a
 * real peer. Hooks apply the same row scope and validation, hydrate authors, categories and
 * tags in batches, and shape the answer into the ajax-endpoints envelope so the bytes match.
 * No session: the user is fixed to the bench user.
 */
// Loaded untyped on purpose: koa-body's types add \`body\` and \`files\` to every IncomingMessage of
// the whole program, which would change the framework's own Express types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { bodyParser, errorHandler, koa, rest } = require("@feathersjs/koa") as any;
const { db: file } = serverArgs();
const db = knex({ client: "better-sqlite3", connection: { filename: file }, useNullAsDefault: true });
const counts = { total: 0, session: 0, user: 0 };
db.on("query", () => { counts.total++; });
const viewer = BENCH_USER.id;

type Row = Record<string, any>;
const iso = (text: string) => (text.length === 23 ? `${text.replace(" ", "T")}Z` : new Date(`${text.replace(" ", "T")}Z`).toISOString());

/** Authors, categories and tags of a page of articles: one query each. */
async function hydrate(rows: Row[]): Promise<Row[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const authorIds = [...new Set(rows.map((r) => r.authorId))];
  const categoryIds = [...new Set(rows.map((r) => r.categoryId).filter((id) => id !== null))];
  const [authors, categories, tags] = await Promise.all([
    db("user").select("id", "username", "isStaff").whereIn("id", authorIds),
    categoryIds.length > 0 ? db("category").select("id", "title", "description").whereIn("id", categoryIds) : Promise.resolve([]),
    db("ajax_tagged_item as l").join("ajax_tag as t", "t.id", "l.tagId").select("l.objectId as oid", "t.id as pk", "t.name", "t.slug")
      .where("l.model", "article").whereIn("l.objectId", ids).orderBy("t.name"),
  ]);
  const authorById = new Map(authors.map((a: Row) => [a.id, { id: a.id, username: a.username, isStaff: a.isStaff === 1 }]));
  const categoryById = new Map(categories.map((c: Row) => [c.id, { id: c.id, title: c.title, description: c.description }]));
  const tagsById = new Map<number, Row[]>(ids.map((id) => [id, []]));
  for (const t of tags) tagsById.get(t.oid)!.push({ pk: t.pk, name: t.name, slug: t.slug });
  return rows.map((r) => ({
    id: r.id, title: r.title, body: r.body, published: r.published === 1, publishedAt: r.publishedAt === null ? null : iso(r.publishedAt),
    createdAt: iso(r.createdAt), updatedAt: iso(r.updatedAt), version: r.version,
    category: r.categoryId === null ? null : categoryById.get(r.categoryId) ?? null,
    author: authorById.get(r.authorId) ?? null,
    tags: tagsById.get(r.id),
  }));
}

/** The row scope: published articles and the viewer's own drafts. */
const scope = (context: HookContext) => {
  context.params.query = { ...context.params.query, $or: [{ published: 1 }, { authorId: viewer }] };
};

const app = koa(feathers());
app.use(errorHandler());
app.use(bodyParser());
app.configure(rest());
app.use("articles", new KnexService({ Model: db, name: "article", paginate: { default: 20, max: 50 } }));

app.service("articles").hooks({
  before: {
    find: [(context: HookContext) => {
      const categoryId = Number(context.params.query?.categoryId);
      const limit = Number(context.params.query?.$limit ?? 20);
      if (!Number.isSafeInteger(categoryId) || !Number.isSafeInteger(limit)) throw new BadRequest("Invalid input.");
      context.params.query = { categoryId, $limit: limit, $sort: { createdAt: -1, id: 1 } };
      scope(context);
    }],
    get: [scope],
    create: [async (context: HookContext) => {
      const { title, body, published, category } = context.data ?? {};
      if (typeof title !== "string" || title.length === 0 || title.length > 200 || typeof body !== "string" ||
        typeof published !== "boolean" || !Number.isSafeInteger(category)) throw new BadRequest("Invalid input.");
      if (!(await db("category").where("id", category).first("id"))) throw new BadRequest("Invalid input.");
      context.data = { title, body, published: published ? 1 : 0, categoryId: category, authorId: viewer, version: 1 };
    }],
    patch: [async (context: HookContext) => {
      const { title, _version: version } = context.data ?? {};
      if (typeof title !== "string" || title.length === 0 || title.length > 200 || !Number.isSafeInteger(version)) throw new BadRequest("Invalid input.");
      // Only the owner's article at the version the client read: anything else matches no row.
      context.params.query = { version, authorId: viewer };
      context.data = { title, version: db.raw("version + 1"), updatedAt: db.raw("strftime('%Y-%m-%d %H:%M:%f', 'now')") };
    }],
  },
  after: {
    find: [async (context: HookContext) => {
      const page = context.result as { total: number; limit: number; skip: number; data: Row[] };
      context.result = { success: true, data: await hydrate(page.data), total: page.total, current_page: 1 + Math.floor(page.skip / page.limit), items_per_page: page.limit };
    }],
    get: [async (context: HookContext) => { context.result = { success: true, data: (await hydrate([context.result]))[0] }; }],
    create: [async (context: HookContext) => {
      context.result = { success: true, data: (await hydrate([context.result]))[0] };
      context.http = { ...context.http, status: 200 };
    }],
    patch: [async (context: HookContext) => {
      if (!context.result) throw new NotFound();
      context.result = { success: true, data: (await hydrate([context.result]))[0] };
    }],
  },
});

void app.setup().then(() => {
  const server = require("node:http").createServer(app.callback());
  serve(server, { snapshot: () => ({ ...counts }), reset: () => { counts.total = 0; } }, async () => { await db.destroy(); });
});
