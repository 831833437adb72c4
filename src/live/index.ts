import type { Request, Response } from "express";
import type { DataSource } from "typeorm";
import type { RequestContext } from "../context";
import type { Route } from "../http/routes";
import type { Registry } from "../registry";
import { chooseBus } from "./bus";
import { changesOf } from "./changes";
import { DEFAULT_LIVE_LIMITS, LiveFeed, type LiveLimits } from "./feed";
import { eventsHandler, EVENTS_PATH } from "./route";

/** Settings of the change feed (`GET /<app>/<model>/events`). */
export interface LiveOptions extends Partial<LiveLimits> {
  /** Carry changes between servers over Redis pub/sub at this URL (default: the session store's Redis, if any). */
  redisUrl?: string;
  /** The Redis channel or PostgreSQL `NOTIFY` channel (default `ajax_live`). */
  channel?: string;
}

export { LiveFeed, DEFAULT_LIVE_LIMITS, type LiveLimits } from "./feed";
export type { ChangeNote, ChangeBus } from "./bus";
export type { Change } from "./changes";
export { relayLiveNotes } from "./cluster";

/** The feed of a router, its route handler, and the hook that publishes what each call committed. */
export function createLive(
  dataSource: DataSource, registry: Registry, options: LiveOptions, report: (error: unknown) => void,
  contextFor: (req: Request, res: Response, route: Route) => RequestContext,
) {
  const bus = chooseBus(dataSource, { redisUrl: options.redisUrl, channel: options.channel });
  const limits: LiveLimits = { ...DEFAULT_LIVE_LIMITS };
  for (const key of Object.keys(DEFAULT_LIVE_LIMITS) as Array<keyof LiveLimits>) if (options[key] !== undefined) limits[key] = options[key]!;
  const feed = new LiveFeed(registry, bus, limits, report);
  return {
    feed,
    path: EVENTS_PATH,
    handler: eventsHandler(feed, registry, contextFor),
    committed(route: Route, ctx: RequestContext, data: unknown): void {
      for (const change of changesOf(route, data)) feed.publish(change);
    },
  };
}
