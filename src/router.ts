import { createHmac } from "node:crypto";
import express, { type NextFunction, type Request, type RequestHandler, type Response, type Router } from "express";
import session, { type Store } from "express-session";
import type { DataSource } from "typeorm";
import type { RedisStore as RateLimitRedisStore } from "rate-limit-redis";
import { requireOptional } from "./optional";
import { refuseAnonymousCaller } from "./adhoc";
import type { RequestContext } from "./context";
import { resolveAuthRuntime, SessionAuth, type AuthOptions } from "./auth/auth";
import { CsrfProtection } from "./auth/csrf";
import { sessionReader } from "./auth/session-reader";
import { AjaxSession } from "./auth/session-entity";
import { requireEntity } from "./db/require-entity";
import { createSessionStore, DatabaseSessionStore, type RedisCommands, type SessionStoreOptions } from "./auth/session-store";
import { sendError, sendSuccess, toAJAXError } from "./envelope";
import { AJAXError, Messages } from "./errors";
import { bodyParser, DEFAULT_BODY_LIMITS, type BodyLimits, type BodyRouteRules, type FileLimits } from "./http/body";
import { buildContext, dispatch, type CallHooks } from "./http/dispatch";
import { getOnly } from "./http/get-only";
import { healthRoute } from "./http/health";
import { BATCH_PATH, resolveRoute, type Route } from "./http/routes";
import { batchRunner, DEFAULT_MAX_BATCH_OPS, type BatchOptions } from "./batch/batch";
import { createLive, type LiveFeed, type LiveOptions } from "./live";
import { apiSecurityHeaders } from "./http/security-headers";
import { Registry, type AjaxApp } from "./registry";
import { ResponseCommands } from "./rpc/commands";
import { WireTypes } from "./rpc/types";
import { clientScriptRoutes } from "./client/serve";
import { buildOpenApiDocument, type OpenApiDocument, type OpenApiOptions } from "./openapi/document";
import { openApiRoutes } from "./openapi/serve";

/** Session cookie and store settings. */
export interface SessionOptions extends SessionStoreOptions {
  /** Signs the session cookie; give the same secret to every server. Required outside development. */
  secret: string | string[];
  /** Cookie name (default `sessionid`). */
  cookieName?: string;
  /** Session lifetime in milliseconds (default 14 days). */
  maxAgeMs?: number;
  /** Send the cookie over HTTPS only (default: when the request is HTTPS). */
  secureCookies?: boolean;
}

/** Everything {@link createAjax} needs. */
export interface AjaxOptions {
  /** An initialized DataSource. */
  dataSource: DataSource;
  /** The apps (endpoint files) to serve. */
  apps: readonly AjaxApp[];
  auth: AuthOptions;
  session: SessionOptions;
  /** Body size, upload and nesting limits. */
  limits?: Partial<BodyLimits>;
  /** Put crash details in `500` responses. Never in production. */
  debug?: boolean;
  /** Allow the `script` response command. */
  allowScriptCommands?: boolean;
  /** Origins (`https://app.example.com`) besides the server's own that may POST. */
  trustedOrigins?: readonly string[];
  /** Around every call. */
  hooks?: CallHooks;
  /** Custom wire types of ad-hoc endpoints: `new WireTypes().register("money", Money, encode, decode)` (default: none). */
  types?: WireTypes;
  /** Told about every `500` (default: `console.error`). */
  onError?(error: unknown, req: Request): void;
  /** The `info` of `GET /openapi.json`; `false` turns off it and the docs page. */
  openapi?: OpenApiOptions | false;
  /** `POST /batch.json` (CONTRACT.md §10): its op limit; `false` turns the route off. */
  batch?: BatchOptions | false;
  /** The change feed `GET /<app>/<model>/events` (docs/live.md): its limits and bus; `false` turns it off. */
  live?: LiveOptions | false;
}

/** The session cookie's name unless {@link SessionOptions.cookieName} says otherwise. */
export const DEFAULT_SESSION_COOKIE = "sessionid";

/** A built framework instance. */
export interface Ajax {
  /** Mount it: `app.use("/ajax", ajax.router)`. */
  router: Router;
  /** Session and passport middleware, for routes outside the router (the `ajax()` wrapper). */
  session: RequestHandler[];
  registry: Registry;
  /** Closes what the instance opened (the Redis client). */
  close(): Promise<void>;
  /** The OpenAPI 3.1 document of what is registered (paths relative to the mount), built once at start-up. */
  openapi?: OpenApiDocument;
  /** The change feed, unless turned off: `live.publish({app, model, pk, op})` for writes the ops do not see. */
  live?: LiveFeed;
}


declare module "express-serve-static-core" {
  interface Request {
    /** The route this request resolved to under the ajax mount. */
    ajaxRoute?: Route;
  }
}

/**
 * Builds the ajax-endpoints router from a DataSource and the app's endpoint files: body
 * parsing, sessions, CSRF, registry dispatch and the JSON envelope for every outcome,
 * crashes included.
 *
 * @example
 * const ajax = createAjax({ dataSource, apps: [blog], auth: { userEntity: User }, session: { secret } });
 * app.use("/ajax", ajax.router);
 */
