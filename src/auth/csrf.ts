import { hash, timingSafeEqual } from "node:crypto";
import Tokens from "csrf";
import { sign } from "cookie-signature";
import type { NextFunction, Request, RequestHandler, Response } from "express";
import { AJAXError, Messages } from "../errors";
import { readSignedCookie } from "./signed-cookie";

const tokens = new Tokens();

/** The cookie that carries the token to page scripts (readable by JavaScript, as Django's). */
export const CSRF_COOKIE = "csrftoken";
/** The signed, HTTP-only cookie that holds an anonymous visitor's CSRF secret. */
export const CSRF_SECRET_COOKIE = "csrfsecret";
/** The header every POST carries the token in. */
export const CSRF_HEADER = "x-csrftoken";
/** The body field a plain HTML form may carry it in instead. */
export const CSRF_FIELD = "csrf_token";

declare module "express-session" {
  interface SessionData {
    csrfSecret?: string;
  }
}

declare module "express-serve-static-core" {
  interface Request {
    /** The CSRF protection of the ajax instance whose session middleware ran on this request. */
    ajaxCsrf?: CsrfProtection;
    /** An anonymous secret issued during this request, before its cookie has come back. */
    csrfSecretIssued?: string;
    /** The header token already found right before the body was read (checked once per request). */
    csrfTokenVerified?: string;
  }
}

