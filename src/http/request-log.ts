import type { IncomingMessage, ServerResponse } from "node:http";
import type { RequestHandler } from "express";
import { requireOptional } from "../optional";

/** Settings of {@link requestLog}. */
export interface RequestLogOptions {
  /** pino level: `info` logs every request, `warn` only 4xx and 5xx answers, `silent` nothing. Default `info`. */
  level?: string;
  /** The id to log for a logged-in user (default: its `id`). */
  userId?(user: unknown): unknown;
  /** Where the lines go (default: standard output, one JSON object a line). */
  destination?: NodeJS.WritableStream;
}

type PinoHttp = typeof import("pino-http");

/** The path without the query string: a query could carry a token. */
function pathOf(req: IncomingMessage & { originalUrl?: string }): string {
  const url = req.originalUrl ?? req.url ?? "";
  const query = url.indexOf("?");
  return query < 0 ? url : url.slice(0, query);
}

/**
 * One line per request through pino-http (an optional peer dependency: `npm install pino-http`):
 * method, path, status, time in milliseconds and the logged-in user's id. Never a body, a
 * header, a cookie or the query string. Mount it before the router: `app.use(requestLog())`.
 */
export function requestLog(options: RequestLogOptions = {}): RequestHandler {
  const { pinoHttp } = requireOptional<PinoHttp>("pino-http", "requestLog()");
  const userId = options.userId ?? ((user: unknown) => (user as { id?: unknown }).id);
  const lineOf = (req: IncomingMessage & { user?: unknown }, res: ServerResponse, ms: number | undefined) => ({
    method: req.method,
    path: pathOf(req),
    status: res.statusCode,
    ms,
    ...(req.user ? { userId: userId(req.user) } : {}),
  });
  const logger = pinoHttp({
    level: options.level ?? "info",
    // No request/response objects in the line at all; only the fields below.
    serializers: { req: () => undefined, res: () => undefined, err: (error: Error) => ({ type: error.name }) },
    customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? "error" : res.statusCode >= 400 ? "warn" : "info"),
    customSuccessMessage: (req, res) => `${req.method} ${pathOf(req)} ${res.statusCode}`,
    customErrorMessage: (req, res) => `${req.method} ${pathOf(req)} ${res.statusCode}`,
    // The line's fields are picked once the response is finished (customProps would also run at the start).
    customSuccessObject: (req, res, value: { responseTime?: number }) => lineOf(req, res, value.responseTime),
    customErrorObject: (req, res, _error, value: { responseTime?: number }) => lineOf(req, res, value.responseTime),
  }, options.destination as never);
  return logger as unknown as RequestHandler;
}
