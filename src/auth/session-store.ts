import session, { type Store } from "express-session";
import { TypeormStore } from "connect-typeorm";
import type { RedisStore as ConnectRedisStore } from "connect-redis";
import type { createClient as CreateRedisClient } from "redis";
import type { DataSource, EntityTarget, ObjectLiteral } from "typeorm";
import type { ColumnMetadata } from "typeorm/metadata/ColumnMetadata";
import { queryTemplates } from "../db/compiled";
import { gateOf } from "../db/gate";
import { dialectOf, type Dialect } from "../model/dialect";
import type { RowReader } from "../model/rows";
import { requireOptional } from "../optional";
import { AjaxSession } from "./session-entity";

type Callback = (error?: unknown, value?: unknown) => void;

/**
 * connect-typeorm's store, adjusted in four places: a failed query is that request's error,
 * not a disconnected store (see the constructor); every query goes through the database
 * gate (on SQLite a session write must not land inside another request's transaction),
 * `destroy` waits for the delete (the upstream one does not, so a logged-out session could
 * still be read by the next request), and `touch` writes nothing: sessions expire at the
 * cookie's own expiry, set on every save, so a read request costs no write. And `get`, which
 * every request runs, is one bound statement prepared once (the upstream one builds an entity).
 */
export class DatabaseSessionStore extends TypeormStore {
  /** The SQL of {@link getWithUser}, built once with the query builder. */
  private withUserSql?: string;

  constructor(private readonly dataSource: DataSource) {
    // Without onError, the upstream store emits "disconnect" on a failed query, and
    // express-session then serves every later request without a session, for good: after a
    // database outage nobody could log in until a restart. The error reaches the callback anyway.
    super({ cleanupLimit: 2, limitSubquery: dialectOf(dataSource) !== "mysql", ttl: undefined, onError: () => {} });
    const gate = gateOf(dataSource);
    const repository = dataSource.getRepository(AjaxSession);
    this.connect(repository);
    const throughGate = <A extends unknown[]>(method: (...args: [...A, Callback]) => void) =>
      (...args: [...A, Callback | undefined]) => {
        const callback = args.pop() as Callback | undefined;
        void gate.read(() => new Promise<void>((resolve) => {
          method(...(args as unknown as A), (error?: unknown, value?: unknown) => {
            resolve();
            callback?.(error, value);
          });
        }));
      };
    // Every request reads its session: one bound statement, prepared once, no entity built.
    const templates = queryTemplates(dataSource);
    this.get = (sid: string, callback: Callback) => {
      gate.read(async (manager) => {
        const qb = manager.getRepository(AjaxSession).createQueryBuilder("session").select("session.json", "json")
          .where("session.id = :sid", { sid }).andWhere("session.expiredAt > :now", { now: Date.now() });
        const [row] = await templates.rawRows(qb, manager, "by-key");
        return row ? JSON.parse(String(row.json)) : undefined;
      }).then((session) => callback(undefined, session), (error: unknown) => callback(error));
    };
    this.set = throughGate(this.set.bind(this)) as typeof this.set;
    this.destroy = (sid: string | string[], callback?: Callback) => {
      const ids = Array.isArray(sid) ? sid : [sid];
      gate.read((manager) => manager.getRepository(AjaxSession).delete(ids))
        .then(() => callback?.(), (error: unknown) => callback?.(error));
    };
    this.touch = (_sid: string, _sess: unknown, callback?: Callback) => callback?.();
  }

  /**
   * A session and its user in one statement: the session row of `sid` (unexpired, not
   * destroyed) joined to the user whose pk its `passport.user` holds, with the user's columns
   * of `user.reader`. The user is the database's current row, so a change to it counts at once.
   */
  async getWithUser(sid: string, user: SessionUserQuery): Promise<{ session?: ObjectLiteral; user?: ObjectLiteral }> {
    const dataSource = this.dataSource;
    const rows = await gateOf(dataSource).read(async (manager) => {
      if (!this.withUserSql) {
        const qb = manager.getRepository(AjaxSession).createQueryBuilder("session").select("session.json", "session_json");
        const pointer = sessionUserPk(dialectOf(dataSource), `${qb.escape("session")}.${qb.escape("json")}`, dataSource.driver.normalizeType(user.pk));
        qb.leftJoin(dataSource.getMetadata(user.entity).target as never, "account", `${qb.escape("account")}.${qb.escape(user.pk.databaseName)} = ${pointer}`);
        user.reader.selectInto(qb as never, "account");
        qb.where("session.id = :sid").andWhere("session.expiredAt > :now");
        this.withUserSql = qb.getQuery();
      }
      return queryTemplates(dataSource).rowsOf(this.withUserSql, { sid, now: Date.now() }, manager, "by-key");
    });
    const row = rows[0];
    if (!row) return {};
    const session = JSON.parse(String(row.session_json)) as ObjectLiteral;
    const [found] = user.reader.decode(rows);
    return { session, user: found && user.reader.pkOf(found) !== null ? found : undefined };
  }
}


