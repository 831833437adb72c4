import type { createClient as CreateRedisClient } from "redis";
import { requireOptional } from "../optional";
import type { DataSource } from "typeorm";
import { dialectOf } from "../model/dialect";
import { ClusterBus, inClusterWorker } from "./cluster";

/** The part of node-postgres's `Client` the bus uses (pg ships no types here). */
interface PgClient {
  on(event: "notification", listener: (message: { channel: string; payload?: string }) => void): void;
  on(event: "error" | "end", listener: (error?: unknown) => void): void;
  connect(): Promise<void>;
  query(sql: string): Promise<unknown>;
  end(): Promise<void>;
}
type ClientConfig = Record<string, unknown>;

/** What travels between servers about one committed change: never a field of the record. */
export interface ChangeNote {
  app: string;
  model: string;
  pk: string | number;
  op: "created" | "updated" | "deleted";
  /** The event id subscribers resume from (`Last-Event-ID`). */
  id: string;
}

/** Carries change notes to every server of the site, this one included. */
export interface ChangeBus {
  readonly kind: "memory" | "cluster" | "postgres" | "redis";
  /** Starts listening; `receive` gets every note (its own too), `lost` is told when notes may have been missed. */
  start(receive: (note: ChangeNote) => void, lost: () => void): Promise<void>;
  publish(note: ChangeNote): Promise<void>;
  close(): Promise<void>;
}

const NOTE_KEYS = ["app", "model", "pk", "op", "id"];

/** A note read off the wire, or undefined when it is not one (another publisher on the channel). */
export function parseNote(text: string): ChangeNote | undefined {
  try {
    return toNote(JSON.parse(text));
  } catch {
    return undefined;
  }
}

/** A parsed value as a change note, or undefined when it is not exactly one (the cluster relay hands over values, not text). */
export function toNote(value: unknown): ChangeNote | undefined {
  const note = value as ChangeNote;
  if (note === null || typeof note !== "object" || Object.keys(note).some((key) => !NOTE_KEYS.includes(key))) return undefined;
  if (typeof note.app !== "string" || typeof note.model !== "string" || typeof note.id !== "string") return undefined;
  if (typeof note.pk !== "string" && typeof note.pk !== "number") return undefined;
  return ["created", "updated", "deleted"].includes(note.op) ? note : undefined;
}

/** One server alone (SQLite): notes go straight back to this process. */
export class MemoryBus implements ChangeBus {
  readonly kind = "memory";
  private receive?: (note: ChangeNote) => void;
  async start(receive: (note: ChangeNote) => void): Promise<void> {
    this.receive = receive;
  }
  async publish(note: ChangeNote): Promise<void> {
    queueMicrotask(() => this.receive?.(note));
  }
  async close(): Promise<void> {
    this.receive = undefined;
  }
}

/**
 * PostgreSQL `LISTEN/NOTIFY` on a connection of its own (not one of the pool's, which it
 * would hold for good). A lost connection is reopened, and then subscribers are told to resync.
 */
export class PostgresBus implements ChangeBus {
  readonly kind = "postgres";
  private client?: PgClient;
  private closed = false;
  private retry?: NodeJS.Timeout;

  constructor(private readonly dataSource: DataSource, private readonly channel: string) {}

  private config(): ClientConfig {
    const pool = (this.dataSource.driver as unknown as { master: { options: ClientConfig } }).master;
    return { ...pool.options };
  }

  async start(receive: (note: ChangeNote) => void, lost: () => void): Promise<void> {
    const connect = async (): Promise<void> => {
      // Loaded here: an app on another database installs no pg.
      const { Client } = requireOptional<{ Client: new (config: ClientConfig) => PgClient }>("pg", "The change feed over PostgreSQL");
      const client = new Client(this.config());
      client.on("notification", (message) => {
        const note = message.channel === this.channel && message.payload ? parseNote(message.payload) : undefined;
        if (note) receive(note);
      });
      client.on("error", () => {});
      client.on("end", () => {
        if (this.closed || this.client !== client) return;
        this.client = undefined;
        reconnectLater();
      });
      await client.connect();
      await client.query(`LISTEN "${this.channel}"`);
      if (this.closed) return void (await client.end().catch(() => {}));
      this.client = client;
    };
    // Subscribers are told to resync once it listens again: that covers what was sent meanwhile.
    const reconnectLater = () => {
      if (this.closed) return;
      this.retry = setTimeout(() => { connect().then(lost, reconnectLater); }, 500);
    };
    // A database that is away at start-up is waited for, as after a lost connection.
    await connect().catch(reconnectLater);
  }

  async publish(note: ChangeNote): Promise<void> {
    await this.dataSource.query("SELECT pg_notify($1, $2)", [this.channel, JSON.stringify(note)]);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    await this.client?.end().catch(() => {});
    this.client = undefined;
  }
}

/** Redis pub/sub: a publishing client and a subscribing one (a subscribed connection runs no other command). */
export class RedisBus implements ChangeBus {
  readonly kind = "redis";
  private readonly publisher: ReturnType<typeof CreateRedisClient>;
  private subscriber?: ReturnType<typeof CreateRedisClient>;
  private closed = false;

  constructor(url: string, private readonly channel: string) {
    // While Redis is away a publish fails at once (its note is lost; subscribers resync when the
    // subscription comes back) instead of queueing without limit.
    const { createClient } = requireOptional<{ createClient: typeof CreateRedisClient }>("redis", "The change feed over Redis");
    this.publisher = createClient({ url, disableOfflineQueue: true });
    this.publisher.on("error", () => { /* reconnects by itself */ });
  }

  async start(receive: (note: ChangeNote) => void, lost: () => void): Promise<void> {
    const subscriber = this.publisher.duplicate();
    this.subscriber = subscriber;
    subscriber.on("error", () => {});
    // After a reconnect the client subscribes again by itself; what was published meanwhile is gone.
    let ready = false;
    subscriber.on("ready", () => {
      if (ready) lost();
      ready = true;
    });
    // Redis away at start-up is waited for (the feed answers 503 meanwhile), not a feed that never starts.
    for (let attempt = 0; ; attempt++) {
      try {
        if (!this.publisher.isOpen) await this.publisher.connect();
        if (!subscriber.isOpen) await subscriber.connect();
        break;
      } catch {
        if (this.closed) return;
        await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 250 * 2 ** attempt)));
      }
    }
    if (this.closed) return;
    await subscriber.subscribe(this.channel, (message) => {
      const note = parseNote(message);
      if (note) receive(note);
    });
  }

  async publish(note: ChangeNote): Promise<void> {
    await this.publisher.publish(this.channel, JSON.stringify(note));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const client of [this.subscriber, this.publisher]) {
      // A client still trying to reach Redis would wait for it to close gracefully: it is cut off.
      if (client?.isReady) await client.close().catch(() => {});
      else if (client?.isOpen) client.destroy();
    }
  }
}

/**
 * Redis when a URL is given, else PostgreSQL's LISTEN/NOTIFY on PostgreSQL, else the workers of
 * this Node cluster (through its primary), else this process alone.
 */
export function chooseBus(dataSource: DataSource, options: { redisUrl?: string; channel?: string }): ChangeBus {
  const channel = options.channel ?? "ajax_live";
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(channel)) throw new Error(`ajax-endpoints: live channel "${channel}" must be a lowercase SQL identifier`);
  if (options.redisUrl) return new RedisBus(options.redisUrl, channel);
  if (dialectOf(dataSource) === "postgres") return new PostgresBus(dataSource, channel);
  if (inClusterWorker()) return new ClusterBus();
  return new MemoryBus();
}
