import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import Joi from "joi";
import type { SelectQueryBuilder } from "typeorm";
import { audit, defineApp, endpoint, escapeHtml, loginRequired, ModelEndpoint, softDelete, Tag, tags, type RequestContext } from "../src";
import { Article, Category, Comment, User } from "../entities";

// The type of ctx.user in this app's handlers (an app outside this repository writes `declare module "ajax-endpoints"`).
declare module "../src/adhoc" {
  interface AjaxTypes { user: User }
}

/** Any logged-in user may list and get categories; only staff may create, update and delete them. */
export class CategoryEndpoint extends ModelEndpoint<Category, User> {
  entity = Category;
  filterFields = ["title"];
  orderFields = ["id", "title"];
  defaultOrder = "title";

  canCreate(user: User | null): boolean {
    return this.isStaff(user);
  }
}

/**
 * Articles: the author owns them; a non-staff user sees published articles and their own
 * drafts, staff see all. The scope applies wherever an article is read.
 */
export class ArticleEndpoint extends ModelEndpoint<Article, User> {
  entity = Article;
  ownerField = "author";
  // Tags, soft delete with restore, and a history of every change (audit last, so it sees the tags' changes too).
  features = [tags(), softDelete(), audit()];
  filterFields = ["published", "category", "author", "title", "createdAt", "tags", "deleted"];
  // Null on every article a caller sees; the softDelete feature reads it.
  hiddenFields = ["deletedAt"];
  orderFields = ["id", "title", "createdAt"];
  defaultOrder = "-createdAt";
  searchFields = ["title", "body"];
  maxPerPage = 50;
  hydrate = ["author", "category"];

  scope(qb: SelectQueryBuilder<Article>, user: User | null): void {
    if (this.isStaff(user)) return;
    const alias = qb.escape(qb.alias);
    if (!user) {
      qb.andWhere(`${alias}.${qb.escape("published")} = :articlePublished`, { articlePublished: true });
      return;
    }
    const published = `${alias}.${qb.escape("published")}`;
    const author = `${alias}.${qb.escape("authorId")}`;
    if (qb.connection.options.type === "mariadb" || qb.connection.options.type === "mysql") {
      // "Published or mine" as "not (a draft and not mine)": for an OR of two indexed columns MariaDB
      // merges both indexes and sorts every visible row before it takes a page (1.3 s a page at a
      // million articles); this form it walks in (createdAt) order and stops at the page. SQLite and
      // PostgreSQL plan the OR well, and the NOT form badly (a scan for IN (visible articles)).
      qb.andWhere(`NOT (${published} = :articleDraft AND ${author} <> :articleViewer)`, { articleDraft: false, articleViewer: user.id });
      return;
    }
    qb.andWhere(`(${published} = :articlePublished OR ${author} = :articleViewer)`, { articlePublished: true, articleViewer: user.id });
  }
}

/**
 * Comments: the author owns them; a comment is visible where its article is (so a draft's
 * comments, and through them the draft's existence, stay hidden), and a new comment's article
 * must be one the user may see.
 */
export class CommentEndpoint extends ModelEndpoint<Comment, User> {
  entity = Comment;
  ownerField = "author";
  filterFields = ["article"];
  orderFields = ["id", "createdAt"];
  depth = 2;

  scope(qb: SelectQueryBuilder<Comment>, _user: User | null, ctx: RequestContext): void {
    // What the article endpoint lets through (its scope, and no deleted article), as a
    // subquery: one policy, applied in one place. ctx.endpointFor gives this router's own.
    const visible = qb.subQuery().select(`${qb.escape("visible")}.${qb.escape("id")}`).from(Article, "visible");
    ctx.endpointFor(Article).narrowToVisible(visible as SelectQueryBuilder<Article>, ctx);
    qb.andWhere(`${qb.escape(qb.alias)}.${qb.escape("articleId")} IN ${visible.getQuery()}`, visible.getParameters());
  }
}

/** Users: get and list only, showing id, username and isStaff and nothing else. */
export class UserEndpoint extends ModelEndpoint<User, User> {
  entity = User;
  ops = ["get", "list"] as const;
  fields = ["id", "username", "isStaff"];
  filterFields = ["username"];
  orderFields = ["id", "username"];
}

/** Counts what the user may see, through each endpoint's own scope. */
async function countVisible(model: ModelEndpoint, ctx: RequestContext): Promise<number> {
  const qb = model.reader.query(ctx.manager, "item");
  model.narrowToVisible(qb, ctx);
  return qb.getCount();
}

// Registered by class: every router built from this file (two databases, a test per suite)
// gets its own instances; other code reaches them through ctx.endpointFor.
export default defineApp("blog")
  .model("category", CategoryEndpoint)
  .model("article", ArticleEndpoint)
  .model("comment", CommentEndpoint)
  .model("user", UserEndpoint)
  .endpoint("echo", loginRequired((_req, ctx) => ctx.params))
  .endpoint("say_hi", endpoint({ returns: Joi.string() }, (_req, ctx) => {
    ctx.commands.alert("Hi there!");
    return "hi";
  }))
  .endpoint("greet", endpoint({
    params: Joi.object<{ name: string }, true>({ name: Joi.string().trim().min(1).max(40).required() }),
    returns: Joi.object({ greeted: Joi.string().required() }),
  }, (_req, ctx) => {
    const { name } = ctx.params;
    // Sijax-style: the server changes the page; user text is escaped before it becomes HTML.
    ctx.commands.html("#greeting", `Hello, <strong>${escapeHtml(name)}</strong>!`)
      .css("#greeting", "borderColor", "#2f855a")
      .call("flash", "#greeting");
    return { greeted: name };
  }))
  .endpoint("stats", endpoint({
    loginRequired: true,
    returns: Joi.object({ articles: Joi.number().integer().required(), comments: Joi.number().integer().required(), categories: Joi.number().integer().required(), tags: Joi.number().integer().required() }),
  }, async (_req, ctx) => ({
    articles: await countVisible(ctx.endpointFor(Article), ctx),
    comments: await countVisible(ctx.endpointFor(Comment), ctx),
    categories: await countVisible(ctx.endpointFor(Category), ctx),
    tags: await ctx.manager.getRepository(Tag).count(),
  })))
  .endpoint("countdown", endpoint({
    params: Joi.object<{ from: number; delayMs: number }, true>({
      from: Joi.number().integer().min(1).max(10).default(3), delayMs: Joi.number().integer().min(0).max(1000).default(50),
    }),
    returns: Joi.number().integer(),
  }, async function* (_req, ctx) {
    const { from, delayMs } = ctx.params;
    for (let n = from; n >= 1; n--) {
      if (n !== from) await new Promise((resolve) => setTimeout(resolve, delayMs));
      ctx.commands.text("#countdown", String(n));
      yield n;
    }
  }))
  .endpoint("upload", endpoint({ loginRequired: true, files: true }, async (_req, ctx) => ({
    fields: ctx.params,
    // Hashed again from the file on disk, to show that uploads are there for the endpoint to read.
    files: await Promise.all(ctx.files.map(async (file) => ({
      field: file.field,
      name: file.filename,
      size: file.size,
      sha256: createHash("sha256").update(await readFile(file.path)).digest("hex"),
    }))),
  })));
