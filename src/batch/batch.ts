import { isAsyncGeneratorFunction } from "../adhoc";
import type { RequestContext } from "../context";
import { throughGate } from "../db/gate";
import { AJAXError, fieldErrors, Messages, type FieldErrors } from "../errors";
import { callNames, runCall, type CallOutcome, type DispatchDeps } from "../http/dispatch";
import { resolveRoute, type Route } from "../http/routes";
import type { Registry } from "../registry";
import { resolveRefs } from "./refs";

/** Settings of `POST /batch.json`. */
export interface BatchOptions {
  /** The most ops one batch may hold (default 50); past it the batch is a `400`. */
  maxOps?: number;
}

export const DEFAULT_MAX_BATCH_OPS = 50;

/** One op of a batch as the client sent it, checked. */
interface BatchOp {
  op: string;
  body: Record<string, unknown>;
}

function invalid(errors: FieldErrors, index?: number): AJAXError {
  return new AJAXError(400, Messages.invalid, { errors, ...(index === undefined ? {} : { data: { index } }) });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** The batch body: `{"ops": [{"op": "<path>", "body": {...}}, ...]}` and nothing else. */
function readOps(ctx: RequestContext, maxOps: number): BatchOp[] {
  const params = ctx.params ?? {};
  const errors = fieldErrors();
  for (const key of Object.keys(params)) if (key !== "ops") errors[key] = [Messages.unknownField];
  const ops = params.ops;
  if (ctx.fromForm) errors.ops = ["A batch is sent as JSON (application/json)."];
  else if (!Array.isArray(ops)) errors.ops = [ops === undefined ? Messages.required : "A list of ops is required."];
  else if (ops.length === 0) errors.ops = ["At least one op is required."];
  else if (ops.length > maxOps) errors.ops = [`At most ${maxOps} ops.`];
  if (ctx.req.headers["if-match"] !== undefined) errors["If-Match"] = ["Send each op's version as its `_version` field."];
  if (Object.keys(errors).length > 0) throw invalid(errors);
  return (ops as unknown[]).map((raw, index) => {
    const opErrors = fieldErrors();
    if (!isPlainObject(raw)) throw invalid({ [`ops.${index}`]: ["An object with `op` and `body` is required."] }, index);
    for (const key of Object.keys(raw)) if (key !== "op" && key !== "body") opErrors[`ops.${index}.${key}`] = [Messages.unknownField];
    if (typeof raw.op !== "string" || raw.op === "") opErrors[`ops.${index}.op`] = ["A route below the mount without `.json` is required."];
    if (raw.body !== undefined && !isPlainObject(raw.body)) opErrors[`ops.${index}.body`] = ["An object is required."];
    if (Object.keys(opErrors).length > 0) throw invalid(opErrors, index);
    return { op: raw.op as string, body: (raw.body ?? {}) as Record<string, unknown> };
  });
}

/** The route an op names, refusing what cannot be part of a transaction with others. */
function resolveOp(registry: Registry, op: string, index: number): Route {
  if (op === "batch") throw invalid({ [`ops.${index}.op`]: ["A batch cannot hold a batch."] }, index);
  if (op.startsWith("auth/")) throw invalid({ [`ops.${index}.op`]: ["Login, logout and the current user are not batch ops."] }, index);
  const route = resolveRoute(registry, `/${op}.json`);
  if (!route) throw new AJAXError(404, Messages.notFound, { data: { index } });
  if (route.kind === "adhoc" && isAsyncGeneratorFunction(route.endpoint.handler)) {
    throw invalid({ [`ops.${index}.op`]: ["A streaming endpoint cannot be a batch op."] }, index);
  }
  return route;
}

/** The error of op `index` as a single call would answer it, with `index` in its `data`. */
function atIndex(error: AJAXError, index: number, cause: unknown): AJAXError {
  if (error.data?.index === index) return error;
  const indexed = new AJAXError(error.code, error.message, { errors: error.errors, headers: error.headers, data: { ...error.data, index } });
  (indexed as { cause?: unknown }).cause = cause;
  return indexed;
}

/**
 * `POST /batch.json`: every op through the real dispatch path (its authenticate, row scope,
 * hooks, checks), in one transaction that every op's own `throughGate` joins. The first op that
 * fails rolls everything back and answers as that op would, with its `index`. The ops' success
 * is reported (to the change feed) once, after the commit.
 */
export function batchRunner(registry: Registry, options: BatchOptions = {}) {
  const maxOps = options.maxOps ?? DEFAULT_MAX_BATCH_OPS;
  return async (ctx: RequestContext, deps: DispatchDeps): Promise<CallOutcome> => {
    const ops = readOps(ctx, maxOps);
    const results: unknown[] = [];
    const succeeded: Array<{ route: Route; ctx: RequestContext; data: unknown }> = [];
    await throughGate(ctx, "write", async (manager) => {
      for (const [index, { op, body }] of ops.entries()) {
        try {
          const route = resolveOp(registry, op, index);
          const params = resolveRefs(body, results, index);
          const opCtx: RequestContext = {
            ...ctx, ...callNames(route), params, files: [], fromForm: false, manager, ambient: manager,
          };
          const outcome = await runCall(route, opCtx, deps);
          results.push(outcome?.data ?? null);
          succeeded.push({ route, ctx: opCtx, data: outcome?.data });
        } catch (error) {
          throw atIndex(deps.toError(error), index, error);
        }
      }
    });
    for (const { route, ctx: opCtx, data } of succeeded) deps.committed?.(route, opCtx, data);
    return { data: results };
  };
}
