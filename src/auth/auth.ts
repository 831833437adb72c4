import type { NextFunction, Request, RequestHandler, Response } from "express";
import { rateLimit, ipKeyGenerator, type Store as RateLimitStore } from "express-rate-limit";
import passportModule from "passport";
import { Strategy as LocalStrategy } from "passport-local";
import type { DataSource, EntityTarget, ObjectLiteral } from "typeorm";
import type { RequestContext } from "../context";
import { gateOf, throughGate } from "../db/gate";
import { AJAXError, Messages } from "../errors";
import type { ModelEndpoint } from "../model/endpoint";
import { encodeRecords } from "../model/hydrate";
import { RowReader } from "../model/rows";
import type { Registry } from "../registry";
import type { CsrfProtection } from "./csrf";
import type { DatabaseSessionStore } from "./session-store";
import { hashPassword, verifyPassword } from "./passwords";

/** Who may log in, and how the framework reads a user. */
export interface AuthOptions<U = any> {
  /** The TypeORM entity of users. */
  userEntity: EntityTarget<U>;
  /** Column with the login name (default `username`). */
  usernameField?: string;
  /** Column with the password hash (default `passwordHash`); never in a response. */
  passwordHashField?: string;
  /** Default: `user.isStaff === true`. */
  isStaff?(user: U): boolean;
  /** Default: `user.isActive !== false`. Inactive users cannot log in and count as logged out. */
  isActive?(user: U): boolean;
  /** Default: the scrypt format of {@link hashPassword}. */
  verifyPassword?(password: string, hash: string): Promise<boolean>;
  /** Failed logins allowed per window, per IP and username and per IP (defaults 5, 50, 15 minutes). */
  loginLimit?: { windowMs?: number; perUsername?: number; perIp?: number };
}

/** The resolved auth settings that the rest of the framework calls. */
export interface AuthRuntime {
  isStaff(user: unknown): boolean;
  isActive(user: unknown): boolean;
  userPk(user: unknown): unknown;
}

export function resolveAuthRuntime(options: AuthOptions, dataSource: DataSource): AuthRuntime {
  const pk = dataSource.getMetadata(options.userEntity).primaryColumns[0]!.propertyName;
  return {
    isStaff: (user) => (options.isStaff ? options.isStaff(user) : (user as ObjectLiteral)?.isStaff === true),
    isActive: (user) => (options.isActive ? options.isActive(user) : (user as ObjectLiteral)?.isActive !== false),
    userPk: (user) => (user as ObjectLiteral)?.[pk],
  };
}

/** A hash to compare against when the username is unknown, so both cases take as long. */
const decoyHash = hashPassword("decoy password that matches nothing");

/**
 * Session login with passport-local, logout and the current user (CONTRACT.md §2), with
 * failed-login rate limiting. Users are loaded without entity hydration through the user
 * endpoint's row reader, and shown by that endpoint's field rules.
 */
export class SessionAuth {
  readonly passport = new passportModule.Passport();
  /** passport's per-request middleware: reads the user of the session. */
  readonly middleware: RequestHandler[];
  /** Counts failed logins; `429` with `Retry-After` past the limit. */
  readonly loginLimiter: RequestHandler[];
  private readonly userEndpoint: ModelEndpoint;
  private readonly usernameColumn: string;
  private readonly hashField: string;
  /** Reads the user of a session on every request: every column but the password hash. */
  private readonly sessionUserReader: RowReader;

