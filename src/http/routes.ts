import type { AdHocEndpoint } from "../adhoc";
import { parsePkSegment } from "../model/coerce";
import type { ModelEndpoint } from "../model/endpoint";
import type { FeatureRecordOp } from "../model/feature";
import { isValidName } from "../names";
import type { Registry } from "../registry";

/** Routes of the reserved `auth` app. */
export const AUTH_OPS: ReadonlySet<string> = new Set(["login", "logout", "user"]);

/** What a POST path under the mount names. */
export type Route =
  | { kind: "adhoc"; app: string; name: string; endpoint: AdHocEndpoint }
  | { kind: "auth"; op: string }
  | { kind: "model"; app: string; name: string; endpoint: ModelEndpoint; op: string }
  | { kind: "record"; app: string; name: string; endpoint: ModelEndpoint; op: string; pk: unknown }
  | { kind: "feature"; app: string; name: string; endpoint: ModelEndpoint; op: string; pk: unknown; run: FeatureRecordOp["run"] }
  | { kind: "batch" };

/** `POST /batch.json`: several ops in one transaction (CONTRACT.md §10; src/batch). */
export const BATCH_PATH = "/batch.json";


function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/**
 * Resolves a path under the mount (`/blog/article/7/get.json`) against the registry. Unknown or
 * malformed names, ops an endpoint does not have and pks that do not parse all give
 * `undefined`, which the router answers with `404`.
 */
export function resolveRoute(registry: Registry, path: string): Route | undefined {
  if (!path.endsWith(".json") || path.length > 2048) return undefined;
  const segments = path.slice(1, -".json".length).split("/");
  if (segments.length < 2 || segments.length > 5) return undefined;
  const [app, name] = segments as [string, string];
  if (!isValidName(app) || !isValidName(name)) return undefined;

  if (app === "auth") {
    return segments.length === 2 && AUTH_OPS.has(name) ? { kind: "auth", op: name } : undefined;
  }
  if (segments.length === 2) {
    const adHoc = registry.adHoc(app, name);
    if (adHoc) return { kind: "adhoc", app, name, endpoint: adHoc };
    const model = registry.model(app, name);
    return model && model.ops.includes("create") ? { kind: "model", app, name, endpoint: model, op: "create" } : undefined;
  }
  const endpoint = registry.model(app, name);
  if (!endpoint) return undefined;
  if (segments.length === 3) {
    const op = segments[2]!;
    if (op === "list") return endpoint.ops.includes("list") ? { kind: "model", app, name, endpoint, op } : undefined;
    return isValidName(op) && Object.prototype.hasOwnProperty.call(endpoint.modelOps, op)
      ? { kind: "model", app, name, endpoint, op } : undefined;
  }
  const pkText = decodeSegment(segments[2]!);
  const pkRule = endpoint.rules.pk;
  const pk = pkText === undefined ? undefined : parsePkSegment(pkText, pkRule.kind, pkRule.maxLength, pkRule.range);
  if (pk === undefined) return undefined;
  const names = segments.slice(3);
  if (!names.every(isValidName)) return undefined;
  // A feature's op: `<pk>/restore.json`, `<pk>/tags/add.json`. Names are checked against the feature's own map.
  const featureOp = endpoint.featureSet.recordOp(names.join("/"));
  if (featureOp) return { kind: "feature", app, name, endpoint, op: names.join("/"), pk, run: featureOp.run };
  if (names.length !== 1) return undefined;
  const op = names[0]!;
  if (op === "get" || op === "update" || op === "delete") {
    return endpoint.ops.includes(op) ? { kind: "record", app, name, endpoint, op, pk } : undefined;
  }
  return Object.prototype.hasOwnProperty.call(endpoint.recordOps, op) ? { kind: "record", app, name, endpoint, op, pk } : undefined;
}
