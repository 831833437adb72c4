import type { ObjectLiteral } from "typeorm";
import type { Request, Response } from "express";
import { isAsyncGeneratorFunction, refuseAnonymousCaller, type AdHocEndpoint } from "../adhoc";
import type { SessionAuth } from "../auth/auth";
import type { RequestContext } from "../context";
import { throughGate } from "../db/gate";
import { sendSuccess } from "../envelope";
import { AJAXError, Messages } from "../errors";
import { declaredOpParams, refuseUnknownFields, validateParams } from "../params";
import type { ModelEndpoint } from "../model/endpoint";
import { encodeRecords } from "../model/hydrate";
import { listPage } from "../model/list";
import { createOp, deleteOp, getOp, loadVisibleRecord, updateOp } from "../model/ops";
import { collectStream, streamEvents, wantsEventStream } from "../rpc/stream";
import type { WireTypes } from "../rpc/types";
import type { Route } from "./routes";

/** What the dispatcher needs from the router that built it. */
export interface DispatchDeps {
  auth: SessionAuth;
  toError(error: unknown): AJAXError;
  /** Runs around every call (Sijax's before and after events). */
  hooks?: CallHooks;
  /** Custom wire types of ad-hoc endpoints' bodies and responses. */
  types?: WireTypes;
  /** Runs `POST /batch.json` (src/batch); without it the route is a `404`. */
  runBatch?(ctx: RequestContext, deps: DispatchDeps): Promise<CallOutcome>;
  /** Told about each call that succeeded, after its transaction committed (the change feed listens here). */
  committed?(route: Route, ctx: RequestContext, data: unknown): void;
}

/** What a call answers with when it succeeded: its data and extra envelope members (a list's `total`). */
export interface CallOutcome {
  data: unknown;
  extra?: Record<string, unknown>;
}

/** Before and after every call: logging, metrics, adding commands. */
export interface CallHooks {
  before?(ctx: RequestContext): void | Promise<void>;
  after?(ctx: RequestContext, outcome: { data?: unknown; error?: AJAXError }): void | Promise<void>;
}

async function runAdHoc(endpoint: AdHocEndpoint, ctx: RequestContext, deps: DispatchDeps): Promise<{ data: unknown } | undefined> {
  refuseAnonymousCaller(endpoint, ctx.user);
  const types = deps.types;
  if (types) ctx.params = types.decode(ctx.params) as Record<string, unknown>;
  if (endpoint.options.params) ctx.params = validateParams(endpoint.options.params, ctx.params);
  const encode = (value: unknown) => (types ? types.encode(value) : value);
  const { handler } = endpoint;
  if (isAsyncGeneratorFunction(handler)) {
    // Streams hold no database lock across their pauses: they read through ctx.dataSource as they go.
    const generator = handler(ctx.req, ctx) as AsyncGenerator<unknown>;
    if (wantsEventStream(ctx.req)) {
      await streamEvents(generator, ctx, deps.toError, encode);
      return undefined;
    }
    return { data: encode(await collectStream(generator)) };
  }
  return { data: encode(await throughGate(ctx, endpoint.options.transaction ? "write" : "read", async () => {
    return handler(ctx.req, ctx);
  })) };
}

async function runModelOp(route: Extract<Route, { kind: "model" }>, ctx: RequestContext): Promise<{ data: unknown; extra?: Record<string, unknown> }> {
  const { endpoint } = route;
  if (route.op === "create") return { data: await createOp(endpoint, ctx) };
  if (route.op === "list") {
    return throughGate(ctx, "read", async () => {
      if (!(await endpoint.canList(ctx.user, ctx))) throw new AJAXError(403, Messages.forbidden);
      const { records, total, query, nextCursor } = await listPage(endpoint, ctx);
      const data = await encodeRecords(endpoint, records, ctx);
      const paging = nextCursor === undefined ? { current_page: query.page } : { next_cursor: nextCursor };
      return { data, extra: { total, ...paging, items_per_page: query.perPage } };
    });
  }
  const op = endpoint.modelOps[route.op]!;
  ctx.params = declaredOpParams(op.params, ctx.params);
  return { data: await throughGate(ctx, op.transaction === false ? "read" : "write", async () => encodeReturnedRecords(endpoint, await op.handler(ctx), ctx)) };
}

async function runRecordOp(route: Extract<Route, { kind: "record" }>, ctx: RequestContext): Promise<unknown> {
  const { endpoint, pk } = route;
  if (route.op === "get") return getOp(endpoint, pk, ctx);
  if (route.op === "update") return updateOp(endpoint, pk, ctx);
  if (route.op === "delete") return deleteOp(endpoint, pk, ctx);
  const op = endpoint.recordOps[route.op]!;
  return throughGate(ctx, op.transaction === false ? "read" : "write", async () => {
    const record = await loadVisibleRecord(endpoint, pk, ctx);
    const requires = op.requires ?? "update";
    const allowed = requires === "get" ? true
      : requires === "delete" ? await endpoint.canDelete(ctx.user, record, ctx)
        : await endpoint.canUpdate(ctx.user, record, {}, ctx);
    if (!allowed) throw new AJAXError(403, Messages.forbidden);
    // The body is checked only after the record and the permission: a caller without
    // permission gets the same answer whatever it sent.
    ctx.params = declaredOpParams(op.params, ctx.params);
    return encodeReturnedRecords(endpoint, await op.handler(record, ctx), ctx);
  });
}

