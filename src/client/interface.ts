import type { ObjectSchema } from "joi";
import { isAsyncGeneratorFunction } from "../adhoc";
import type { Registry } from "../registry";
import { jsonForScript } from "./escape";

/** An ad-hoc endpoint as the browser sees it: parameter names, and whether it streams. */
export interface EndpointDescription {
  params: string[];
  stream: boolean;
}

/** A model endpoint as the browser sees it: which ops exist, its features' ops, and its declared ops' parameter names. */
export interface ModelDescription {
  ops: string[];
  /** The record ops its features add, by path below `<pk>/` (`tags/add`, `restore`). */
  featureOps: string[];
  recordOps: Record<string, { params: string[] }>;
  modelOps: Record<string, { params: string[] }>;
}

/** What `/ajax/interface.js` publishes: names and parameter names, nothing else. */
export interface InterfaceDescription {
  apps: Record<string, Record<string, EndpointDescription>>;
  models: Record<string, Record<string, ModelDescription>>;
}

/**
 * The top-level key names of a joi object schema. Only names: `describe()` also carries
 * defaults, limits and examples, which are the server's business.
 */
export function paramNames(schema: ObjectSchema | undefined): string[] {
  if (!schema) return [];
  const keys = (schema.describe() as { keys?: Record<string, unknown> }).keys;
  return keys ? Object.keys(keys) : [];
}

/** Describes every registered endpoint for the browser (read once, at start-up). */
export function describeRegistry(registry: Registry): InterfaceDescription {
  const description: InterfaceDescription = { apps: {}, models: {} };
  for (const [appName, app] of registry.apps) {
    if (app.endpoints.size > 0) {
      const endpoints: Record<string, EndpointDescription> = {};
      for (const [name, endpoint] of app.endpoints) {
        endpoints[name] = { params: paramNames(endpoint.options.params), stream: isAsyncGeneratorFunction(endpoint.handler) };
      }
      description.apps[appName] = endpoints;
    }
    if (app.models.size > 0) {
      const models: Record<string, ModelDescription> = {};
      for (const [name, model] of registry.modelsOf(appName)) {
        const describeOps = (ops: Readonly<Record<string, { params?: ObjectSchema }>>) =>
          Object.fromEntries(Object.keys(ops).map((op) => [op, { params: paramNames(ops[op]!.params) }]));
        models[name] = { ops: [...model.ops], featureOps: [...model.featureSet.allRecordOps().keys()], recordOps: describeOps(model.recordOps), modelOps: describeOps(model.modelOps) };
      }
      description.models[appName] = models;
    }
  }
  return description;
}

/**
 * The text of `/ajax/interface.js`: one call that hands the description to the client script,
 * which builds `AJAX.apps` and `AJAX.models` from it. No server code is ever written out.
 */
export function interfaceScript(registry: Registry): string {
  return [
    "/* ajax-endpoints: the generated interface of this server's endpoints. Load client.js (same mount) first. */",
    "(function () {",
    '  "use strict";',
    '  if (!window.AJAX || typeof window.AJAX.defineInterface !== "function") {',
    '    throw new Error("ajax-endpoints: load client.js before interface.js");',
    "  }",
    `  window.AJAX.defineInterface(${jsonForScript(describeRegistry(registry))});`,
    "})();",
    "",
  ].join("\n");
}
