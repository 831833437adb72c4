import type { Request, RequestHandler } from "express";
import type { Session, SessionData, Store } from "express-session";
import type { ObjectLiteral } from "typeorm";
import { AJAXError, Messages } from "../errors";
import { readSignedCookie } from "./signed-cookie";

/** What {@link sessionReader} needs. */
export interface SessionReaderOptions {
  cookieName: string;
  /** The session secrets: express-session's cookie is `s:` + the id signed with the first; any of them verifies. */
  secrets: readonly string[];
  store: Store;
  /** The active user of a session's `passport.user`, read anew on every request; undefined when gone or inactive. */
  userOf(pk: unknown): Promise<ObjectLiteral | undefined>;
  /** The session and its active user at once (the database store: one statement); else `store.get`, then {@link userOf}. */
  sessionWithUser?(sid: string): Promise<{ session?: ObjectLiteral; user?: ObjectLiteral }>;
}

type StoredSession = Partial<SessionData> & { passport?: { user?: unknown } };

/**
 * The session of a request that only reads it: the model ops (get, list, create, update,
 * delete and feature ops), which never change a session. express-session and passport do
 * the same read, and on top of it keep a `Session` object, hash its JSON at the start and end
 * of every request to see whether to save it, and hook the response's headers; that is a
 * good part of a small request's cost and buys nothing here. Login, logout, `csrf.json`,
 * ad-hoc endpoints and batches keep express-session and passport.
 *
 * The session is given frozen: a hook that writes into it fails loudly instead of losing the
 * write. The user is read on every request, so a deactivated user counts as logged out at once.
 */
export function sessionReader(options: SessionReaderOptions): RequestHandler {
  const { cookieName, secrets, store } = options;
  // express-session serves no session while its store says it is disconnected; so does this.
  let storeReady = true;
  store.on?.("disconnect", () => { storeReady = false; });
  store.on?.("connect", () => { storeReady = true; });
  const unavailable = () => new AJAXError(503, Messages.unavailable, { headers: { "Retry-After": "1" } });


  return (req, _res, next) => {
    if (!storeReady) return next(unavailable());
    const sid = readSignedCookie(req.headers.cookie, cookieName, secrets, "s:");
    if (sid === undefined) {
      req.session = EMPTY;
      return next();
    }
    const withUser = options.sessionWithUser;
    if (withUser) {
      withUser(sid).then(({ session, user }) => {
        if (!session) {
          req.session = EMPTY;
          return next();
        }
        use(req, sid, session as StoredSession);
        if (user) req.user = user as Express.User;
        next();
      }, next);
      return;
    }
    store.get(sid, (error: unknown, stored?: StoredSession | null) => {
      if (error) return next(error);
      if (!stored) {
        req.session = EMPTY;
        return next();
      }
      use(req, sid, stored);
      const pk = stored.passport?.user;
      if (pk === undefined) return next();
      options.userOf(pk).then((user) => {
        if (user) req.user = user as Express.User;
        next();
      }, next);
    });
  };
}

/** Gives the request its session, frozen. */
function use(req: Request, sid: string, stored: StoredSession): void {
  req.sessionID = sid;
  if (stored.passport) Object.freeze(stored.passport);
  req.session = Object.freeze(stored) as unknown as Session & Partial<SessionData>;
}

/** The session of a request without one. */
const EMPTY = Object.freeze({}) as unknown as Session & Partial<SessionData>;
