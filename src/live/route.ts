import type { NextFunction, Request, RequestHandler, Response } from "express";
import qs from "qs";
import type { RequestContext } from "../context";
import { throughGate } from "../db/gate";
import { AJAXError, Messages } from "../errors";
import type { Route } from "../http/routes";
import { parseListQuery } from "../model/list";
import { isValidName } from "../names";
import { refuseUnknownFields } from "../params";
import type { Registry } from "../registry";
import type { LiveFeed, Subscriber } from "./feed";
import { EventStream } from "./stream";

/** The path of a model's change feed below the mount. */
export const EVENTS_PATH = "/:app/:model/events";
const MAX_EVENT_ID_LENGTH = 200;
const RECONNECT_MS = 2000;
const READY_WAIT_MS = 2000;

/** The feed's query string: the list's `filter[...]` parameters and nothing else. */
function feedParams(req: Request): Record<string, unknown> {
  const url = req.originalUrl;
  const start = url.indexOf("?");
  const text = start < 0 ? "" : url.slice(start + 1);
  const params = qs.parse(text, { depth: 2, arrayLimit: 100, parameterLimit: 100, allowPrototypes: false }) as Record<string, unknown>;
  refuseUnknownFields(params, ["filter"]);
  return params;
}

/**
 * `GET /<app>/<model>/events`: the endpoint's `authenticate` and `canList`, the filters checked
 * as a list's are, a limit per session, then a Server-Sent Events stream that the feed fills.
 */
export function eventsHandler(
  feed: LiveFeed, registry: Registry, contextFor: (req: Request, res: Response, route: Route) => RequestContext,
): RequestHandler {
  const perSession = new Map<string, number>();
  return async (req: Request, res: Response, next: NextFunction) => {
    const app = String(req.params.app), model = String(req.params.model);
    const endpoint = isValidName(app) && isValidName(model) ? registry.model(app, model) : undefined;
    if (!endpoint || !endpoint.ops.includes("list")) return next(new AJAXError(404, Messages.notFound));
    const ctx = contextFor(req, res, { kind: "model", app, name: model, endpoint, op: "events" });
    await endpoint.authenticate(req, app, "events");
    if (!(await throughGate(ctx, "read", () => endpoint.canList(ctx.user, ctx)))) throw new AJAXError(403, Messages.forbidden);
    const query = parseListQuery(endpoint, feedParams(req), true);
    // An anonymous caller (an endpoint whose authenticate lets them in) has no saved session: counted by address.
    const sessionKey = ctx.user && req.sessionID ? `session:${req.sessionID}` : `ip:${req.ip}`;
    const openFeeds = () => {
      const open = perSession.get(sessionKey) ?? 0;
      if (open >= feed.limits.maxPerSession) {
        throw new AJAXError(429, `At most ${feed.limits.maxPerSession} open feeds per session.`, { headers: { "Retry-After": "5" } });
      }
      return open;
    };
    openFeeds();
    if (req.method === "HEAD") {
      res.status(200).setHeader("Content-Type", "text/event-stream; charset=utf-8");
      res.end();
      return;
    }
    // The bus not listening yet (Redis or PostgreSQL away at start-up): a quick 503, never a request that hangs.
    if (!(await feed.readyWithin(READY_WAIT_MS))) throw new AJAXError(503, Messages.unavailable, { headers: { "Retry-After": "1" } });
    // Counted again after the wait: feeds of one session opened at the same time all waited there.
    perSession.set(sessionKey, openFeeds() + 1);
    const subscriber: Subscriber = {
      endpoint, key: endpoint.metadata.target, ctx, query, inView: new Map(),
      stream: new EventStream(res, feed.limits.maxBufferBytes, () => {
        feed.unsubscribe(subscriber);
        const left = (perSession.get(sessionKey) ?? 1) - 1;
        if (left > 0) perSession.set(sessionKey, left);
        else perSession.delete(sessionKey);
      }),
      userKey: ctx.user ? `user:${String(endpoint.runtime.userPk(ctx.user))}` : "anonymous",
      filterKey: query.filters.length === 0 ? "" : JSON.stringify(query.filters.map(({ field, op, value }) => [field, op, value])),
    };
    subscriber.stream.open(RECONNECT_MS);
    const lastEventId = req.headers["last-event-id"];
    feed.subscribe(subscriber, typeof lastEventId === "string" ? lastEventId.slice(0, MAX_EVENT_ID_LENGTH) : undefined);
  };
}
