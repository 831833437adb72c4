import type { Route } from "../http/routes";
import type { ChangeNote } from "./bus";

/** A committed change, before it gets its event id. */
export type Change = Omit<ChangeNote, "id">;

/**
 * What a successful call changed, read off its route: a create (pk from the answer), an update,
 * a delete, a feature's op that writes (a tag command, a restore) or a declared record op (the record may have changed). Model-level
 * declared ops and ad-hoc endpoints do not say which records they wrote: they call
 * `ajax.live.publish(...)` themselves.
 */
export function changesOf(route: Route, data: unknown): Change[] {
  if (route.kind !== "model" && route.kind !== "record" && route.kind !== "feature") return [];
  const { endpoint, app, name: model } = route;
  if (!endpoint.ops.includes("list")) return [];
  if (route.kind === "model") {
    if (route.op !== "create" || data === null || typeof data !== "object") return [];
    const pk = (data as Record<string, unknown>)[endpoint.rules.pk.name];
    return typeof pk === "number" || typeof pk === "string" ? [{ app, model, pk, op: "created" }] : [];
  }
  const pk = route.pk as string | number;
  if (route.kind === "feature") return endpoint.featureSet.recordOp(route.op)?.readOnly ? [] : [{ app, model, pk, op: "updated" }];
  if (route.op === "get") return [];
  if (route.op === "delete") return [{ app, model, pk, op: "deleted" }];
  if (route.op !== "update" && endpoint.recordOps[route.op]?.transaction === false) return [];
  return [{ app, model, pk, op: "updated" }];
}
