import { feathers, type HookContext } from "@feathersjs/feathers";
import { KnexService } from "@feathersjs/knex";
import { BadRequest, NotFound } from "@feathersjs/errors";
import knex from "knex";
import { verifyPassword } from "../../src/auth/passwords";
import { BENCH_USER } from "../seed";
import { RoundTrips, type Client } from "../pg";
import { isPostgres, serve, serverArgs } from "./harness";
import { anonymousSecretOf, anonymousToken, newSession, originAllowed, sessionIdOf, tokenMatches, type SessionData } from "./session";
import { POSTGRES_VALUES, SQLITE_VALUES } from "./shape";

/**
 * (5) FeathersJS 5 on Koa with the knex adapter (better-sqlite3 client over the same file, or
 * knex's pg client with `--db postgres://...`): a real peer. Hooks apply the same row scope and validation, hydrate authors, categories and
 * tags in batches, write the audit entry of a change, and shape the answer into the
 * ajax-endpoints envelope so the bytes match. Without `--session` there is no session (the
 * user is fixed to the bench user); with it, a Koa middleware in front of the REST transport
 * does the framework's session work through knex: the `ajax_session` row of the signed
 * cookie, the user on every request, the CSRF token against the session's secret (and serves
 * `csrf.json` and `auth/login.json` the way the framework does, for the bench's login).
 */
// Loaded untyped on purpose: koa-body's types add \`body\` and \`files\` to every IncomingMessage of
// the whole program, which would change the framework's own Express types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { bodyParser, errorHandler, koa, rest } = require("@feathersjs/koa") as any;
const { db: target } = serverArgs();
const onPostgres = isPostgres(target);
const roundTrips = onPostgres ? new RoundTrips() : undefined;
const db = onPostgres
  // knex's own pg pool (2 to 10 connections); each new connection is watched for round trips.
  ? knex({ client: "pg", connection: target, pool: { min: 2, max: 10, afterCreate: (client: Client, done: (error: Error | null, client: Client) => void) => { roundTrips!.watch(client); done(null, client); } } })
  : knex({ client: "better-sqlite3", connection: { filename: target }, useNullAsDefault: true });
const counts = { total: 0, session: 0, user: 0 };
/** How the driver hands back booleans and times, and what it takes for true, false and "now" with milliseconds. */
const values = onPostgres ? POSTGRES_VALUES : SQLITE_VALUES;
const TRUE = onPostgres ? true : 1;
const FALSE = onPostgres ? false : 0;
const NOW = onPostgres ? "now()" : "strftime('%Y-%m-%d %H:%M:%f', 'now')";
db.on("query", (query: { sql: string }) => {
  counts.total++;
  if (query.sql.includes("ajax_session")) counts.session++;
  else if (query.sql.includes("isActive")) counts.user++;
});
const withSession = process.argv.includes("--session");
const viewerOf = (context: HookContext): number => (withSession ? context.params.viewer : BENCH_USER.id);

type Row = Record<string, any>;

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
  const authorById = new Map(authors.map((a: Row) => [a.id, { id: a.id, username: a.username, isStaff: values.bool(a.isStaff) }]));
  const categoryById = new Map(categories.map((c: Row) => [c.id, { id: c.id, title: c.title, description: c.description }]));
  const tagsById = new Map<number, Row[]>(ids.map((id) => [id, []]));
  for (const t of tags) tagsById.get(t.oid)!.push({ pk: t.pk, name: t.name, slug: t.slug });
  return rows.map((r) => ({
    id: r.id, title: r.title, body: r.body, published: values.bool(r.published), publishedAt: r.publishedAt === null ? null : values.time(r.publishedAt),
    createdAt: values.time(r.createdAt), updatedAt: values.time(r.updatedAt), version: r.version,
    category: r.categoryId === null ? null : categoryById.get(r.categoryId) ?? null,
    author: authorById.get(r.authorId) ?? null,
    tags: tagsById.get(r.id),
  }));
}

/** The row scope: published articles and the viewer's own drafts. */
const scope = (context: HookContext) => {
  context.params.query = { ...context.params.query, deletedAt: null, $or: [{ published: TRUE }, { authorId: viewerOf(context) }] };
};

/** The audit entry of a write, as the framework's audit feature writes it. */
const audit = (objectId: number, op: string, viewer: number, changes: object) => db("ajax_audit").insert({
  model: "article", objectId: String(objectId), op, at: db.raw(NOW), userId: String(viewer), changes: JSON.stringify(changes),
});

const fail = (status: number, message: string) => ({ success: false, data: { code: status, message } });

