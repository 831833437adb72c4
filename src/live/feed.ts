import { randomBytes } from "node:crypto";
import type { RequestContext } from "../context";
import { queryTemplates } from "../db/compiled";
import { throughGate } from "../db/gate";
import { parsePkSegment } from "../model/coerce";
import type { ModelEndpoint } from "../model/endpoint";
import { encodeRecords } from "../model/hydrate";
import { applyFilters, type ListQuery } from "../model/list";
import { loadRecord } from "../model/ops";
import type { Registry } from "../registry";
import type { ChangeBus, ChangeNote } from "./bus";
import type { Change } from "./changes";
import type { EventStream } from "./stream";

/** Limits of the change feed. */
export interface LiveLimits {
  /** Open feeds one session may hold (default 10); past it `429`. */
  maxPerSession: number;
  /** Events kept for `Last-Event-ID` resumes (default 1000); an older id gets one `resync`. */
  replay: number;
  /** Comment lines this often keep proxies from closing an idle stream (default 15 s). */
  heartbeatMs: number;
  /** Unsent bytes a reader may fall behind by before it is cut off (default 1 MiB). */
  maxBufferBytes: number;
  /** A stream ends after this long (default 30 min); the browser reconnects and is checked again. */
  maxLifetimeMs: number;
}

export const DEFAULT_LIVE_LIMITS: LiveLimits = {
  maxPerSession: 10, replay: 1000, heartbeatMs: 15_000, maxBufferBytes: 1024 * 1024, maxLifetimeMs: 30 * 60 * 1000,
};

/** One open feed: who asked (their context, for the row scope, `canGet` and the field rules) and for what. */
export interface Subscriber {
  endpoint: ModelEndpoint;
  /** The entity: a change made through any endpoint of it reaches the subscribers of every endpoint of it. */
  key: Function | string;
  stream: EventStream;
  ctx: RequestContext;
  /** Subscribers with the same key see the same records (same user). */
  userKey: string;
  /** The list filters, and a key that is equal for equal filters. */
  query: ListQuery;
  filterKey: string;
  /**
   * Whether each record this feed was told about is in its view, as of its last event: a record
   * known to be out of view is not announced as `deleted` again (nor ever, when the feed saw it
   * created out of view). Bounded; a forgotten record counts as unknown.
   */
  inView: Map<string, boolean>;
}

/** Records a feed remembers the view of (see {@link Subscriber.inView}). */
const IN_VIEW_MEMORY = 5000;

function remember(subscriber: Subscriber, pk: string, inView: boolean): void {
  subscriber.inView.delete(pk);
  subscriber.inView.set(pk, inView);
  if (subscriber.inView.size > IN_VIEW_MEMORY) subscriber.inView.delete(subscriber.inView.keys().next().value!);
}

function groupBy<T>(items: Iterable<T>, keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}

/**
 * The change feed of one router: the subscribers of this server, the replay window, and the
 * work of turning a change note into each subscriber's event. Notes are handled one at a time,
 * in arrival order, so every subscriber sees events in one order and a resume never overlaps
 * live events. The cost of a note is one read (record, hydration) per group of subscribers
 * with the same user, plus one filter check per distinct filter, never one per subscriber.
 */
export class LiveFeed {
  private readonly subscribers = new Map<Function | string, Set<Subscriber>>();
  private readonly log: ChangeNote[] = [];
  private readonly logged = new Set<string>();
  private queue: Promise<void> = Promise.resolve();
  private publishing: Promise<void> = Promise.resolve();
  private sequence = 0;
  private readonly serverTag = randomBytes(4).toString("hex");
  private readonly heartbeat: NodeJS.Timeout;
  readonly ready: Promise<void>;
  private listening = false;

