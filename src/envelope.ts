import type { Request, Response } from "express";
import { translateDatabaseError } from "./db-errors";
import { AJAXError, Messages, type FieldErrors } from "./errors";

/** The JSON every successful call answers with. */
export interface SuccessEnvelope<T = unknown> {
  success: true;
  data: T;
  commands?: unknown[];
}

/** A page of a list. */
export interface ListEnvelope<T = unknown> extends SuccessEnvelope<T[]> {
  /** null when the request asked for `count=none`. */
  total: number | null;
  current_page: number;
  items_per_page: number;
}

/** The JSON every failed call answers with. */
export interface ErrorEnvelope {
  success: false;
  data: { code: number; message: string; index?: number };
  errors?: FieldErrors;
}

const JSON_TYPE = "application/json; charset=utf-8";
const PROBLEM_TYPE = "application/problem+json; charset=utf-8";

/** Reason phrases for the problem+json `title`. */
const TITLES: Record<number, string> = {
  400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
  409: "Conflict", 413: "Content Too Large", 415: "Unsupported Media Type", 428: "Precondition Required",
  429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable",
};

/** Writes a JSON body; the one place that sets the content type. */
export function sendJson(res: Response, status: number, body: unknown): void {
  res.status(status);
  res.setHeader("Content-Type", JSON_TYPE);
  res.setHeader("Cache-Control", "no-store");
  res.end(JSON.stringify(body));
}

export function sendSuccess(res: Response, data: unknown, extra: Record<string, unknown> = {}, status = 200): void {
  sendJson(res, status, { success: true, data: data === undefined ? null : data, ...extra });
}

function wantsProblem(req: Request): boolean {
  const accept = req.headers.accept;
  return typeof accept === "string" && accept.toLowerCase().includes("application/problem+json");
}

/** Turns a field name (`a.b` or `a`) into a JSON pointer into the request body. */
function pointerOf(field: string): string {
  return "/" + field.split(".").map((part) => part.replace(/~/g, "~0").replace(/\//g, "~1")).join("/");
}

/**
 * Sends an {@link AJAXError} as the error envelope, or as RFC 9457 problem+json when the
 * client asked for it with `Accept: application/problem+json`.
 */
export function sendError(req: Request, res: Response, error: AJAXError): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  for (const [name, value] of Object.entries(error.headers ?? {})) res.setHeader(name, value);
  if (error.code === 401 && !res.getHeader("WWW-Authenticate")) {
    res.setHeader("WWW-Authenticate", 'Session realm="ajax"');
  }
  if (wantsProblem(req)) {
    const problem: Record<string, unknown> = {
      type: "about:blank",
      title: TITLES[error.code] ?? "Error",
      status: error.code,
      detail: error.message,
      ...error.data,
    };
    if (error.errors) {
      problem.errors = Object.entries(error.errors).flatMap(([field, messages]) =>
        messages.map((detail) => ({ detail, pointer: pointerOf(field) })));
    }
    res.status(error.code);
    res.setHeader("Content-Type", PROBLEM_TYPE);
    res.setHeader("Cache-Control", "no-store");
    res.end(JSON.stringify(problem));
    return;
  }
  const body: ErrorEnvelope = { success: false, data: { code: error.code, message: error.message, ...error.data } };
  if (error.errors) body.errors = error.errors;
  sendJson(res, error.code, body);
}

/** The error a crash turns into: details only when `debug` is on. */
export function internalError(cause: unknown, debug: boolean): AJAXError {
  const message = debug && cause instanceof Error ? `${Messages.internal} ${cause.name}: ${cause.message}` : Messages.internal;
  return new AJAXError(500, message);
}

/**
 * What any thrown value answers as: an {@link AJAXError} as it is, a database error by its
 * meaning (unique constraint `409`, unavailable `503`, ...), anything else a `500`.
 */
export function toAJAXError(error: unknown, debug: boolean): AJAXError {
  if (error instanceof AJAXError) return error;
  return translateDatabaseError(error) ?? internalError(error, debug);
}
