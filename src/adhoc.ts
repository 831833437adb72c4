import type { Request } from "express";
import type { ObjectSchema, Schema } from "joi";
import { AJAXError, Messages } from "./errors";
import type { RequestContext } from "./context";

/**
 * The app's own types, declared once so that every handler knows them (as Hono's `Env` or
 * TanStack's `Register`):
 *
 * @example
 * declare module "ajax-endpoints" {
 *   interface AjaxTypes { user: User }
 * }
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface AjaxTypes {}

/** The logged-in user's type in handlers: `AjaxTypes["user"]`, or `unknown` until the app declares it. */
export type AppUser = AjaxTypes extends { user: infer U } ? U : unknown;

type IsAny<T> = 0 extends 1 & T ? true : false;

/**
 * The parameters' type from a joi object schema: `Joi.object<{ a: number }, true>({ a: Joi.number().required() })`
 * gives `{ a: number }` (joi checks the schema against the type); a schema without a type
 * argument gives `Record<string, unknown>`, never `any`.
 */
export type ParamsOf<P> = IsAny<P> extends true ? Record<string, unknown> : P;

/**
 * An ad-hoc endpoint's function: gets the request and a context, returns the response data
 * (or throws {@link AJAXError}). An async generator streams each value it yields.
 */
export type EndpointHandler<P = Record<string, unknown>, U = AppUser> = (req: Request, ctx: RequestContext<P, U>) => unknown;

/** How an ad-hoc endpoint is called. */
export interface EndpointOptions<P = any> {
  /** joi schema of the body; a mismatch is a `400` with `errors`, unknown keys included. */
  params?: ObjectSchema<P>;
  /**
   * joi schema of what the endpoint answers (`data`), for the OpenAPI document and the typed
   * client. It documents; responses are not validated against it.
   */
  returns?: Schema;
  /** The caller must be logged in (`401` otherwise). */
  loginRequired?: boolean;
  /** Run in one transaction; `ctx.manager` is the transaction's manager. */
  transaction?: boolean;
  /**
   * Takes files (multipart file parts, in `ctx.files`): `true` with the router's limits, or
   * its own `count` and `bytes`. Endpoints without it refuse any file part before it is read
   * (`415`), and even here a file is written to disk only after the CSRF token (header, or a
   * `csrf_token` field sent before the file) and `loginRequired` have passed. The OpenAPI
   * document offers such an endpoint a multipart body with files.
   */
  files?: true | { count?: number; bytes?: number };
}

/** An ad-hoc endpoint, ready to register with `app.endpoint(name, ...)`. */
export interface AdHocEndpoint<P = any, U = any> {
  readonly kind: "adhoc";
  readonly handler: EndpointHandler<P, U>;
  readonly options: Readonly<EndpointOptions>;
}

/**
 * Declares an ad-hoc endpoint with options. `ctx.params` has the type of the `params` schema
 * and `ctx.user` the app's user type ({@link AjaxTypes}).
 *
 * @example
 * endpoint({ params: Joi.object<{ a: number; b: number }, true>({ a: Joi.number().required(), b: Joi.number().required() }) },
 *   (req, ctx) => ctx.params.a + ctx.params.b)
 */
export function endpoint<P = Record<string, unknown>, U = AppUser>(
  options: EndpointOptions<P>, handler: EndpointHandler<ParamsOf<P>, U>,
): AdHocEndpoint<ParamsOf<P>, U> {
  return { kind: "adhoc", handler, options: { ...options } };
}

/** Accepts a bare function or a declared endpoint. */
export function toEndpoint(value: EndpointHandler<any, any> | AdHocEndpoint): AdHocEndpoint {
  return typeof value === "function" ? endpoint({}, value) : value;
}

/** django-ajax's `login_required`: the wrapped endpoint answers `401` to anonymous callers. */
export function loginRequired<P = Record<string, unknown>, U = AppUser>(value: EndpointHandler<P, U> | AdHocEndpoint<P, U>): AdHocEndpoint<P, U> {
  const declared = toEndpoint(value as EndpointHandler<any, any>);
  return { kind: "adhoc", handler: declared.handler, options: { ...declared.options, loginRequired: true } };
}

/** True for functions declared `async function*`: they stream. */
export function isAsyncGeneratorFunction(fn: unknown): boolean {
  return typeof fn === "function" && fn.constructor?.name === "AsyncGeneratorFunction";
}

/** `loginRequired` (django-ajax's `login_required`): an anonymous caller of such an endpoint gets `401`. */
export function refuseAnonymousCaller(endpoint: AdHocEndpoint, user: unknown): void {
  if (endpoint.options.loginRequired && !user) throw new AJAXError(401, Messages.unauthenticated);
}
