import Tokens from "csrf";
import type { NextFunction, Request, Response } from "express";
import { AJAXError, Messages } from "../errors";

const tokens = new Tokens();

/** The cookie that carries the token to page scripts (readable by JavaScript, as Django's). */
export const CSRF_COOKIE = "csrftoken";
/** The header every POST carries the token in. */
export const CSRF_HEADER = "x-csrftoken";
/** The body field a plain HTML form may carry it in instead. */
export const CSRF_FIELD = "csrf_token";

declare module "express-session" {
  interface SessionData {
    csrfSecret?: string;
  }
}

function setTokenCookie(req: Request, res: Response, token: string): void {
  res.cookie(CSRF_COOKIE, token, { httpOnly: false, sameSite: "lax", secure: req.secure, path: "/" });
}

/**
 * Writes the session to its store now. express-session saves a changed session only as the
 * response ends, after the headers (and, without Content-Length, the whole body) have gone
 * out: a client that acts on the new cookie as soon as the headers arrive would find no
 * session yet. Every response that creates or replaces a session's CSRF secret saves first.
 */
function saveSession(req: Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.save((error) => (error ? reject(error) : resolve())));
}

/**
 * A token for the caller's session, creating the session's secret on first use, and sets the
 * `csrftoken` cookie. The secret lives in the session, so a token is worthless in another session.
 */
export async function issueToken(req: Request, res: Response): Promise<string> {
  if (!req.session.csrfSecret) {
    req.session.csrfSecret = tokens.secretSync();
    await saveSession(req);
  }
  const token = tokens.create(req.session.csrfSecret);
  setTokenCookie(req, res, token);
  return token;
}

/** Gives the session a new secret (at login and logout, as Django does) and a new cookie. */
export async function rotateToken(req: Request, res: Response): Promise<string> {
  req.session.csrfSecret = tokens.secretSync();
  await saveSession(req);
  return issueToken(req, res);
}

function sameOrigin(req: Request, origin: string, trusted: ReadonlySet<string>): boolean {
  if (trusted.has(origin)) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/**
 * Checks every POST: a browser's cross-site `Origin` is refused outright, then the token
 * from the `X-CSRFToken` header (or a `csrf_token` form field) must belong to the session.
 */
export function csrfGuard(trustedOrigins: readonly string[] = []) {
  const trusted = new Set(trustedOrigins);
  return (req: Request, _res: Response, next: NextFunction): void => {
    const origin = req.headers.origin;
    if (typeof origin === "string" && !sameOrigin(req, origin, trusted)) return next(new AJAXError(403, Messages.csrf));
    const header = req.headers[CSRF_HEADER];
    // Outside the router (the ajax() wrapper) no body parser may have run: Express 5 leaves req.body undefined.
    const body = (req.body ?? {}) as Record<string, unknown>;
    const token = typeof header === "string" ? header : typeof body[CSRF_FIELD] === "string" ? body[CSRF_FIELD] : undefined;
    delete body[CSRF_FIELD];
    const secret = req.session?.csrfSecret;
    if (!token || !secret || !tokens.verify(secret, token as string)) return next(new AJAXError(403, Messages.csrf));
    next();
  };
}
