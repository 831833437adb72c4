import { createServer } from "node:http";
import Database from "better-sqlite3";
import express, { type NextFunction, type Request, type Response } from "express";
import { verifyPassword } from "../../src/auth/passwords";
import { serve, serverArgs } from "./harness";
import { RawArticles, type Answer } from "./raw-sql";
import { anonymousSecretOf, anonymousToken, newSession, originAllowed, sessionIdOf, tokenMatches, type SessionData } from "./session";

/**
 * (3) The ceiling: Express 5 + better-sqlite3 prepared statements doing the framework's whole
 * work by hand. The session comes from the same `ajax_session` table and signed cookie, the
 * user is read on every request (a deactivated user counts as logged out at once), the CSRF
 * token is checked against the session's secret, then the same row scope (soft delete
 * included), hydration, tags, audit entries and bytes as ajax-endpoints. What a framework
 * that adds nothing would cost.
 */
const { db: file } = serverArgs();
const articles = new RawArticles(file);
const db = new Database(file);
db.pragma("journal_mode = WAL");
const readSession = db.prepare(`SELECT json FROM ajax_session WHERE id = ? AND expiredAt > ? AND destroyedAt IS NULL`).pluck();
const readUser = db.prepare(`SELECT id, username, isStaff, isActive FROM "user" WHERE id = ?`);
const userByName = db.prepare(`SELECT id, passwordHash, isActive FROM "user" WHERE username = ?`);
const insertSession = db.prepare("INSERT INTO ajax_session (id, expiredAt, json) VALUES (?, ?, ?)");

interface User { id: number; username: string; isStaff: number; isActive: number }
interface Caller { user?: User; session?: SessionData }
const callers = new WeakMap<Request, Caller>();
const fail = (status: number, message: string): Answer => ({ status, body: { success: false, data: { code: status, message } } });
const answer = (res: Response, { status, body }: Answer) => { res.status(status).json(body); };

/** The session and its user, as express-session + passport's deserializeUser give them to the framework. */
function caller(req: Request): Caller {
  const sid = sessionIdOf(req.headers.cookie);
  if (!sid) return {};
  articles.counts.total++;
  articles.counts.session++;
  const json = readSession.get(sid, Date.now()) as string | undefined;
  if (json === undefined) return {};
  const session = JSON.parse(json) as SessionData;
  const pk = session.passport?.user;
  if (pk === undefined) return { session };
  articles.counts.total++;
  articles.counts.user++;
  const user = readUser.get(pk) as User | undefined;
  return { session, user: user && user.isActive === 1 ? user : undefined };
}

/** Every POST: the origin, the session, the user, the token (the session's secret, else the anonymous one). */
function gate(req: Request, res: Response, next: NextFunction): void {
  if (!originAllowed(req.headers.origin, req.headers.host)) return answer(res, fail(403, "CSRF token missing or incorrect."));
  const found = caller(req);
  const secret = found.session?.csrfSecret ?? (found.user ? undefined : anonymousSecretOf(req.headers.cookie));
  if (!tokenMatches(secret, req.headers["x-csrftoken"])) return answer(res, fail(403, "CSRF token missing or incorrect."));
  callers.set(req, found);
  next();
}

/** The record ops need a logged-in, non-staff user here: the bench logs in as one (staff would see every row). */
function viewerOf(req: Request, res: Response): number | undefined {
  const user = callers.get(req)?.user;
  if (!user) { answer(res, fail(401, "Authentication credentials were not provided.")); return undefined; }
  if (user.isStaff === 1) { answer(res, fail(501, "The ceiling server serves non-staff users only.")); return undefined; }
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
  const user = typeof username === "string" ? userByName.get(username) as { id: number; passwordHash: string; isActive: number } | undefined : undefined;
  if (!user || typeof password !== "string" || !(await verifyPassword(password, user.passwordHash)) || user.isActive !== 1) {
    return answer(res, fail(401, "Invalid username or password."));
  }
  const session = newSession(user.id);
  insertSession.run(session.id, session.expiredAt, session.json);
  res.setHeader("set-cookie", session.cookies).json({ success: true, data: { id: user.id } });
});
app.post("/ajax/blog/article/:pk/get.json", gate, (req, res) => {
  const viewer = viewerOf(req, res);
  if (viewer !== undefined) answer(res, articles.get(req.params.pk as string, viewer));
});
app.post("/ajax/blog/article/list.json", gate, (req, res) => {
  const viewer = viewerOf(req, res);
  if (viewer !== undefined) answer(res, articles.list(req.body, viewer));
});
app.post("/ajax/blog/article.json", gate, (req, res) => {
  const viewer = viewerOf(req, res);
  if (viewer !== undefined) answer(res, articles.create(req.body, viewer));
});
app.post("/ajax/blog/article/:pk/update.json", gate, (req, res) => {
  const viewer = viewerOf(req, res);
  if (viewer !== undefined) answer(res, articles.updateArticle(req.params.pk as string, req.body, viewer));
});
serve(createServer(app), {
  snapshot: () => ({ ...articles.counts }),
  reset: () => { articles.counts.total = articles.counts.session = articles.counts.user = 0; },
}, async () => { articles.close(); db.close(); });
