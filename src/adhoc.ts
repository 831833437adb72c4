import type { Request } from "express";
import type { ObjectSchema } from "joi";
import type { RequestContext } from "./context";

/**
 * An ad-hoc endpoint's function: gets the request and a context, returns the response data
 * (or throws {@link AJAXError}). An async generator streams each value it yields.
 */
export type EndpointHandler<P = any, U = any> = (req: Request, ctx: RequestContext<P, U>) => unknown;

/** How an ad-hoc endpoint is called. */
export interface EndpointOptions {
  /** joi schema of the body; a mismatch is a `400` with `errors`, unknown keys included. */
  params?: ObjectSchema;
  /** The caller must be logged in (`401` otherwise). */
  loginRequired?: boolean;
  /** Run in one transaction; `ctx.manager` is the transaction's manager. */
  transaction?: boolean;
  /**
   * Takes files (multipart file parts, in `ctx.files`): `true` with the router's limits, or
   * its own `count` and `bytes`. Endpoints without it refuse any file part before it is read
   * (`415`), and even here a file is written to disk only after the CSRF token (header, or a
   * `csrf_token` field sent before the file) and `loginRequired` have passed.
   */
  files?: true | { count?: number; bytes?: number };
}

/** An ad-hoc endpoint, ready to register with `app.endpoint(name, ...)`. */
export interface AdHocEndpoint<P = any, U = any> {
  readonly kind: "adhoc";
  readonly handler: EndpointHandler<P, U>;
  readonly options: Readonly<EndpointOptions>;
}

/** Declares an ad-hoc endpoint with options. */
export function endpoint<P = any, U = any>(options: EndpointOptions, handler: EndpointHandler<P, U>): AdHocEndpoint<P, U> {
  return { kind: "adhoc", handler, options: { ...options } };
}

/** Accepts a bare function or a declared endpoint. */
export function toEndpoint(value: EndpointHandler | AdHocEndpoint): AdHocEndpoint {
  return typeof value === "function" ? endpoint({}, value) : value;
}

/** django-ajax's `login_required`: the wrapped endpoint answers `401` to anonymous callers. */
export function loginRequired<P = any, U = any>(value: EndpointHandler<P, U> | AdHocEndpoint<P, U>): AdHocEndpoint<P, U> {
  const declared = toEndpoint(value as EndpointHandler);
  return { kind: "adhoc", handler: declared.handler, options: { ...declared.options, loginRequired: true } };
}

/** True for functions declared `async function*`: they stream. */
export function isAsyncGeneratorFunction(fn: unknown): boolean {
  return typeof fn === "function" && fn.constructor?.name === "AsyncGeneratorFunction";
}
