import "reflect-metadata";
import { createServer } from "node:http";
import Tokens from "csrf";
import express, { type NextFunction, type Request, type Response } from "express";
import session from "express-session";
import { TypeormStore } from "connect-typeorm";
import passport from "passport";
import { Strategy as LocalStrategy } from "passport-local";
import { DataSource } from "typeorm";
import { Article, Category, User } from "../../entities";
import { dataSourceOptions } from "../../ormconfig";
import { AjaxSession, Tag, TaggedItem } from "../../src";
import { verifyPassword } from "../../src/auth/passwords";
import { databaseUrl, serve, serverArgs, StatementCounter } from "./harness";

/**
 * (2) The handler a good user writes by hand with Express 5 and TypeORM: QueryBuilder with
 * joins (one query per get), passport sessions in connect-typeorm's store (with its touch
 * turned off, as the framework's), the same CSRF scheme, the same row scope and field rules.
 */
async function main(): Promise<void> {
  const { db } = serverArgs();
  const counter = new StatementCounter();
  const dataSource = new DataSource({ ...dataSourceOptions(databaseUrl(db)), logger: counter } as never);
  await dataSource.initialize();
  counter.watchPostgres(dataSource);
  // The update's time with milliseconds: SQLite's CURRENT_TIMESTAMP (TypeORM's default) has none.
  const now = dataSource.options.type === "postgres" ? "now()" : "strftime('%Y-%m-%d %H:%M:%f', 'now')";
  const users = dataSource.getRepository(User);
  const articles = dataSource.getRepository(Article);
  const categories = dataSource.getRepository(Category);
  const tokens = new Tokens();

  const store = new TypeormStore({ cleanupLimit: 2, ttl: undefined }).connect(dataSource.getRepository(AjaxSession));
  store.touch = (_sid: string, _session: unknown, callback?: () => void) => callback?.();

  passport.use(new LocalStrategy((username, password, done) => {
    users.findOneBy({ username }).then(async (user) => {
      done(null, user && user.isActive && (await verifyPassword(password, user.passwordHash)) ? user : false);
    }, done);
  }));
  passport.serializeUser((user, done) => done(null, (user as User).id));
  passport.deserializeUser((id: number, done) => {
    users.findOneBy({ id }).then((user) => done(null, user && user.isActive ? user : false), done);
  });

  const app = express();
  app.disable("x-powered-by");
  app.use(express.json());
  app.use(session({
    name: "sessionid", secret: "bench secret", store, resave: false, saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: "lax", maxAge: 14 * 24 * 60 * 60 * 1000 },
  }));
  app.use(passport.initialize());
  app.use(passport.session());

  const fail = (res: Response, code: number, message: string) => res.status(code).json({ success: false, data: { code, message } });
  const issueToken = (req: Request, res: Response) => {
    const secret = (req.session as any).csrfSecret ??= tokens.secretSync();
    const token = tokens.create(secret);
    res.cookie("csrftoken", token, { sameSite: "lax", path: "/" });
    return token;
  };
  const csrfCheck = (req: Request, res: Response, next: NextFunction) => {
    const token = req.headers["x-csrftoken"];
    const secret = (req.session as any)?.csrfSecret;
    if (typeof token !== "string" || !secret || !tokens.verify(secret, token)) return fail(res, 403, "CSRF token missing or incorrect.");
    next();
  };
  const loginRequired = (req: Request, res: Response, next: NextFunction) => (req.user ? next() : fail(res, 401, "Authentication required."));
  const viewer = (req: Request) => req.user as User;

  /** Articles the user may see: published ones and their own drafts (staff: all). */
  const visibleArticles = (user: User) => {
    const qb = articles.createQueryBuilder("article")
      .leftJoinAndSelect("article.author", "author")
      .leftJoinAndSelect("article.category", "category");
    if (!user.isStaff) qb.where("(article.published = :published OR article.authorId = :viewer)", { published: true, viewer: user.id });
    return qb;
  };
  const tagsOf = async (ids: number[]) => {
    const byArticle = new Map<number, Array<{ pk: number; name: string; slug: string }>>(ids.map((id) => [id, []]));
    if (ids.length === 0) return byArticle;
    const rows = await dataSource.getRepository(TaggedItem).createQueryBuilder("link")
      .innerJoinAndSelect("link.tag", "tag")
      .where("link.model = :model AND link.objectId IN (:...ids)", { model: "article", ids })
      .orderBy("tag.name", "ASC").getMany();
    for (const row of rows) byArticle.get(row.objectId)?.push({ pk: row.tag.id, name: row.tag.name, slug: row.tag.slug });
    return byArticle;
  };
  const present = (article: Article, tags: Array<{ pk: number; name: string; slug: string }>) => ({
    id: article.id, title: article.title, body: article.body, published: article.published, publishedAt: article.publishedAt?.toISOString() ?? null,
    createdAt: article.createdAt.toISOString(), updatedAt: article.updatedAt.toISOString(), version: article.version,
    category: article.category ? { id: article.category.id, title: article.category.title, description: article.category.description } : null,
    author: { id: article.author.id, username: article.author.username, isStaff: article.author.isStaff },
    tags,
  });
  const parsePk = (text: string | string[] | undefined) => (typeof text === "string" && /^\d{1,15}$/.test(text) ? Number(text) : undefined);

  app.get("/ajax/csrf.json", (req, res) => { res.json({ success: true, data: { token: issueToken(req, res) } }); });
  app.post("/ajax/auth/login.json", csrfCheck, passport.authenticate("local", { failWithError: true }), (req, res) => {
    (req.session as any).csrfSecret = tokens.secretSync();
    issueToken(req, res);
    const user = viewer(req);
    res.json({ success: true, data: { id: user.id, username: user.username, isStaff: user.isStaff } });
  });

  app.post("/ajax/blog/article/:pk/get.json", loginRequired, csrfCheck, async (req, res) => {
    const pk = parsePk(req.params.pk);
    if (pk === undefined) return fail(res, 404, "Not found.");
    const article = await visibleArticles(viewer(req)).andWhere("article.id = :pk", { pk }).getOne();
    if (!article) return fail(res, 404, "Not found.");
    res.json({ success: true, data: present(article, (await tagsOf([pk])).get(pk)!) });
  });

  app.post("/ajax/blog/article/list.json", loginRequired, csrfCheck, async (req, res) => {
    const perPage = Math.min(Number(req.body?.items_per_page ?? 20), 50);
    const category = Number(req.body?.filter?.category);
    if (!Number.isSafeInteger(perPage) || perPage < 1 || !Number.isSafeInteger(category)) return fail(res, 400, "Invalid input.");
    const qb = visibleArticles(viewer(req)).andWhere("article.categoryId = :category", { category });
    const total = await qb.getCount();
    const page = await qb.orderBy("article.createdAt", "DESC").addOrderBy("article.id", "ASC").limit(perPage).offset(0).getMany();
    const tags = await tagsOf(page.map((a) => a.id));
    res.json({ success: true, data: page.map((a) => present(a, tags.get(a.id)!)), total, current_page: 1, items_per_page: perPage });
  });

  app.post("/ajax/blog/article.json", loginRequired, csrfCheck, async (req, res) => {
    const { title, body, published, category } = req.body ?? {};
    if (typeof title !== "string" || title.length === 0 || title.length > 200 || typeof body !== "string" ||
      typeof published !== "boolean" || !Number.isSafeInteger(category)) return fail(res, 400, "Invalid input.");
    if (!(await categories.existsBy({ id: category }))) return fail(res, 400, "Invalid input.");
    const result = await articles.insert({ title, body, published, category: { id: category }, author: { id: viewer(req).id } });
    const id = result.identifiers[0]!.id as number;
    const article = await visibleArticles(viewer(req)).andWhere("article.id = :id", { id }).getOne();
    res.json({ success: true, data: present(article!, []) });
  });

  app.post("/ajax/blog/article/:pk/update.json", loginRequired, csrfCheck, async (req, res) => {
    const pk = parsePk(req.params.pk);
    const { title, _version: version } = req.body ?? {};
    if (pk === undefined) return fail(res, 404, "Not found.");
    if (typeof title !== "string" || title.length === 0 || title.length > 200 || !Number.isSafeInteger(version)) return fail(res, 400, "Invalid input.");
    const user = viewer(req);
    const article = await visibleArticles(user).andWhere("article.id = :pk", { pk }).getOne();
    if (!article) return fail(res, 404, "Not found.");
    if (!user.isStaff && article.author.id !== user.id) return fail(res, 403, "You do not have permission to perform this action.");
    if (article.version !== version) return fail(res, 409, "The record was changed by someone else; reload it and try again.");
    const result = await articles.createQueryBuilder().update()
      .set({ title, updatedAt: () => now })
      .where("id = :pk AND version = :version", { pk, version }).execute();
    if (result.affected === 0) return fail(res, 409, "The record was changed by someone else; reload it and try again.");
    const updated = await visibleArticles(user).andWhere("article.id = :pk", { pk }).getOne();
    res.json({ success: true, data: present(updated!, (await tagsOf([pk])).get(pk)!) });
  });

  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = (error as { status?: number }).status ?? 500;
    fail(res, status, status === 401 ? "Invalid username or password." : "Internal server error.");
  });
  serve(createServer(app), counter, () => dataSource.destroy());
}

void main();