/** Settings of {@link CsrfProtection}. */
export interface CsrfOptions {
  /** Signs the anonymous secret cookie: the session secret(s); the first signs, all verify. */
  signingSecrets: readonly string[];
  /** Origins (`https://app.example.com`) besides the server's own that may POST. */
  trustedOrigins?: readonly string[];
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
 * The `csrf` package's check (`<salt>-<sha1(salt-secret) in base64url>`), compared in constant
 * time without its double HMAC and the random key it draws on every check.
 */
export function tokenMatchesSecret(secret: string, token: string): boolean {
  if (secret === "") return false;
  const dash = token.indexOf("-");
  if (dash < 0) return false;
  const salt = token.slice(0, dash);
  // latin1, as the package hashes ("ascii" in Node is latin1): the same answer for every input.
  const expected = Buffer.from(`${salt}-${hash("sha1", Buffer.from(`${salt}-${secret}`, "latin1"), "base64url")}`, "latin1");
  const given = Buffer.from(token, "latin1");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * CSRF tokens (the `csrf` package: a salted HMAC of a per-visitor secret), checked on every
 * POST together with the `Origin` header.
 *
 * Where the secret lives decides what a token costs: a logged-in user's secret is in the
 * session, so a token is worth nothing in another session; an anonymous visitor's is in a
 * signed, HTTP-only cookie, so handing out tokens to anonymous visitors (every page view, every
 * bot) writes no session row. Login and logout replace the secret (Django rotates too).
 */
export class CsrfProtection {
  private readonly trusted: ReadonlySet<string>;

  constructor(private readonly options: CsrfOptions) {
    if (options.signingSecrets.length === 0) throw new Error("ajax-endpoints: CSRF protection needs a signing secret");
    this.trusted = new Set(options.trustedOrigins ?? []);
  }

  /** Marks the request as protected by this instance, for the `ajax()` wrapper outside the router. */
  readonly attach: RequestHandler = (req, _res, next) => {
    req.ajaxCsrf = this;
    next();
  };

  /** A token for the caller (creating its secret on first use), also set as the `csrftoken` cookie. */
  async issueToken(req: Request, res: Response): Promise<string> {
    let secret = this.secretOf(req);
    if (!secret) secret = await this.storeSecret(req, res, tokens.secretSync());
    const token = tokens.create(secret);
    res.cookie(CSRF_COOKIE, token, { httpOnly: false, sameSite: "lax", secure: req.secure, path: "/" });
    return token;
  }

  /** Gives the caller a new secret and token: at login (into the new session) and logout (into the cookie). */
  async rotate(req: Request, res: Response): Promise<string> {
    await this.storeSecret(req, res, tokens.secretSync());
    return this.issueToken(req, res);
  }

  /**
   * Before the body is read: a browser's cross-site `Origin` is refused, and a token sent in
   * the header must be right. A token in a form field is checked by {@link guard} once the body
   * is parsed (or, for uploads, by {@link verifyFields} before the first file is written).
   */
  readonly beforeBody: RequestHandler = (req, _res, next) => {
    if (!this.originAllowed(req)) return next(new AJAXError(403, Messages.csrf));
    const header = req.headers[CSRF_HEADER];
    if (typeof header === "string") {
      if (!this.verify(req, header)) return next(new AJAXError(403, Messages.csrf));
      req.csrfTokenVerified = header;
    }
    next();
  };

  /** After the body: the token from the header, or the body's `csrf_token` field (removed from the body), must be right. */
  readonly guard: RequestHandler = (req, _res, next) => {
    if (!this.originAllowed(req)) return next(new AJAXError(403, Messages.csrf));
    // Outside the router (the ajax() wrapper) no body parser may have run: Express 5 leaves req.body undefined.
    const body = (req.body ?? {}) as Record<string, unknown>;
    const header = req.headers[CSRF_HEADER];
    const field = body[CSRF_FIELD];
    delete body[CSRF_FIELD];
    const token = typeof header === "string" ? header : typeof field === "string" ? field : undefined;
    if (token === undefined) return next(new AJAXError(403, Messages.csrf));
    // The header token checked before the body (same session, same secret) needs no second check.
    if (token !== req.csrfTokenVerified && !this.verify(req, token)) return next(new AJAXError(403, Messages.csrf));
    next();
  };

  /** For uploads, before a file touches the disk: the header token, or a `csrf_token` field sent before the file. */
  verifyFields(req: Request, fields: ReadonlyArray<readonly [string, string]>): void {
    const header = req.headers[CSRF_HEADER];
    const token = typeof header === "string" ? header : fields.find(([name]) => name === CSRF_FIELD)?.[1];
    if (!this.originAllowed(req) || token === undefined || !this.verify(req, token)) throw new AJAXError(403, Messages.csrf);
  }

  private verify(req: Request, token: string): boolean {
    const secret = this.secretOf(req);
    return secret !== undefined && token.length <= 256 && tokenMatchesSecret(secret, token);
  }

  /**
   * The session's secret where the session has one (only sessions that logged in do: a user
   * deactivated since keeps it, and is answered 401, not 403), else the anonymous one from
   * its signed cookie.
   */
  private secretOf(req: Request): string | undefined {
    if (req.session?.csrfSecret) return req.session.csrfSecret;
    if (req.user) return undefined;
    if (req.csrfSecretIssued) return req.csrfSecretIssued;
    return readSignedCookie(req.headers.cookie, CSRF_SECRET_COOKIE, this.options.signingSecrets);
  }

  private async storeSecret(req: Request, res: Response, secret: string): Promise<string> {
    if (req.user) {
      req.session.csrfSecret = secret;
      await saveSession(req);
      // The session holds it now; the anonymous cookie is of no more use.
      if (req.headers.cookie?.includes(CSRF_SECRET_COOKIE)) res.clearCookie(CSRF_SECRET_COOKIE, { path: "/" });
    } else {
      res.cookie(CSRF_SECRET_COOKIE, sign(secret, this.options.signingSecrets[0]!), {
        httpOnly: true, sameSite: "lax", secure: req.secure, path: "/",
      });
      req.csrfSecretIssued = secret;
    }
    return secret;
  }

  /**
   * A browser sends `Origin` on every cross-site POST; it must be the server's own origin
   * (scheme, host and port, as the request arrived or as a trusted proxy says) or a trusted one.
   */
  private originAllowed(req: Request): boolean {
    const origin = req.headers.origin;
    if (typeof origin !== "string") return true;
    if (this.trusted.has(origin)) return true;
    try {
      const own = new URL(`${req.protocol}://${req.headers.host ?? ""}`);
      return new URL(origin).origin === own.origin;
    } catch {
      return false;
    }
  }
}

/**
 * The CSRF check for routes outside the router (the `ajax()` wrapper): it uses the protection
 * that `ajax.session` attached to the request. Without that middleware there is no secret to
 * check against, so every unsafe request is refused.
 */
export function csrfGuard(): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (!req.ajaxCsrf) return next(new AJAXError(403, Messages.csrf));
    req.ajaxCsrf.guard(req, res, next);
  };
}
