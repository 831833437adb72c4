import { join } from "node:path";
import express, { type Express } from "express";
import type { DataSource } from "typeorm";
import { createAjax, hashPassword, requestLog, type Ajax, type AjaxOptions } from "./src";
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
  app.set("trust proxy", "loopback");
  if (options.logLevel && options.logLevel !== "silent") app.use(requestLog({ level: options.logLevel }));
  app.use("/ajax", ajax.router);
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
