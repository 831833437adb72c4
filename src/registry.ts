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
  /**
   * The model endpoints as registered. The first router built from the app binds these; every
   * further router (a second database, a test per suite) binds its own instances of the classes
   * (see {@link Registry}), so that no router rebinds another's endpoints.
   */
  readonly models = new Map<string, ModelEndpoint>();
  /** The classes of the models registered by class, for the instances of further routers. */
  private readonly modelClasses = new Map<string, ModelEndpointClass>();

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
    if (typeof endpointClass === "function") this.modelClasses.set(name, endpointClass);
    this.models.set(name, typeof endpointClass === "function" ? new endpointClass() : endpointClass);
    return this;
  }

  /**
   * The endpoint a router binds for a model: the registered one while no router has bound it,
   * else a new instance of its class. An endpoint registered as an instance serves one router:
   * a second fails at start-up, as it would otherwise take the first router's endpoint over.
   */
  endpointToBind(name: string): ModelEndpoint {
    const registered = this.models.get(name)!;
    if (!registered.isBound) return registered;
    const endpointClass = this.modelClasses.get(name);
    if (!endpointClass) {
      throw new Error(`ajax-endpoints: "${this.name}.${name}" was registered as an instance and already serves another router; register its class (\`.model("${name}", ${registered.constructor.name})\`) to build several routers from one app`);
    }
    return new endpointClass();
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
  /** Each app's model endpoints as this registry bound them. */
  private readonly boundModels = new Map<string, Map<string, ModelEndpoint>>();
  private readonly byEntity = new Map<Function | string, ModelEndpoint>();
  private readonly defaults = new Map<Function | string, ModelEndpoint>();

  constructor(apps: readonly AjaxApp[], private readonly runtime: Omit<EndpointRuntime, "endpointFor">) {
    for (const app of apps) {
      if (this.apps.has(app.name)) throw new Error(`ajax-endpoints: app "${app.name}" is registered twice`);
      this.apps.set(app.name, app);
    }
    const bound: EndpointRuntime = { ...runtime, endpointFor: (metadata) => this.endpointFor(metadata) };
    for (const app of this.apps.values()) {
      const models = new Map<string, ModelEndpoint>();
      for (const name of app.models.keys()) {
        const endpoint = app.endpointToBind(name);
        endpoint.bind(bound);
        models.set(name, endpoint);
        if (!this.byEntity.has(endpoint.metadata.target)) this.byEntity.set(endpoint.metadata.target, endpoint);
      }
      this.boundModels.set(app.name, models);
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

  /** The model endpoint this registry serves at `<app>/<name>`. */
  model(app: string, name: string): ModelEndpoint | undefined {
    return this.boundModels.get(app)?.get(name);
  }

  /** An app's model endpoints as this registry serves them, by name. */
  modelsOf(app: string): ReadonlyMap<string, ModelEndpoint> {
    return this.boundModels.get(app) ?? new Map();
  }

  adHoc(app: string, name: string): AdHocEndpoint | undefined {
    return this.apps.get(app)?.endpoints.get(name);
  }
}
