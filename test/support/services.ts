import { randomBytes } from "node:crypto";
import { DataSource } from "typeorm";
import { createClient as createRedisClient } from "redis";
import { MARIADB_ADMIN_URL, POSTGRES_ADMIN_URL } from "./databases";

/** The servers some tests need besides SQLite. */
export type ServiceName = "postgres" | "mariadb" | "redis";

export const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/** How long a probe waits for an answer: a server that is up answers in milliseconds. */
const PROBE_TIMEOUT_MS = 3000;

/** What to start when a service is down, for the skip message. */
const WHERE: Record<ServiceName, string> = {
  postgres: `PostgreSQL at ${POSTGRES_ADMIN_URL} (TEST_POSTGRES_URL)`,
  mariadb: `MariaDB at ${MARIADB_ADMIN_URL} (TEST_MARIADB_URL)`,
  redis: `Redis at ${REDIS_URL} (TEST_REDIS_URL)`,
};

/** Connects to a service and runs one trivial command; returns why that failed, or null when it answered. */
export async function unreachableReason(service: ServiceName): Promise<string | null> {
  try {
    if (service === "postgres" || service === "mariadb") {
      const database = new DataSource(service === "postgres"
        ? { type: "postgres", url: POSTGRES_ADMIN_URL, connectTimeoutMS: PROBE_TIMEOUT_MS }
        : { type: "mysql", url: MARIADB_ADMIN_URL, connectTimeout: PROBE_TIMEOUT_MS });
      await database.initialize();
      try {
        await database.query("SELECT 1");
      } finally {
        await database.destroy();
      }
    } else {
      const client = createRedisClient({ url: REDIS_URL, socket: { connectTimeout: PROBE_TIMEOUT_MS, reconnectStrategy: false } });
      client.on("error", () => {});
      try {
        await client.connect();
        await client.ping();
      } finally {
        if (client.isOpen) await client.quit().catch(() => {});
      }
    }
    return null;
  } catch (error) {
    const message = error instanceof Error ? error.message || error.name : String(error);
    return `cannot reach ${WHERE[service]}: ${message}`;
  }
}

/**
 * For a suite that needs database servers: when one cannot be reached it fails under `CI=true`
 * (CI starts them, so a missing one is a broken run) and is skipped with the reason elsewhere
 * (a laptop without MariaDB).
 */
export async function requireServices(context: Mocha.Context, services: readonly ServiceName[]): Promise<void> {
  const reasons = (await Promise.all(services.map(unreachableReason))).filter((reason): reason is string => reason !== null);
  if (reasons.length === 0) return;
  if (process.env.CI === "true") throw new Error(`CI=true and ${reasons.join("; ")}`);
  console.log(`      skipped: ${reasons.join("; ")}`);
  context.skip();
}

/**
 * A Redis client for one suite and a key prefix of its own, so that suites sharing the Redis
 * of the machine never see each other's keys; `clear()` deletes the suite's keys and disconnects.
 */
export function suiteRedis(): { prefix: string; redis: ReturnType<typeof createRedisClient>; clear(): Promise<void> } {
  const prefix = `ajax-test:${randomBytes(4).toString("hex")}:`;
  const redis = createRedisClient({ url: REDIS_URL });
  return {
    prefix, redis,
    async clear() {
      if (!redis.isOpen) return;
      for (const key of await redis.keys(`${prefix}*`)) await redis.del(key);
      await redis.quit();
    },
  };
}
