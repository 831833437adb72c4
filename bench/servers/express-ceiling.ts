import { createServer } from "node:http";
import Database from "better-sqlite3";
import express, { type NextFunction, type Request, type Response } from "express";
import { verifyPassword } from "../../src/auth/passwords";
import { isPostgres, serve, serverArgs } from "./harness";
import { PgArticles } from "./raw-pg";
import { RawArticles } from "./raw-sql";
import { anonymousSecretOf, anonymousToken, newSession, originAllowed, sessionIdOf, tokenMatches, type SessionData } from "./session";
import { fail, POSTGRES_VALUES, SQLITE_VALUES, type Answer, type Values } from "./shape";

/**
 * (3) The ceiling: Express 5 + prepared statements doing the framework's whole work by hand,
 * on SQLite (better-sqlite3) or PostgreSQL (node-postgres), whichever `--db` names. The
 * session comes from the same `ajax_session` table and signed cookie, the user is read on
 * every request (a deactivated user counts as logged out at once), the CSRF token is checked
 * against the session's secret, then the same row scope (soft delete included), hydration,
 * tags, audit entries and bytes as ajax-endpoints. What a framework that adds nothing would cost.
 */
type MaybePromise<T> = T | Promise<T>;
interface UserRow { id: number; isStaff: unknown; isActive: unknown }
interface Caller { user?: UserRow; session?: SessionData }
interface LoginRow { id: number; passwordHash: string; isActive: unknown }

/** What the ceiling asks of its database; SQLite answers at once, PostgreSQL with a promise. */
interface CeilingDatabase {
  readonly values: Values;
  readonly articles: {
    get(pk: string, viewer: number): MaybePromise<Answer>;
    list(params: unknown, viewer: number): MaybePromise<Answer>;
    create(params: unknown, viewer: number): MaybePromise<Answer>;
    updateArticle(pk: string, params: unknown, viewer: number): MaybePromise<Answer>;
  };
  /** The session row of `sid` and its user, as express-session + passport's deserializeUser give them to the framework. */
  caller(sid: string): MaybePromise<Caller>;
  userByName(username: string): MaybePromise<LoginRow | undefined>;
  insertSession(id: string, expiredAt: number, json: string): MaybePromise<unknown>;
  snapshot(): object;
  reset(): void;
  close(): Promise<void>;
}

/** better-sqlite3: the session and the user are two statements (each a function call, not a round trip). */
class SqliteCeiling implements CeilingDatabase {
  readonly values = SQLITE_VALUES;
  readonly articles: RawArticles;
  private readonly db: Database.Database;
  private readonly readSession: Database.Statement;
  private readonly readUser: Database.Statement;
  private readonly userByNameStatement: Database.Statement;
  private readonly insertSessionStatement: Database.Statement;

  constructor(file: string) {
    this.articles = new RawArticles(file);
    this.db = new Database(file);
    this.db.pragma("journal_mode = WAL");
    this.readSession = this.db.prepare(`SELECT json FROM ajax_session WHERE id = ? AND expiredAt > ? AND destroyedAt IS NULL`).pluck();
    this.readUser = this.db.prepare(`SELECT id, username, isStaff, isActive FROM "user" WHERE id = ?`);
    this.userByNameStatement = this.db.prepare(`SELECT id, passwordHash, isActive FROM "user" WHERE username = ?`);
    this.insertSessionStatement = this.db.prepare("INSERT INTO ajax_session (id, expiredAt, json) VALUES (?, ?, ?)");
  }

  caller(sid: string): Caller {
    const counts = this.articles.counts;
    counts.total++;
    counts.session++;
    const json = this.readSession.get(sid, Date.now()) as string | undefined;
    if (json === undefined) return {};
    const session = JSON.parse(json) as SessionData;
    const pk = session.passport?.user;
    if (pk === undefined) return { session };
    counts.total++;
    counts.user++;
    const user = this.readUser.get(pk) as UserRow | undefined;
    return { session, user: user && user.isActive === 1 ? user : undefined };
  }

  userByName(username: string) { return this.userByNameStatement.get(username) as LoginRow | undefined; }
  insertSession(id: string, expiredAt: number, json: string) { return this.insertSessionStatement.run(id, expiredAt, json); }
  snapshot() { return { ...this.articles.counts }; }
  reset() { const c = this.articles.counts; c.total = c.session = c.user = 0; }
  async close() { this.articles.close(); this.db.close(); }
}

/**
 * node-postgres: every statement is a round trip, so the session row comes joined to its user
 * (the framework's database store does the same: one statement, counted as the session's).
 */
class PgCeiling implements CeilingDatabase {
  readonly values = POSTGRES_VALUES;
  readonly articles: PgArticles;

  constructor(url: string) {
    this.articles = new PgArticles(url);
  }