  constructor(
    private readonly registry: Registry, readonly bus: ChangeBus, readonly limits: LiveLimits,
    private readonly report: (error: unknown) => void,
  ) {
    this.ready = bus.start((note) => this.enqueue(() => this.receive(note)), () => this.enqueue(async () => this.resyncAll()));
    this.ready.then(() => { this.listening = true; }, report);
    this.heartbeat = setInterval(() => this.beat(), limits.heartbeatMs);
    this.heartbeat.unref();
  }

  /** Whether the bus listens, waiting at most `ms` for it. */
  async readyWithin(ms: number): Promise<boolean> {
    if (this.listening) return true;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), ms); });
    const ready = this.ready.then(() => true, () => false);
    try {
      return await Promise.race([ready, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Ends the open feeds of a session that has just logged out, on this server: its user's view
   * must not outlive the login. (Feeds on other servers end at their next reconnect, which
   * `maxLifetimeMs` bounds, when the session is checked again.)
   */
  closeSession(sessionId: string): number {
    let closed = 0;
    for (const set of this.subscribers.values()) {
      for (const subscriber of set) {
        if (subscriber.ctx.req.sessionID !== sessionId) continue;
        subscriber.stream.end();
        closed++;
      }
    }
    return closed;
  }

  /** How many feeds are open on this server. */
  get size(): number {
    let count = 0;
    for (const set of this.subscribers.values()) count += set.size;
    return count;
  }

  /** Publishes a committed change to every server. Never throws: a lost note is reported, not the request's failure. */
  publish(change: Change): void {
    const id = `${Date.now().toString(36)}-${this.serverTag}-${(this.sequence++).toString(36)}`;
    const note: ChangeNote = { app: change.app, model: change.model, pk: change.pk, op: change.op, id };
    // One at a time, so that the notes of one server (a batch's) arrive in the order they were committed.
    this.publishing = this.publishing.then(() => this.bus.publish(note)).catch(this.report);
  }

  /**
   * Starts a subscriber: first the events after `lastEventId` that are still in the window
   * (or one `resync`), then live ones. Runs in the queue, so nothing falls between the two.
   */
  subscribe(subscriber: Subscriber, lastEventId: string | undefined): void {
    this.enqueue(async () => {
      if (subscriber.stream.closed) return;
      if (lastEventId) {
        const index = this.log.findIndex((note) => note.id === lastEventId);
        if (index < 0) subscriber.stream.event(this.log.at(-1)?.id ?? "", "resync", "{}");
        else for (const note of this.log.slice(index + 1)) {
          if (this.entityOf(note) === subscriber.key) await this.deliver(note, [subscriber]);
        }
      }
      let set = this.subscribers.get(subscriber.key);
      if (!set) this.subscribers.set(subscriber.key, set = new Set());
      set.add(subscriber);
      subscriber.stream.comment("ready");
    });
  }

  unsubscribe(subscriber: Subscriber): void {
    const set = this.subscribers.get(subscriber.key);
    set?.delete(subscriber);
    if (set?.size === 0) this.subscribers.delete(subscriber.key);
  }

  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    for (const set of this.subscribers.values()) for (const subscriber of set) subscriber.stream.end();
    this.subscribers.clear();
    await this.bus.close();
  }

  private enqueue(work: () => Promise<void>): void {
    this.queue = this.queue.then(work).catch(this.report);
  }

  private async receive(note: ChangeNote): Promise<void> {
    if (this.logged.has(note.id)) return;
    this.log.push(note);
    this.logged.add(note.id);
    while (this.log.length > this.limits.replay) this.logged.delete(this.log.shift()!.id);
    const entity = this.entityOf(note);
    const set = entity === undefined ? undefined : this.subscribers.get(entity);
    if (set && set.size > 0) await this.deliver(note, [...set]);
  }

  /** The entity a note is about, by the endpoint that wrote it (each server has the same registry). */
  private entityOf(note: ChangeNote): Function | string | undefined {
    return this.registry.model(note.app, note.model)?.metadata.target;
  }

  /** Notes may have been missed (the bus reconnected): every subscriber reloads. */
  private resyncAll(): void {
    const id = this.log.at(-1)?.id ?? "";
    for (const set of this.subscribers.values()) for (const subscriber of set) subscriber.stream.event(id, "resync", "{}");
  }

  private beat(): void {
    const now = Date.now();
    for (const set of this.subscribers.values()) {
      for (const subscriber of set) {
        if (now - subscriber.stream.openedAt > this.limits.maxLifetimeMs) subscriber.stream.end();
        else subscriber.stream.comment("heartbeat");
      }
    }
  }

  /** Sends a note to subscribers of its entity, each as `get` of their endpoint would answer them. */
  private async deliver(note: ChangeNote, subscribers: Subscriber[]): Promise<void> {
    for (const group of groupBy(subscribers, (subscriber) => `${subscriber.ctx.app}/${subscriber.ctx.name}`).values()) {
      await this.deliverThroughEndpoint(note, group);
    }
  }

  private async deliverThroughEndpoint(note: ChangeNote, subscribers: Subscriber[]): Promise<void> {
    const endpoint = subscribers[0]!.endpoint;
    const rule = endpoint.rules.pk;
    const pk = parsePkSegment(String(note.pk), rule.kind, rule.maxLength, rule.range);
    if (pk === undefined) return;
    const gone = JSON.stringify({ pk });
    if (note.op === "deleted") {
      for (const subscriber of subscribers) {
        if (subscriber.inView.get(String(pk)) !== false) subscriber.stream.event(note.id, "deleted", gone);
        subscriber.inView.delete(String(pk));
      }
      return;
    }
    for (const group of groupBy(subscribers, (subscriber) => subscriber.userKey).values()) {
      try {
        await this.deliverToUser(note, pk, gone, group);
      } catch (error) {
        // The database away, a hook that threw: these subscribers cannot know what changed.
        this.report(error);
        for (const subscriber of group) subscriber.stream.event(note.id, "resync", "{}");
      }
    }
  }

  private async deliverToUser(note: ChangeNote, pk: unknown, gone: string, group: Subscriber[]): Promise<void> {
    const endpoint = group[0]!.endpoint;
    const ctx: RequestContext = { ...group[0]!.ctx, op: "get", params: {} };
    await throughGate(ctx, "read", async () => {
      const record = await loadRecord(endpoint, pk, ctx);
      const visible = record !== undefined && (await endpoint.canGet(ctx.user, record, ctx));
      const data = visible ? JSON.stringify((await encodeRecords(endpoint, [record!], ctx))[0]) : undefined;
      for (const subscribers of groupBy(group, (subscriber) => subscriber.filterKey).values()) {
        const matches = data !== undefined && (subscribers[0]!.filterKey === "" || (await matchesFilters(endpoint, subscribers[0]!.query, pk, ctx)));
        for (const subscriber of subscribers) {
          if (matches) subscriber.stream.event(note.id, note.op, data!);
          // It may have been in this view before (unless the feed knows it was not): now it is not.
          else if (note.op === "updated" && subscriber.inView.get(String(pk)) !== false) subscriber.stream.event(note.id, "deleted", gone);
          remember(subscriber, String(pk), matches);
        }
      }
    });
  }
}

/** Whether the record passes a feed's list filters: one query that selects its pk or nothing. */
async function matchesFilters(endpoint: ModelEndpoint, query: ListQuery, pk: unknown, ctx: RequestContext): Promise<boolean> {
  const qb = ctx.manager.createQueryBuilder(endpoint.metadata.target, "item");
  const column = `${qb.escape("item")}.${qb.escape(endpoint.rules.pk.column.databaseName)}`;
  qb.select(column, "pk").where(`${column} = :livePk`, { livePk: pk });
  applyFilters(qb as never, endpoint, query);
  const rows = await queryTemplates(endpoint.runtime.dataSource).rawRows(qb.limit(1) as never, ctx.manager, "by-key");
  return rows.length > 0;
}