  /**
   * @param sessionCookie the session cookie's name, cleared at logout
   * @param limiterStore where failed logins are counted: one store per limiter, by its prefix
   *   (Redis, so that every server counts together); default: this process's memory.
   */
  constructor(
    private readonly options: AuthOptions, private readonly dataSource: DataSource, registry: Registry,
    private readonly runtime: AuthRuntime, private readonly csrf: CsrfProtection,
    private readonly sessionCookie: string, limiterStore?: (prefix: string) => RateLimitStore,
  ) {
    const metadata = dataSource.getMetadata(options.userEntity);
    this.userEndpoint = registry.endpointFor(metadata);
    const usernameField = options.usernameField ?? "username";
    this.hashField = options.passwordHashField ?? "passwordHash";
    const usernameColumn = metadata.findColumnWithPropertyName(usernameField);
    if (!usernameColumn || !metadata.findColumnWithPropertyName(this.hashField)) {
      throw new Error(`ajax-endpoints: user entity ${metadata.name} needs columns "${usernameField}" and "${this.hashField}"`);
    }
    this.usernameColumn = usernameColumn.databaseName;
    const hashColumn = metadata.findColumnWithPropertyName(this.hashField)!;
    this.sessionUserReader = new RowReader(this.userEndpoint.rules, dataSource, this.userEndpoint.rules.loadColumns.filter((column) => column !== hashColumn));
    const check = options.verifyPassword ?? verifyPassword;

    this.passport.use(new LocalStrategy({ usernameField: "username", passwordField: "password" }, (username, password, done) => {
      this.findUser(this.usernameColumn, username)
        .then(async (user) => {
          const hash = user ? String(user[this.hashField] ?? "") : await decoyHash;
          const matches = await check(password, hash);
          done(null, user && matches && runtime.isActive(user) ? user : false);
        })
        .catch((error: unknown) => done(error));
    }));
    this.passport.serializeUser((user, done) => done(null, runtime.userPk(user)));
    this.passport.deserializeUser((pk: unknown, done) => {
      this.sessionUser(pk).then((user) => done(null, user ?? false), (error: unknown) => done(error));
    });
    this.middleware = [this.passport.initialize(), this.passport.session()];

    const windowMs = options.loginLimit?.windowMs ?? 15 * 60 * 1000;
    const limiter = (name: string, limit: number, key: (req: Request) => string) => rateLimit({
      windowMs, limit, skipSuccessfulRequests: true, standardHeaders: "draft-8", legacyHeaders: false,
      keyGenerator: key,
      ...(limiterStore ? { store: limiterStore(`login:${name}:`) } : {}),
      // A limiter whose store (Redis) is down lets logins through rather than locking everyone out.
      passOnStoreError: true,
      handler: (req: Request, _res: Response, next: NextFunction) => {
        const reset = (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
        const seconds = Math.max(1, Math.ceil(((reset?.getTime() ?? Date.now() + windowMs) - Date.now()) / 1000));
        next(new AJAXError(429, Messages.tooManyLogins, { headers: { "Retry-After": String(seconds) } }));
      },
    });
    const ip = (req: Request) => ipKeyGenerator(req.ip ?? "unknown");
    const username = (req: Request) => {
      const value = (req.body as Record<string, unknown>)?.username;
      return typeof value === "string" ? value.trim().toLowerCase().slice(0, 150) : "";
    };
    this.loginLimiter = [
      limiter("ip", options.loginLimit?.perIp ?? 50, ip),
      limiter("user", options.loginLimit?.perUsername ?? 5, (req) => `${ip(req)}|${username(req)}`),
    ];
  }

  /** The session of `sid` and its active user, in one statement of the database store. */
  async sessionWithUser(store: DatabaseSessionStore, sid: string): Promise<{ session?: ObjectLiteral; user?: ObjectLiteral }> {
    const { session, user } = await store.getWithUser(sid, {
      entity: this.options.userEntity, pk: this.userEndpoint.rules.pk.column, reader: this.sessionUserReader,
    });
    return { session, user: user && this.runtime.isActive(user) ? user : undefined };
  }

  /** The user of a session, read anew: undefined when gone or inactive (then the request counts as logged out). */
  async sessionUser(pk: unknown): Promise<ObjectLiteral | undefined> {
    const user = await this.findUser(this.userEndpoint.rules.pk.column.databaseName, pk, this.sessionUserReader);
    return user && this.runtime.isActive(user) ? user : undefined;
  }

  private async findUser(column: string, value: unknown, reader = this.userEndpoint.reader): Promise<ObjectLiteral | undefined> {
    if (value === undefined || value === null || (typeof value !== "string" && typeof value !== "number")) return undefined;
    return gateOf(this.dataSource).read(async (manager) => {
      const qb = reader.query(manager, "account");
      qb.where(`${qb.escape("account")}.${qb.escape(column)} = :value`, { value }).limit(1);
      return (await reader.load(qb, manager, "by-key"))[0];
    });
  }

  /** The user as the user endpoint shows it. */
  async present(user: ObjectLiteral, ctx: RequestContext): Promise<ObjectLiteral> {
    return throughGate(ctx, "read", async () => {
      return (await encodeRecords(this.userEndpoint, [user], ctx))[0]!;
    });
  }

  /** `auth/login.json`: `401` on bad credentials, a new session id and CSRF token on success. */
  async login(ctx: RequestContext): Promise<ObjectLiteral> {
    const { username, password } = ctx.params;
    const errors: Record<string, string[]> = {};
    if (typeof username !== "string" || username === "" || username.length > 150) errors.username = ["A username is required."];
    // No username holds U+0000, and PostgreSQL refuses to compare text that does.
    else if (username.includes("\u0000")) errors.username = ["Null characters are not allowed."];
    if (typeof password !== "string" || password === "" || password.length > 1024) errors.password = ["A password is required."];
    if (Object.keys(errors).length > 0) throw new AJAXError(400, Messages.invalid, { errors });
    const { req, res } = ctx;
    const user = await new Promise<ObjectLiteral | false>((resolve, reject) => {
      this.passport.authenticate("local", { session: false }, (error: unknown, found: ObjectLiteral | false) =>
        (error ? reject(error) : resolve(found)))(req, res, reject);
    });
    if (!user) throw new AJAXError(401, Messages.badCredentials);
    // passport regenerates the session here: the id changes at login (no session fixation).
    await new Promise<void>((resolve, reject) => req.logIn(user, (error) => (error ? reject(error) : resolve())));
    await this.csrf.rotate(req, res);
    ctx.user = user;
    return this.present(user, ctx);
  }

  /**
   * `auth/logout.json`: ends the session. passport replaces it with a new, empty one, which
   * express-session would store (it saves every regenerated session): that one is dropped too,
   * so a logged-out visitor costs no row, and the CSRF secret goes back to the anonymous cookie.
   */
  async logout(ctx: RequestContext): Promise<null> {
    const { req, res } = ctx;
    await new Promise<void>((resolve, reject) => req.logOut((error) => (error ? reject(error) : resolve())));
    await new Promise<void>((resolve, reject) => req.session.destroy((error) => (error ? reject(error) : resolve())));
    res.clearCookie(this.sessionCookie, { path: "/" });
    await this.csrf.rotate(req, res);
    return null;
  }

  /** `auth/user.json`: the logged-in user, `401` when logged out. */
  async currentUser(ctx: RequestContext): Promise<ObjectLiteral> {
    if (!ctx.user) throw new AJAXError(401, Messages.unauthenticated);
    return this.present(ctx.user, ctx);
  }
}