export interface SessionUserQuery {
  entity: EntityTarget<ObjectLiteral>;
  pk: ColumnMetadata;
  reader: RowReader;
}

/** SQL for the user pk in a session's JSON (`passport.user`), as the pk column's type. */
function sessionUserPk(dialect: Dialect, json: string, type: string): string {
  if (dialect === "postgres") return `CAST((${json})::jsonb #>> '{passport,user}' AS ${type})`;
  if (dialect === "mysql") return `JSON_VALUE(${json}, '$.passport.user')`;
  return `json_extract(${json}, '$.passport.user')`;
}

/** Where sessions are kept. */
export interface SessionStoreOptions {
  /** A store of your own (any express-session store). */
  store?: Store;
  /** Keep sessions in Redis (shared by several servers) at this URL, e.g. `redis://127.0.0.1:6379`. */
  redisUrl?: string;
  /** Key prefix in Redis (default `ajax:sess:`). */
  redisPrefix?: string;
  /** How often expired sessions are deleted from the database, in milliseconds (default 10 minutes). */
  purgeIntervalMs?: number;
}

/** What the login limiter needs of the Redis client it shares with the sessions. */
export interface RedisCommands {
  sendCommand(args: string[]): Promise<unknown>;
}

/** A session store, and the Redis client when sessions live in Redis (the login limiter shares it). */
export interface SessionStoreHandle {
  store: Store;
  redis?: RedisCommands;
  close(): Promise<void>;
}

/** How often expired sessions are deleted from the database (default: every 10 minutes). */
export const SESSION_PURGE_INTERVAL_MS = 10 * 60 * 1000;

/**
 * Deletes every expired session row: the store's own clean-up removes only two per save, so
 * without this the table only grows. Errors (the database away) wait for the next round.
 */
export async function purgeExpiredSessions(dataSource: DataSource): Promise<number> {
  const column = dataSource.driver.escape(dataSource.getMetadata(AjaxSession).findColumnWithPropertyName("expiredAt")!.databaseName);
  const result = await gateOf(dataSource).read((manager) => manager.createQueryBuilder().delete().from(AjaxSession)
    .where(`${column} <= :now`, { now: Date.now() }).execute());
  return result.affected ?? 0;
}

/** Builds the store: a given one, Redis when a URL is given, else the app's own database (purged on a schedule). */
export function createSessionStore(dataSource: DataSource, options: SessionStoreOptions): SessionStoreHandle {
  if (options.store) return { store: options.store, close: async () => {} };
  if (options.redisUrl) {
    // Optional packages: an app that keeps sessions in its database installs neither.
    const { createClient } = requireOptional<{ createClient: typeof CreateRedisClient }>("redis", "Sessions in Redis (session.redisUrl)");
    const { RedisStore } = requireOptional<{ RedisStore: typeof ConnectRedisStore }>("connect-redis", "Sessions in Redis (session.redisUrl)");
    const client = createClient({ url: options.redisUrl });
    client.on("error", () => { /* reconnects by itself; requests meanwhile fail as 503 */ });
    const connected = client.connect();
    connected.catch(() => {});
    const store = new RedisStore({ client, prefix: options.redisPrefix ?? "ajax:sess:", disableTouch: true });
    return {
      store, redis: client,
      // Never waits for a Redis that never answered: close() would not return.
      close: async () => { if (client.isReady) await client.quit().catch(() => {}); else client.destroy(); },
    };
  }
  const timer = setInterval(() => { purgeExpiredSessions(dataSource).catch(() => {}); }, options.purgeIntervalMs ?? SESSION_PURGE_INTERVAL_MS);
  // The schedule never keeps a process alive that has nothing else to do.
  timer.unref();
  return { store: new DatabaseSessionStore(dataSource), close: async () => clearInterval(timer) };
}

export { session };