export function createAjax(options: AjaxOptions): Ajax {
  const { dataSource } = options;
  if (!dataSource.isInitialized) throw new Error("ajax-endpoints: initialize the DataSource before createAjax()");
  if (!options.session.store && !options.session.redisUrl) requireEntity(dataSource, AjaxSession, "AjaxSession", "sessions live in the app's database");
  const limits: BodyLimits = { ...DEFAULT_BODY_LIMITS, ...options.limits };
  const authRuntime = resolveAuthRuntime(options.auth, dataSource);
  const secrets = ([] as string[]).concat(options.session.secret);
  // Cursors are signed with a key made from the session secret: every server of a site shares it.
  const signingKey = createHmac("sha256", secrets[0] ?? "").update("ajax-endpoints list cursors").digest("base64url");
  const registry = new Registry(options.apps, { dataSource, ...authRuntime, signingKey });
  const sessions = createSessionStore(dataSource, options.session);
  const csrf = new CsrfProtection({
    signingSecrets: secrets, trustedOrigins: options.trustedOrigins,
  });
  const redis = sessions.redis;
  const auth = new SessionAuth(options.auth, dataSource, registry, authRuntime, csrf, options.session.cookieName ?? DEFAULT_SESSION_COOKIE,
    redis ? redisLimiterStores(redis, options.session.redisPrefix ?? "ajax:sess:") : undefined);
  const sessionMiddleware = sessionHandler(options.session, sessions.store);
  const debug = options.debug === true;
  const report = options.onError ?? ((error: unknown) => console.error("ajax-endpoints: unhandled error", error));

  const toError = (error: unknown): AJAXError => toAJAXError(error, debug);

  const router = express.Router({ caseSensitive: true, strict: true });
  router.use(apiSecurityHeaders);
  // Model ops, most of the traffic, go straight through their own chain (filled in below)
  // rather than past every route and middleware layer of the router.
  const modelChain: RequestHandler[] = [];
  router.use((req: Request, res: Response, next: NextFunction) => {
    if (req.method !== "POST") return next();
    const route = resolveRoute(registry, req.path);
    if (!route || !isModelRoute(route)) return next();
    req.ajaxRoute = route;
    runAll(modelChain, req, res, next);
  });
  const sessionChain = [csrf.attach, sessionMiddleware, ...auth.middleware];

  router.all("/csrf.json", getOnly, ...sessionChain, async (req: Request, res: Response) => {
    sendSuccess(res, { token: await csrf.issueToken(req, res) });
  });

  router.all("/health.json", getOnly, healthRoute(dataSource, sessions.store));
  router.use(clientScriptRoutes(registry));

  const openapi = options.openapi === false ? undefined : buildOpenApiDocument({
    ...options.openapi, registry, userEndpoint: registry.endpointFor(dataSource.getMetadata(options.auth.userEntity)),
    sessionCookie: options.session.cookieName,
    batchMaxOps: options.batch === false ? undefined : options.batch?.maxOps ?? DEFAULT_MAX_BATCH_OPS, live: options.live !== false,
  });
  if (openapi) router.use(openApiRoutes(openapi));

  const endpointFor: RequestContext["endpointFor"] = (entity) => registry.endpointFor(dataSource.getMetadata(entity)) as never;
  const contextFor = (req: Request, res: Response, route: Route) => buildContext(req, res, route, {
    dataSource, commands: new ResponseCommands(options.allowScriptCommands === true), endpointFor,
  }, authRuntime.isStaff);
  const live = options.live === false ? undefined : createLive(dataSource, registry, {
    redisUrl: options.session.redisUrl, ...options.live,
  }, (error) => console.error("ajax-endpoints: change feed", error), contextFor);
  if (live) router.get(live.path, ...sessionChain, live.handler);

  // Every other path: resolve it first, so that unknown routes cost no session lookup.
  router.use((req: Request, res: Response, next: NextFunction) => {
    const route: Route | undefined = req.path === BATCH_PATH ? { kind: "batch" } : resolveRoute(registry, req.path);
    if (!route) return next(new AJAXError(404, Messages.notFound));
    if (req.method !== "POST") return next(new AJAXError(405, Messages.methodNotAllowed, { headers: { Allow: "POST" } }));
    req.ajaxRoute = route;
    next();
  });
  // The gate comes before the body wherever it can: a wrong header token is refused before a
  // byte of the body is read, and a file is written only after the token (header, or a form
  // field sent before the file) and the endpoint's authenticate have passed.
  // Model ops only read the session: they take the lean reader; every other route the full chain.
  const readSession = sessionReader({
    cookieName: options.session.cookieName ?? DEFAULT_SESSION_COOKIE, secrets,
    store: sessions.store, userOf: (pk) => auth.sessionUser(pk),
    sessionWithUser: sessions.store instanceof DatabaseSessionStore ? (sid) => auth.sessionWithUser(sessions.store as DatabaseSessionStore, sid) : undefined,
  });
  const fullSession = [sessionMiddleware, ...auth.middleware];
  const parseBody = bodyParser(limits, uploadGate(csrf, limits));
  router.use(csrf.attach, (req: Request, res: Response, next: NextFunction) => runAll(fullSession, req, res, next), csrf.beforeBody, parseBody, csrf.guard);
  router.use((req: Request, res: Response, next: NextFunction) => {
    const route = req.ajaxRoute!;
    if (route.kind === "auth" && route.op === "login") return runAll(auth.loginLimiter, req, res, next);
    next();
  });
  const types = options.types ?? new WireTypes();
  const runBatch = options.batch === false ? undefined : batchRunner(registry, options.batch);
  const dispatchRoute = async (req: Request, res: Response) => {
    const route = req.ajaxRoute!;
    const ctx = contextFor(req, res, route);
    const loggingOut = route.kind === "auth" && route.op === "logout" ? req.sessionID : undefined;
    await dispatch(route, ctx, { auth, toError, hooks: options.hooks, types, runBatch, committed: live?.committed });
    // A logged-out session's feeds end here and now, not at their next reconnect.
    if (loggingOut && live && res.statusCode === 200) live.feed.closeSession(loggingOut);
  };
  router.use(dispatchRoute);
  // Model ops only read the session: the lean reader instead of express-session and passport.
  modelChain.push(csrf.attach, readSession, csrf.beforeBody, parseBody, csrf.guard, dispatchRoute);
  router.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const failure = toError(error);
    if (failure.code >= 500 && failure.code !== 503) report(error, req);
    sendError(req, res, failure);
  });

  const close = async () => {
    await live?.feed.close();
    await sessions.close();
  };
  return { router, session: sessionChain, registry, close, openapi, live: live?.feed };
}

