import type { Request, RequestHandler, Response } from "express";
import type { Store } from "express-session";
import type { DataSource } from "typeorm";
import { gateOf } from "../db/gate";
import { sendJson } from "../envelope";
import { Messages } from "../errors";

/** What one check found: never the error's text, which could name hosts or users. */
export type HealthState = "ok" | "down";

/** The checks of `GET <mount>/health.json`. */
export interface HealthChecks {
  database: HealthState;
  /** Present when sessions are kept in Redis. */
  redis?: HealthState;
}

/** A check that does not answer within this long counts as down: a load balancer must not wait on it. */
export const HEALTH_CHECK_TIMEOUT_MS = 2000;

interface RedisLike {
  ping(): Promise<unknown>;
}

/** The Redis client of a connect-redis store, if the session store is one. */
function redisClientOf(store: Store | undefined): RedisLike | undefined {
  const client = (store as { client?: Partial<RedisLike> } | undefined)?.client;
  return typeof client?.ping === "function" ? (client as RedisLike) : undefined;
}

async function probe(check: () => Promise<unknown>): Promise<HealthState> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error("timeout")), HEALTH_CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([check(), timeout]);
    return "ok";
  } catch {
    return "down";
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `GET <mount>/health.json`: whether the database (and Redis, when sessions live there)
 * answers. `200` with `{"success": true, "data": {"status": "ok", "checks": {...}}}`, or `503`
 * with the error envelope and the same `checks`. No session, no CSRF, nothing written.
 */
export function healthRoute(dataSource: DataSource, sessionStore?: Store): RequestHandler {
  const redis = redisClientOf(sessionStore);
  return async (_req: Request, res: Response) => {
    const [database, redisState] = await Promise.all([
      probe(() => (dataSource.isInitialized ? gateOf(dataSource).read((manager) => manager.query("SELECT 1")) : Promise.reject(new Error("closed")))),
      redis ? probe(() => redis.ping()) : Promise.resolve(undefined),
    ]);
    const checks: HealthChecks = redisState ? { database, redis: redisState } : { database };
    if (Object.values(checks).every((state) => state === "ok")) {
      sendJson(res, 200, { success: true, data: { status: "ok", checks } });
    } else {
      res.setHeader("Retry-After", "5");
      sendJson(res, 503, { success: false, data: { code: 503, message: Messages.unavailable, checks } });
    }
  };
}
