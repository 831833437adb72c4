import type { NextFunction, Request, RequestHandler, Response } from "express";
import { csrfGuard } from "../auth/csrf";
import { sendError, sendSuccess, toAJAXError } from "../envelope";
import { AJAXError, Messages, type FieldErrors } from "../errors";

/** Options of {@link ajax}, django-ajaxutils' `@ajax(login_required=..., require_POST=...)`. */
export interface AjaxViewOptions {
  /** Anonymous callers get `401` with `WWW-Authenticate` (needs `ajax.session` before the handler). */
  loginRequired?: boolean;
  /** The methods the route answers (`["POST"]`); others get `405` with `Allow`. `GET` allows `HEAD`. Default: any. */
  methods?: readonly string[];
  /**
   * Unsafe methods (anything but GET, HEAD, OPTIONS) need the session's CSRF token in
   * `X-CSRFToken`, as under the router. Default true; turn off only for routes that do not
   * authenticate by cookie.
   */
  csrf?: boolean;
  /** Put crash details in `500` responses. Never in production. */
  debug?: boolean;
  /** Told about every `500` (default: `console.error`). */
  onError?(error: unknown, req: Request): void;
}

/**
 * A wrapped route handler. It returns the response data, or `[data, status]`; it may throw
 * {@link AJAXError}. If it writes the response itself, its return value is ignored.
 */
export type AjaxViewHandler = (req: Request, res: Response) => unknown;

const SAFE_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS"]);

/** `[data, status]` as django-ajaxutils views return it: exactly two items, the second an HTTP status. */
function asDataAndStatus(result: unknown): [unknown, number] {
  if (Array.isArray(result) && result.length === 2 && Number.isInteger(result[1]) && result[1] >= 200 && result[1] <= 599) {
    return [result[0], result[1] as number];
  }
  return [result, 200];
}

/** A `[data, status >= 400]` return: the data is the message, or `{message, errors}`. */
function errorFromTuple(data: unknown, status: number): AJAXError {
  if (typeof data === "string") return new AJAXError(status, data);
  const shaped = (data ?? {}) as { message?: unknown; errors?: unknown };
  const message = typeof shaped.message === "string" ? shaped.message : `HTTP ${status}`;
  const errors = shaped.errors !== null && typeof shaped.errors === "object" ? shaped.errors as FieldErrors : undefined;
  return new AJAXError(status, message, { errors });
}

/** Runs a middleware as a promise that settles with the error it passed to `next`, if any. */
function runMiddleware(middleware: RequestHandler, req: Request, res: Response): Promise<unknown> {
  return new Promise((resolve) => { middleware(req, res, resolve as NextFunction); });
}

/**
 * Makes any Express route a JSON view (django-ajaxutils' `@ajax`): the return value goes out in
 * the success envelope, a thrown {@link AJAXError} in the error envelope, a crash as a `500`
 * without details; `loginRequired` answers anonymous callers `401` with `WWW-Authenticate`,
 * `methods` answers others `405` with `Allow`. Works on any route, outside the `/ajax` mount
 * too; put `...ajax.session` (from {@link createAjax}) before it to have `req.user` and CSRF.
 *
 * @example
 * app.post("/tasks/:id/status.json", ...ajaxRouter.session, ajax({ loginRequired: true, methods: ["POST"] }, async (req) => {
 *   const task = await tasks.findOneBy({ id: Number(req.params.id) });
 *   if (!task) throw new AJAXError(404, "No such task.");
 *   return task.done ? { status: "completed" } : [{ status: "pending" }, 202];
 * }));
 */
export function ajax(handler: AjaxViewHandler): RequestHandler;
export function ajax(options: AjaxViewOptions, handler: AjaxViewHandler): RequestHandler;
export function ajax(first: AjaxViewOptions | AjaxViewHandler, second?: AjaxViewHandler): RequestHandler {
  const options: AjaxViewOptions = typeof first === "function" ? {} : first;
  const handler = typeof first === "function" ? first : second;
  if (typeof handler !== "function") throw new Error("ajax-endpoints: ajax() needs a handler function");
  const methods = options.methods?.map((method) => method.toUpperCase());
  if (methods?.includes("GET") && !methods.includes("HEAD")) methods.push("HEAD");
  const checkCsrf = options.csrf === false ? undefined : csrfGuard();
  const debug = options.debug === true;
  const report = options.onError ?? ((error: unknown) => console.error("ajax-endpoints: unhandled error", error));

  return async (req: Request, res: Response) => {
    try {
      if (methods && !methods.includes(req.method)) {
        throw new AJAXError(405, Messages.methodNotAllowed, { headers: { Allow: methods.join(", ") } });
      }
      if (options.loginRequired && !req.user) throw new AJAXError(401, Messages.unauthenticated);
      if (checkCsrf && !SAFE_METHODS.has(req.method)) {
        const refused = await runMiddleware(checkCsrf, req, res);
        if (refused) throw refused;
      }
      const result = await handler(req, res);
      if (res.headersSent) return;
      const [data, status] = asDataAndStatus(result);
      if (status >= 400) throw errorFromTuple(data, status);
      if (status === 204 || status === 304) {
        res.status(status).end();
        return;
      }
      sendSuccess(res, data, {}, status);
    } catch (error) {
      const failure = toAJAXError(error, debug);
      if (failure.code >= 500 && failure.code !== 503) report(error, req);
      sendError(req, res, failure);
    }
  };
}
