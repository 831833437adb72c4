import { join } from "node:path";
import express, { type Express } from "express";
import type { DataSource } from "typeorm";
import { createAjax, hashPassword, pageSecurityHeaders, requestLog, type Ajax, type AjaxOptions } from "./src";
import { User } from "./entities";
import blog from "./endpoints/blog";

/** Settings of the example app. */
export interface BlogAppOptions {
  /** Signs session cookies; every server of one site needs the same one. */
  sessionSecret?: string;
  /** Keep sessions in Redis instead of the database. */
  redisUrl?: string;
  debug?: boolean;
  /** Log one line per request at this pino level (`info`, `warn`, ...); unset or `silent`: no request log. */
  logLevel?: string;
  /** Overrides of the router's options (limits, login limits, ...). */
  ajax?: Partial<AjaxOptions>;
  /**
   * Which proxies to believe about the client's address and scheme (Express's `trust proxy`):
   * default `TRUST_PROXY` from the environment, and off when that is unset. See {@link parseTrustProxy}.
   */
  trustProxy?: string;
}

/**
 * Express's `trust proxy` from a setting: unset, empty, `false` or `0` is off (the client's
 * own address counts, and `X-Forwarded-*` is ignored); `true` trusts every hop; a whole number
 * trusts that many hops; anything else is Express's list of addresses, subnets or names
 * (`loopback`, `10.0.0.0/8`). Off by default: a header any client can send must never pick the
 * login limiter's bucket.
 */
export function parseTrustProxy(value: string | undefined): boolean | number | string {
  const setting = (value ?? "").trim();
  if (setting === "" || setting === "false" || setting === "0") return false;
  if (setting === "true") return true;
  if (/^\d+$/.test(setting)) return Number(setting);
  return setting;
}

/** The development secret, used only when none is configured. */
const DEVELOPMENT_SECRET = "ajax-endpoints demo secret: set SESSION_SECRET in production";

/** Builds the example blog: the demo page at `/` and the endpoints at `/ajax`. */
export function createBlogApp(dataSource: DataSource, options: BlogAppOptions = {}): { app: Express; ajax: Ajax } {
  const ajax = createAjax({
    dataSource,
    apps: [blog],
    auth: { userEntity: User },
    session: { secret: options.sessionSecret ?? DEVELOPMENT_SECRET, redisUrl: options.redisUrl },
    debug: options.debug,
    openapi: { license: { name: "MIT", identifier: "MIT" } },
    ...options.ajax,
  });
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", parseTrustProxy(options.trustProxy ?? process.env.TRUST_PROXY));
  if (options.logLevel && options.logLevel !== "silent") app.use(requestLog({ level: options.logLevel }));
  app.use("/ajax", ajax.router);
  // The demo page: no inline script, and no other site may frame it (clickjacking its buttons).
  app.use(pageSecurityHeaders());
  const root = join(__dirname, "..");
  app.use("/vendor/jquery", express.static(join(root, "node_modules", "jquery", "dist"), { index: false }));
  app.use(express.static(join(root, "public"), { index: "index.html" }));
  return { app, ajax };
}

/** The two demo users, created when there are no users at all. */
export const DEMO_USERS = [
  { username: "alice", password: "alice-password", isStaff: true, email: "alice@example.com" },
  { username: "bob", password: "bob-password", isStaff: false, email: "bob@example.com" },
] as const;

/** Creates alice (staff) and bob if the user table is empty. */
export async function seedDemoUsers(dataSource: DataSource): Promise<void> {
  const users = dataSource.getRepository(User);
  if ((await users.count()) > 0) return;
  for (const user of DEMO_USERS) {
    await users.insert({ username: user.username, passwordHash: await hashPassword(user.password), isStaff: user.isStaff, email: user.email });
  }
}