  async caller(sid: string): Promise<Caller> {
    this.articles.counts.session++;
    const row = (await this.articles.query<{ json: string; id: number | null; isStaff: boolean; isActive: boolean }>({
      name: "bench_session",
      text: `SELECT s.json, u.id, u."isStaff", u."isActive" FROM ajax_session s
        LEFT JOIN "user" u ON u.id = CAST(s.json::jsonb #>> '{passport,user}' AS integer)
        WHERE s.id = $1 AND s."expiredAt" > $2 AND s."destroyedAt" IS NULL`,
      values: [sid, Date.now()],
    })).rows[0];
    if (!row) return {};
    const session = JSON.parse(row.json) as SessionData;
    return { session, user: row.id !== null && row.isActive ? { id: row.id, isStaff: row.isStaff, isActive: row.isActive } : undefined };
  }

  async userByName(username: string) {
    return (await this.articles.query<LoginRow>({ name: "bench_login", text: `SELECT id, "passwordHash", "isActive" FROM "user" WHERE username = $1`, values: [username] })).rows[0];
  }
  insertSession(id: string, expiredAt: number, json: string) {
    return this.articles.query({ name: "bench_new_session", text: `INSERT INTO ajax_session (id, "expiredAt", json) VALUES ($1, $2, $3)`, values: [id, expiredAt, json] });
  }
  snapshot() { return { ...this.articles.counts, roundTrips: this.articles.roundTrips.count }; }
  reset() { const c = this.articles.counts; c.total = c.session = c.user = 0; this.articles.roundTrips.count = 0; }
  close() { return this.articles.close(); }
}

const { db: target } = serverArgs();
const db: CeilingDatabase = isPostgres(target) ? new PgCeiling(target) : new SqliteCeiling(target);
const callers = new WeakMap<Request, Caller>();
const answer = (res: Response, { status, body }: Answer) => { res.status(status).json(body); };
/** Answers at once when the database did (SQLite), else when its promise settles. */
function reply(res: Response, next: NextFunction, result: MaybePromise<Answer>): void {
  if (result instanceof Promise) result.then((done) => answer(res, done), next);
  else answer(res, result);
}

/** Every POST: the origin, the session, the user, the token (the session's secret, else the anonymous one). */
function gate(req: Request, res: Response, next: NextFunction): void {
  if (!originAllowed(req.headers.origin, req.headers.host)) return answer(res, fail(403, "CSRF token missing or incorrect."));
  const sid = sessionIdOf(req.headers.cookie);
  const found = sid ? db.caller(sid) : {};
  if (found instanceof Promise) found.then((caller) => admit(req, res, next, caller), next);
  else admit(req, res, next, found);
}
function admit(req: Request, res: Response, next: NextFunction, found: Caller): void {
  const secret = found.session?.csrfSecret ?? (found.user ? undefined : anonymousSecretOf(req.headers.cookie));
  if (!tokenMatches(secret, req.headers["x-csrftoken"])) return answer(res, fail(403, "CSRF token missing or incorrect."));
  callers.set(req, found);
  next();
}

/** The record ops need a logged-in, non-staff user here: the bench logs in as one (staff would see every row). */
function viewerOf(req: Request, res: Response): number | undefined {
  const user = callers.get(req)?.user;
  if (!user) { answer(res, fail(401, "Authentication credentials were not provided.")); return undefined; }
  if (db.values.bool(user.isStaff)) { answer(res, fail(501, "The ceiling server serves non-staff users only.")); return undefined; }
  return user.id;
}

const app = express();
app.disable("x-powered-by");
app.get("/ajax/csrf.json", (_req, res) => {
  const { token, cookies } = anonymousToken();
  res.setHeader("set-cookie", cookies).json({ success: true, data: { token } });
});
app.use(express.json());
app.post("/ajax/auth/login.json", gate, async (req, res) => {
  const { username, password } = req.body ?? {};
  const user = typeof username === "string" ? await db.userByName(username) : undefined;
  if (!user || typeof password !== "string" || !(await verifyPassword(password, user.passwordHash)) || !db.values.bool(user.isActive)) {
    return answer(res, fail(401, "Invalid username or password."));
  }
  const session = newSession(user.id);
  await db.insertSession(session.id, session.expiredAt, session.json);
  res.setHeader("set-cookie", session.cookies).json({ success: true, data: { id: user.id } });
});
app.post("/ajax/blog/article/:pk/get.json", gate, (req, res, next) => {
  const viewer = viewerOf(req, res);
  if (viewer !== undefined) reply(res, next, db.articles.get(req.params.pk as string, viewer));
});
app.post("/ajax/blog/article/list.json", gate, (req, res, next) => {
  const viewer = viewerOf(req, res);
  if (viewer !== undefined) reply(res, next, db.articles.list(req.body, viewer));
});
app.post("/ajax/blog/article.json", gate, (req, res, next) => {
  const viewer = viewerOf(req, res);
  if (viewer !== undefined) reply(res, next, db.articles.create(req.body, viewer));
});
app.post("/ajax/blog/article/:pk/update.json", gate, (req, res, next) => {
  const viewer = viewerOf(req, res);
  if (viewer !== undefined) reply(res, next, db.articles.updateArticle(req.params.pk as string, req.body, viewer));
});
serve(createServer(app), { snapshot: () => db.snapshot(), reset: () => db.reset() }, () => db.close());