/**
 * A declared op that returns records of its entity (the record it was given, rows it loaded)
 * has them encoded by the endpoint's rules, as every built-in op does: a raw record still
 * holds its hidden columns. Anything else is returned as it is.
 */
async function encodeReturnedRecords(endpoint: ModelEndpoint, result: unknown, ctx: RequestContext): Promise<unknown> {
  const prototype = (endpoint.metadata.target as { prototype?: object }).prototype;
  const isRecord = (value: unknown) => value !== null && typeof value === "object" && prototype !== undefined && Object.getPrototypeOf(value) === prototype;
  if (isRecord(result)) return (await encodeRecords(endpoint, [result as ObjectLiteral], ctx))[0];
  if (Array.isArray(result) && result.length > 0 && result.every(isRecord)) return encodeRecords(endpoint, result as ObjectLiteral[], ctx);
  return result;
}

/**
 * Runs a resolved route: authentication, the op, and the success envelope with any queued
 * commands. Errors propagate to the router's error handler, which writes the error envelope.
 */
export async function dispatch(route: Route, ctx: RequestContext, deps: DispatchDeps): Promise<void> {
  const outcome = await runCall(route, ctx, deps);
  if (!outcome) return;
  if (route.kind !== "batch") deps.committed?.(route, ctx, outcome.data);
  const commands = ctx.commands.drain();
  sendSuccess(ctx.res, outcome.data, { ...(commands.length > 0 ? { commands } : {}), ...outcome.extra });
}

/** Runs a resolved route between the call hooks, without answering (a batch runs each op through it). */
export async function runCall(route: Route, ctx: RequestContext, deps: DispatchDeps): Promise<CallOutcome | undefined> {
  await deps.hooks?.before?.(ctx);
  let outcome: CallOutcome | undefined;
  try {
    outcome = await runRoute(route, ctx, deps);
  } catch (error) {
    await deps.hooks?.after?.(ctx, { error: deps.toError(error) });
    throw error;
  }
  await deps.hooks?.after?.(ctx, { data: outcome?.data });
  return outcome;
}

async function runRoute(route: Route, ctx: RequestContext, deps: DispatchDeps): Promise<CallOutcome | undefined> {
  switch (route.kind) {
    case "batch":
      if (!deps.runBatch) throw new AJAXError(404, Messages.notFound);
      return deps.runBatch(ctx, deps);
    case "auth":
      if (route.op === "login") {
        refuseUnknownFields(ctx.params, ["username", "password"]);
        return { data: await deps.auth.login(ctx) };
      }
      if (route.op === "logout") {
        refuseUnknownFields(ctx.params, []);
        return { data: await deps.auth.logout(ctx) };
      }
      if (!ctx.user) throw new AJAXError(401, Messages.unauthenticated);
      refuseUnknownFields(ctx.params, []);
      return { data: await deps.auth.currentUser(ctx) };
    case "adhoc":
      return runAdHoc(route.endpoint, ctx, deps);
    case "model":
      await route.endpoint.authenticate(ctx.req, route.app, route.op);
      return runModelOp(route, ctx);
    case "record":
      await route.endpoint.authenticate(ctx.req, route.app, route.op);
      return { data: await runRecordOp(route, ctx) };
    case "feature":
      await route.endpoint.authenticate(ctx.req, route.app, route.op);
      return { data: await route.run(route.endpoint, route.pk, ctx) };
  }
}

/** The `app`, `name` and `op` a context of this route carries. */
export function callNames(route: Route): Pick<RequestContext, "app" | "name" | "op"> {
  if (route.kind === "auth") return { app: "auth", name: route.op, op: route.op };
  if (route.kind === "batch") return { app: "", name: "batch", op: "batch" };
  return { app: route.app, name: route.name, op: route.kind === "adhoc" ? "call" : route.op };
}

/** Builds the context of a call. */
export function buildContext(req: Request, res: Response, route: Route, base: Pick<RequestContext, "dataSource" | "commands" | "endpointFor">, isStaff: (user: unknown) => boolean): RequestContext {
  const user = req.user ?? null;
  return {
    req, res, user, isStaff: user !== null && isStaff(user),
    ...callNames(route),
    params: req.body as Record<string, unknown>,
    files: req.files ?? [],
    fromForm: req.bodyFromForm === true,
    dataSource: base.dataSource,
    manager: base.dataSource.manager,
    commands: base.commands,
    endpointFor: base.endpointFor,
  };
}
