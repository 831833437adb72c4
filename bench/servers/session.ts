import { randomBytes } from "node:crypto";
import Tokens from "csrf";
import { parse as parseCookies, serialize } from "cookie";
import { sign, unsign } from "cookie-signature";
import { tokenMatchesSecret } from "../../src/auth/csrf";

/**
 * The framework's session and CSRF scheme written out by hand, for the servers that do the
 * framework's work without it: the same `sessionid` cookie (express-session's `s:` + signed
 * id), the same `ajax_session` rows (JSON with `passport.user` and `csrfSecret`), the same
 * anonymous CSRF secret in the signed `csrfsecret` cookie and the same tokens (`csrf` package).
 * The database access is each server's own; this module only does the parts around it.
 */
export const SESSION_SECRET = "bench secret";
const SESSION_COOKIE = "sessionid";
const SECRET_COOKIE = "csrfsecret";
const TOKEN_COOKIE = "csrftoken";
const SESSION_MAX_AGE_MS = 14 * 24 * 60 * 60 * 1000;
const tokens = new Tokens();

export interface SessionData {
  passport?: { user?: number };
  csrfSecret?: string;
}

/** The session id from the cookie header, if its signature holds. */
export function sessionIdOf(cookieHeader: string | undefined): string | undefined {
  if (!cookieHeader || !cookieHeader.includes(SESSION_COOKIE)) return undefined;
  const value = parseCookies(cookieHeader)[SESSION_COOKIE];
  if (!value || !value.startsWith("s:")) return undefined;
  const sid = unsign(value.slice(2), SESSION_SECRET);
  return sid === false ? undefined : sid;
}

/** The anonymous visitor's CSRF secret from its signed cookie. */
export function anonymousSecretOf(cookieHeader: string | undefined): string | undefined {
  if (!cookieHeader || !cookieHeader.includes(SECRET_COOKIE)) return undefined;
  const value = parseCookies(cookieHeader)[SECRET_COOKIE];
  if (!value) return undefined;
  const secret = unsign(value, SESSION_SECRET);
  return secret === false ? undefined : secret;
}

/**
 * The framework's check: a token of at most 256 characters that matches the secret, compared
 * the way the framework compares it (one SHA-1 and a constant-time comparison, not the `csrf`
 * package's random key and double HMAC), so that the ceiling pays no more for it than we do.
 */
export function tokenMatches(secret: string | undefined, token: unknown): boolean {
  return secret !== undefined && typeof token === "string" && token.length <= 256 && tokenMatchesSecret(secret, token);
}

/** A cross-site `Origin` is refused, as the framework does (no trusted origins in the bench). */
export function originAllowed(origin: string | undefined, host: string | undefined): boolean {
  if (origin === undefined) return true;
  try {
    return new URL(origin).origin === new URL(`http://${host ?? ""}`).origin;
  } catch {
    return false;
  }
}

/** `GET csrf.json` for an anonymous visitor: a new secret in the signed cookie and its token. */
export function anonymousToken(): { token: string; cookies: string[] } {
  const secret = tokens.secretSync();
  const token = tokens.create(secret);
  return {
    token,
    cookies: [
      serialize(SECRET_COOKIE, sign(secret, SESSION_SECRET), { httpOnly: true, sameSite: "lax", path: "/" }),
      serialize(TOKEN_COOKIE, token, { sameSite: "lax", path: "/" }),
    ],
  };
}

/** A new logged-in session: its row (id, expiry, JSON as express-session stores it) and the cookies. */
export function newSession(userId: number): { id: string; expiredAt: number; json: string; cookies: string[] } {
  const id = randomBytes(24).toString("base64url");
  const csrfSecret = tokens.secretSync();
  const expires = new Date(Date.now() + SESSION_MAX_AGE_MS);
  const json = JSON.stringify({
    cookie: { originalMaxAge: SESSION_MAX_AGE_MS, expires: expires.toISOString(), secure: false, httpOnly: true, path: "/", sameSite: "lax" },
    passport: { user: userId }, csrfSecret,
  });
  return {
    id, expiredAt: expires.getTime(), json,
    cookies: [
      serialize(SESSION_COOKIE, `s:${sign(id, SESSION_SECRET)}`, { httpOnly: true, sameSite: "lax", path: "/", expires }),
      serialize(TOKEN_COOKIE, tokens.create(csrfSecret), { sameSite: "lax", path: "/" }),
      serialize(SECRET_COOKIE, "", { path: "/", expires: new Date(0) }),
    ],
  };
}