/** The framework's session work, in front of the REST transport (only with `--session`). */
const sessionMiddleware = async (ctx: any, next: () => Promise<void>) => {
  const cookie = ctx.get("cookie") || undefined;
  if (ctx.method === "GET" && ctx.path === "/ajax/csrf.json") {
    const { token, cookies } = anonymousToken();
    ctx.set("set-cookie", cookies);
    ctx.body = { success: true, data: { token } };
    return;
  }
  if (!originAllowed(ctx.get("origin") || undefined, ctx.get("host"))) { ctx.status = 403; ctx.body = fail(403, "CSRF token missing or incorrect."); return; }
  let session: SessionData | undefined;
  let user: Row | undefined;
  const sid = sessionIdOf(cookie);
  if (sid) {
    const row = await db("ajax_session").where("id", sid).andWhere("expiredAt", ">", Date.now()).whereNull("destroyedAt").first("json");
    session = row ? JSON.parse(row.json) as SessionData : undefined;
    const pk = session?.passport?.user;
    if (pk !== undefined) {
      user = await db("user").where("id", pk).first("id", "username", "isStaff", "isActive");
      if (!values.bool(user?.isActive)) user = undefined;
    }
  }
  const secret = session?.csrfSecret ?? (user ? undefined : anonymousSecretOf(cookie));
  if (!tokenMatches(secret, ctx.get("x-csrftoken"))) { ctx.status = 403; ctx.body = fail(403, "CSRF token missing or incorrect."); return; }
  if (ctx.method === "POST" && ctx.path === "/ajax/auth/login.json") {
    const { username, password } = (ctx.request.body ?? {}) as Row;
    const found = typeof username === "string" ? await db("user").where("username", username).first("id", "passwordHash", "isActive") : undefined;
    if (!found || typeof password !== "string" || !(await verifyPassword(password, found.passwordHash)) || !values.bool(found.isActive)) {
      ctx.status = 401; ctx.body = fail(401, "Invalid username or password."); return;
    }
    const fresh = newSession(found.id);
    await db("ajax_session").insert({ id: fresh.id, expiredAt: fresh.expiredAt, json: fresh.json });
    ctx.set("set-cookie", fresh.cookies);
    ctx.body = { success: true, data: { id: found.id } };
    return;
  }
  if (!user) { ctx.status = 401; ctx.body = fail(401, "Authentication credentials were not provided."); return; }
  if (values.bool(user.isStaff)) { ctx.status = 501; ctx.body = fail(501, "This server serves non-staff users only."); return; }
  ctx.feathers = { ...ctx.feathers, viewer: user.id };
  await next();
};

const app = koa(feathers());
app.use(errorHandler());
app.use(bodyParser());
if (withSession) app.use(sessionMiddleware);
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
      context.data = { title, body, published: published ? TRUE : FALSE, categoryId: category, authorId: viewerOf(context), version: 1 };
    }],
    patch: [async (context: HookContext) => {
      const { title, _version: version } = context.data ?? {};
      if (typeof title !== "string" || title.length === 0 || title.length > 200 || !Number.isSafeInteger(version)) throw new BadRequest("Invalid input.");
      // Only the owner's article at the version the client read: anything else matches no row.
      context.params.query = { version, authorId: viewerOf(context), deletedAt: null };
      context.params.previousTitle = (await db("article").where("id", context.id).first("title"))?.title;
      context.data = { title, version: db.raw("version + 1"), updatedAt: db.raw(NOW) };
    }],
  },
  after: {
    find: [async (context: HookContext) => {
      const page = context.result as { total: number; limit: number; skip: number; data: Row[] };
      context.result = { success: true, data: await hydrate(page.data), total: page.total, current_page: 1 + Math.floor(page.skip / page.limit), items_per_page: page.limit };
    }],
    get: [async (context: HookContext) => { context.result = { success: true, data: (await hydrate([context.result]))[0] }; }],
    create: [async (context: HookContext) => {
      const shown = (await hydrate([context.result]))[0]!;
      await audit(shown.id, "create", viewerOf(context), {
        id: [null, shown.id], title: [null, shown.title], body: [null, shown.body], published: [null, shown.published],
        publishedAt: [null, shown.publishedAt], category: [null, context.result.categoryId], author: [null, context.result.authorId],
      });
      context.result = { success: true, data: shown };
      context.http = { ...context.http, status: 200 };
    }],
    patch: [async (context: HookContext) => {
      if (!context.result) throw new NotFound();
      if (context.params.previousTitle !== context.result.title) {
        await audit(context.result.id, "update", viewerOf(context), { title: [context.params.previousTitle, context.result.title] });
      }
      context.result = { success: true, data: (await hydrate([context.result]))[0] };
    }],
  },
});

void app.setup().then(() => {
  const server = require("node:http").createServer(app.callback());
  serve(server, {
    snapshot: () => ({ ...counts, ...(roundTrips ? { roundTrips: roundTrips.count } : {}) }),
    reset: () => { counts.total = counts.session = counts.user = 0; if (roundTrips) roundTrips.count = 0; },
  }, async () => { await db.destroy(); });
});