/**
 * Failed-login counters in the Redis that holds the sessions, so that every process counts
 * together; their keys sit under the sessions' prefix (`ajax:sess:login:user:...`).
 */
function redisLimiterStores(redis: RedisCommands, keyPrefix: string): (prefix: string) => RateLimitRedisStore {
  const { RedisStore } = requireOptional<{ RedisStore: typeof RateLimitRedisStore }>("rate-limit-redis", "Login limits shared through Redis");
  return (prefix) => new RedisStore({ prefix: `${keyPrefix}${prefix}`, sendCommand: (...args: string[]) => redis.sendCommand(args) as never });
}

/** Which routes take files, and the gate an upload passes before its first file is written. */
function uploadGate(csrf: CsrfProtection, limits: BodyLimits): BodyRouteRules {
  return {
    filesFor(req: Request): FileLimits | undefined {
      const route = req.ajaxRoute;
      const files = route?.kind === "adhoc" ? route.endpoint.options.files : undefined;
      if (!files) return undefined;
      return { count: (files === true ? undefined : files.count) ?? limits.files, bytes: (files === true ? undefined : files.bytes) ?? limits.fileBytes };
    },
    async beforeFirstFile(req, _res, fields) {
      csrf.verifyFields(req, fields);
      const route = req.ajaxRoute;
      if (route?.kind === "adhoc") refuseAnonymousCaller(route.endpoint, req.user);
    },
  };
}

/**
 * Runs middleware in order, stopping at the first that does not call `next()` plainly; an
 * error, thrown or a rejected promise of an async handler, goes to `done` as Express would pass it on.
 */
function runAll(handlers: RequestHandler[], req: Request, res: Response, done: NextFunction): void {
  let index = 0;
  const step = (error?: unknown) => {
    if (error || index >= handlers.length) return done(error);
    try {
      const result = handlers[index++]!(req, res, step) as unknown;
      if (result instanceof Promise) result.catch((rejected: unknown) => done(rejected ?? new Error("a request handler's promise was rejected without a reason")));
    } catch (thrown) {
      done(thrown);
    }
  };
  step();
}

/** Routes of model ops: a model, a record, a feature's op. */
function isModelRoute(route: Route): boolean {
  return route.kind === "model" || route.kind === "record" || route.kind === "feature";
}

function sessionHandler(options: SessionOptions, store: Store): RequestHandler {
  const middleware = session({
    name: options.cookieName ?? DEFAULT_SESSION_COOKIE,
    secret: options.secret,
    store,
    resave: false,
    saveUninitialized: false,
    rolling: false,
    cookie: {
      httpOnly: true,
      sameSite: "lax",
      secure: options.secureCookies ?? "auto",
      maxAge: options.maxAgeMs ?? 14 * 24 * 60 * 60 * 1000,
    },
  });
  // express-session passes a request on without any session while its store says it is
  // disconnected; that is the session store being unavailable, not a crash further on.
  return (req, res, next) => middleware(req, res, (error?: unknown) => {
    if (error) return next(error);
    if (!req.session) return next(new AJAXError(503, Messages.unavailable, { headers: { "Retry-After": "1" } }));
    next();
  });
}
