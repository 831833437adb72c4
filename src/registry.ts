import type { EntityMetadata } from "typeorm";
import { toEndpoint, type AdHocEndpoint, type EndpointHandler } from "./adhoc";
import { assertValidName } from "./names";
import { ModelEndpoint, type EndpointRuntime } from "./model/endpoint";

/** App names the framework keeps for itself. */
export const RESERVED_APPS: ReadonlySet<string> = new Set(["auth"]);

type ModelEndpointClass = new () => ModelEndpoint;

/**
 * One app's endpoints, as an endpoint file declares them (`endpoints/blog.ts`). Only what is
 * registered here is reachable; a name registered twice fails at start-up.
 *
 * @example
 * export default defineApp("blog")
 *   .model("article", ArticleEndpoint)
 *   .endpoint("echo", loginRequired((req, ctx) => ctx.params));
 */
export class AjaxApp {
  readonly endpoints = new Map<string, AdHocEndpoint>();
  readonly models = new Map<string, ModelEndpoint>();

  constructor(readonly name: string) {
    assertValidName("app", name);
    if (RESERVED_APPS.has(name)) throw new Error(`ajax-endpoints: app name "${name}" is reserved`);
  }

  /** Registers an ad-hoc endpoint: `POST /ajax/<app>/<name>.json`. */
  endpoint(name: string, handler: EndpointHandler | AdHocEndpoint<any, any>): this {
    this.claim(name);
    this.endpoints.set(name, toEndpoint(handler));
    return this;
  }

  /** Registers a model endpoint (a class or an instance): `/ajax/<app>/<name>/...`. */
  model(name: string, endpointClass: ModelEndpointClass | ModelEndpoint): this {
    this.claim(name);
    this.models.set(name, typeof endpointClass === "function" ? new endpointClass() : endpointClass);
    return this;
  }

  private claim(name: string): void {
    assertValidName("endpoint", name);
    if (this.endpoints.has(name) || this.models.has(name)) {
      throw new Error(`ajax-endpoints: "${name}" is registered twice in app "${this.name}"`);
    }
  }
}

/** Starts an app's endpoint file. */
export function defineApp(name: string): AjaxApp {
  return new AjaxApp(name);
}

/** Every registered app, looked up through Maps only (never property access on user objects). */
export class Registry {
  readonly apps = new Map<string, AjaxApp>();
  private readonly byEntity = new Map<Function | string, ModelEndpoint>();
  private readonly defaults = new Map<Function | string, ModelEndpoint>();

  constructor(apps: readonly AjaxApp[], private readonly runtime: Omit<EndpointRuntime, "endpointFor">) {
    for (const app of apps) {
      if (this.apps.has(app.name)) throw new Error(`ajax-endpoints: app "${app.name}" is registered twice`);
      this.apps.set(app.name, app);
    }
    const bound: EndpointRuntime = { ...runtime, endpointFor: (metadata) => this.endpointFor(metadata) };
    for (const app of this.apps.values()) {
      for (const endpoint of app.models.values()) {
        endpoint.bind(bound);
        if (!this.byEntity.has(endpoint.metadata.target)) this.byEntity.set(endpoint.metadata.target, endpoint);
      }
    }
  }

  /**
   * The endpoint whose rules show records of an entity: the first one registered for it, or a
   * stand-in that shows only the pk ({@link ModelEndpoint.isFallback}) when none is.
   */
  endpointFor(metadata: EntityMetadata): ModelEndpoint {
    const registered = this.byEntity.get(metadata.target);
    if (registered) return registered;
    let fallback = this.defaults.get(metadata.target);
    if (!fallback) {
      fallback = new ModelEndpoint();
      fallback.entity = metadata.target;
      fallback.isFallback = true;
      fallback.fields = [];
      fallback.depth = 0;
      fallback.ops = [];
      fallback.bind({ ...this.runtime, endpointFor: (m) => this.endpointFor(m) });
      this.defaults.set(metadata.target, fallback);
    }
    return fallback;
  }

  model(app: string, name: string): ModelEndpoint | undefined {
    return this.apps.get(app)?.models.get(name);
  }

  adHoc(app: string, name: string): AdHocEndpoint | undefined {
    return this.apps.get(app)?.endpoints.get(name);
  }
}
