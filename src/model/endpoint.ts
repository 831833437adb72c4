import type { Request } from "express";
import type { ObjectSchema, Schema } from "joi";
import type { DataSource, EntityMetadata, EntityTarget, ObjectLiteral, SelectQueryBuilder } from "typeorm";
import { AJAXError, Messages } from "../errors";
import type { RequestContext } from "../context";
import { FILTER_OPS, type FilterOp } from "./list";
import { FieldRules } from "./fields";
import { RowReader, relationPk } from "./rows";
import { EndpointFeatures, type EndpointFeature, type ReadPurpose } from "./feature";

/** The built-in ops of a model endpoint. */
export type ModelOpName = "create" | "get" | "update" | "delete" | "list";
export const MODEL_OPS: readonly ModelOpName[] = ["create", "get", "update", "delete", "list"];

/**
 * A name the editor completes from `Known` that also takes any string, so that a subclass can
 * write `ops = ["get", "list"]` without `as const`; unknown names fail at start-up. For
 * names checked at compile time, declare the endpoint with {@link modelEndpoint}.
 */
export type LooseName<Known extends string> = Known | (string & {});

/** A record-level op a subclass declares: `/ajax/<app>/<model>/<pk>/<name>.json`. */
export interface RecordOpDefinition<T extends ObjectLiteral = ObjectLiteral> {
  /** Which permission the caller needs on the record first (default `update`). */
  requires?: "get" | "update" | "delete";
  /** joi schema for the body; a mismatch is a `400` with `errors`. */
  params?: ObjectSchema;
  /** joi schema of what the op answers (`data`), for the OpenAPI document and the typed client. */
  returns?: Schema;
  /** Run in a transaction (`ctx.manager` is the transaction's). Default true. */
  transaction?: boolean;
  handler: (record: T, ctx: RequestContext) => unknown;
}

/** A model-level op a subclass declares: `/ajax/<app>/<model>/<name>.json`. */
export interface ModelOpDefinition {
  params?: ObjectSchema;
  /** joi schema of what the op answers (`data`), for the OpenAPI document and the typed client. */
  returns?: Schema;
  transaction?: boolean;
  handler: (ctx: RequestContext) => unknown;
}

/** What the router gives an endpoint when it is registered. */
export interface EndpointRuntime {
  dataSource: DataSource;
  isStaff(user: unknown): boolean;
  isActive(user: unknown): boolean;
  userPk(user: unknown): unknown;
  /** The endpoint that shows records of an entity, for hydration and FK checks. */
  endpointFor(metadata: EntityMetadata): ModelEndpoint;
  /** Signs what the server hands out and must get back unchanged (list cursors). */
  signingKey: string;
}

/**
 * The base class of a model endpoint, subclassed once per entity, as django-ajax's
 * `ModelEndpoint` or a DRF viewset: set fields to configure it and override one hook at a
 * time to change a policy. Every default denies what the contract does not allow.
 *
 * @example
 * class ArticleEndpoint extends ModelEndpoint<Article> {
 *   entity = Article;
 *   ownerField = "author";
 *   filterFields = ["published", "title"];
 *   canDelete(user: User) { return user.isStaff; }
 * }
 */
export class ModelEndpoint<T extends ObjectLiteral = any, U = any> {
  /** The TypeORM entity class this endpoint serves. */
  entity!: EntityTarget<T>;
  /** Which built-in ops exist; the others answer `404`. */
  ops: readonly LooseName<ModelOpName>[] = MODEL_OPS;
  /** Readable allow-list; unset means every column that is not hidden. */
  fields?: readonly string[];
  /** Never in a response, a filter or an ordering. Secret-looking names are hidden anyway. */
  hiddenFields: readonly string[] = [];
  /** Shown, never written by a client. */
  readOnlyFields: readonly string[] = [];
  /** Shown, filled in by the server (the owner field is added automatically). */
  serverSetFields: readonly string[] = [];
  /** Names that look secret (`tokenCount`) but are fine to show. */
  notSecretFields: readonly string[] = [];
  /** The longest value of a text column that declares no length (`text`); longer is a `400` naming the field. */
  maxTextLength = 100_000;
  /** Longest values of some fields, over their columns' lengths, e.g. `{ summary: 500 }`. */
  maxLengths: Readonly<Record<string, number>> = {};
  /** The many-to-one field that points at the user who owns a record: set on create, checked by the default hooks. */
  ownerField?: string;
  /** Fields a list may filter on: a list (every op) or a map to the allowed ops. */
  filterFields: readonly string[] | Readonly<Record<string, readonly LooseName<FilterOp>[]>> = [];
  /** Fields a list may be ordered by. */
  orderFields: readonly string[] = [];
  /** Order when the request gives none, e.g. `"-createdAt"`; the pk breaks ties. */
  defaultOrder?: string;
  /** Text fields the `search` parameter looks in, through a full-text index (docs/search.md). */
  searchFields: readonly string[] = [];
  /**
   * On SQLite, which has no statement time limit: a search considers at most this many matches,
   * those with the highest pks (docs/search.md).
   */
  maxSearchMatches = 10_000;
  defaultPerPage = 20;
  maxPerPage = 100;
  /** How deep relations are expanded into records. 0 gives every relation as its pk. */
  depth = 2;
  /** Relations to expand; unset means every many-to-one and one-to-one relation. */
  hydrate?: readonly string[];
  /**
   * What the endpoint does beyond the built-in ops, each a feature with its own ops, filters,
   * writable keys and encoding: `features = [tags()]` (CONTRACT.md §7). See {@link EndpointFeature}.
   */
  features: readonly EndpointFeature[] = [];
  /** Where the entity has a version column, update needs the version the client read. */
  requireVersion = true;
  /**
   * True for the stand-in the registry makes for an entity that no registered endpoint serves:
   * it shows nothing but the pk, and relations to it are given as their pk (deny by default).
   */
  isFallback = false;
  /** Record-level ops beyond the built-in ones. */
  recordOps: Readonly<Record<string, RecordOpDefinition<T>>> = {};
  /** Model-level ops beyond the built-in ones. */
  modelOps: Readonly<Record<string, ModelOpDefinition>> = {};

  private bound?: { runtime: EndpointRuntime; metadata: EntityMetadata; rules: FieldRules; reader: RowReader; features: EndpointFeatures };

  // ---- permission hooks (CONTRACT.md §6) -------------------------------------------------

  /** Runs before every op. Default: the caller must be logged in. */
  authenticate(req: Request, _app: string, _op: string): void | Promise<void> {
    if (!req.user) throw new AJAXError(401, Messages.unauthenticated);
  }

  canList(_user: U | null, _ctx: RequestContext): boolean | Promise<boolean> {
    return true;
  }

  canGet(_user: U | null, _record: T, _ctx: RequestContext): boolean | Promise<boolean> {
    return true;
  }

  /** Default: logged in and active. */
  canCreate(user: U | null, _values: Partial<T>, _ctx: RequestContext): boolean | Promise<boolean> {
    return user !== null && this.runtime.isActive(user);
  }

  /** Default: staff, or the owner where the endpoint names an owner field. */
  canUpdate(user: U | null, record: T, _changes: Partial<T>, _ctx: RequestContext): boolean | Promise<boolean> {
    return this.isStaff(user) || this.isOwner(user, record);
  }

  /** Default: staff, or the owner where the endpoint names an owner field. */
  canDelete(user: U | null, record: T, _ctx: RequestContext): boolean | Promise<boolean> {
    return this.isStaff(user) || this.isOwner(user, record);
  }

  /** Default: as {@link canUpdate} with no changes. */
  canTag(user: U | null, record: T, ctx: RequestContext): boolean | Promise<boolean> {
    return this.canUpdate(user, record, {}, ctx);
  }

  /**
   * The row scope: narrows every query of this entity (list, get, update, delete, hydration,
   * FK checks, `similar`, `total`) to the rows the user may see. `qb.alias` is the entity's
   * alias. Default: all rows.
   */
  scope(_qb: SelectQueryBuilder<T>, _user: U | null, _ctx: RequestContext): void {}

  /**
   * Narrows a query of this entity to the rows the caller may see: what the features hide (a
   * soft-deleted row) and the row scope. Every read path calls this, never `scope` alone.
   */
  narrowToVisible(qb: SelectQueryBuilder<ObjectLiteral>, ctx: RequestContext, purpose: ReadPurpose = "related"): void {
    for (const feature of this.featureSet.list) feature.narrowReads?.(qb, qb.alias, this, ctx, purpose);
    this.scope(qb as never, ctx.user, ctx);
  }

  // ---- before/after hooks (Feathers-style) -----------------------------------------------

  /** Change or check the values of a new record before it is written. */
  beforeCreate(_values: Partial<T>, _ctx: RequestContext): void | Promise<void> {}
  afterCreate(_record: T, _ctx: RequestContext): void | Promise<void> {}
  beforeUpdate(_changes: Partial<T>, _record: T, _ctx: RequestContext): void | Promise<void> {}
  afterUpdate(_record: T, _ctx: RequestContext): void | Promise<void> {}
  beforeDelete(_record: T, _ctx: RequestContext): void | Promise<void> {}
  afterDelete(_record: T, _ctx: RequestContext): void | Promise<void> {}

  // ---- helpers for subclasses -------------------------------------------------------------

  protected isStaff(user: U | null): boolean {
    return user !== null && this.runtime.isStaff(user);
  }

  /** True when the endpoint names an owner field and it points at `user`. */
  protected isOwner(user: U | null, record: T): boolean {
    if (!this.ownerField || user === null) return false;
    const rule = this.rules.byName.get(this.ownerField);
    if (!rule?.targetPk) return false;
    const owner = relationPk(record[this.ownerField], rule.targetPk);
    return owner !== null && owner === this.runtime.userPk(user);
  }

  // ---- wiring (done once, by the router) --------------------------------------------------

  /** Whether a router has bound this endpoint (see {@link bind}). */
  get isBound(): boolean {
    return this.bound !== undefined;
  }

  /** Called by the router at start-up; builds field rules and the row reader once. */
  bind(runtime: EndpointRuntime): void {
    if (!this.entity) throw new Error(`ajax-endpoints: ${this.constructor.name} does not set "entity"`);
    // `tags = true` was how tags were turned on before features; left in a subclass it would do nothing.
    if ("tags" in this) throw new Error(`ajax-endpoints: ${this.constructor.name} sets "tags": tags are a feature now, write \`features = [tags()]\``);
    const metadata = runtime.dataSource.getMetadata(this.entity);
    const serverSet = [...this.serverSetFields];
    if (this.ownerField) {
      const owner = metadata.relations.find((r) => r.propertyName === this.ownerField);
      if (!owner || !owner.isManyToOne) {
        throw new Error(`ajax-endpoints: ownerField "${this.ownerField}" of ${metadata.name} must be a many-to-one relation`);
      }
      serverSet.push(this.ownerField);
    }
    const rules = new FieldRules(metadata, {
      fields: this.fields, hiddenFields: this.hiddenFields, readOnlyFields: this.readOnlyFields,
      serverSetFields: serverSet, notSecretFields: this.notSecretFields,
      maxTextLength: this.maxTextLength, maxLengths: this.maxLengths,
    });
    const features = new EndpointFeatures(this.features, metadata.name);
    this.bound = { runtime, metadata, rules, reader: new RowReader(rules, runtime.dataSource), features };
    this.checkConfiguration(rules);
    for (const feature of features.list) feature.check?.(this);
  }

  /** Fails at start-up on an unknown op or filter operator, and on a filter, order or search field that is unknown or hidden. */
  private checkConfiguration(rules: FieldRules): void {
    for (const op of this.ops) {
      if (!(MODEL_OPS as readonly string[]).includes(op)) {
        throw new Error(`ajax-endpoints: ops of ${rules.metadata.name} names "${op}", which is not one of ${MODEL_OPS.join(", ")}`);
      }
    }
    const features = this.featureSet;
    for (const [field, ops] of Array.isArray(this.filterFields) ? [] : Object.entries(this.filterFields)) {
      // A feature's filter checks its own operators.
      if (features.filter(field)) continue;
      for (const op of ops) {
        if (!(FILTER_OPS as readonly string[]).includes(op)) {
          throw new Error(`ajax-endpoints: filterFields of ${rules.metadata.name} gives "${field}" the operator "${op}", which is not one of ${FILTER_OPS.join(", ")}`);
        }
      }
    }
    const filterNames = Array.isArray(this.filterFields) ? this.filterFields : Object.keys(this.filterFields);
    const lists: Array<[string, readonly string[]]> = [["filterFields", filterNames], ["orderFields", this.orderFields],
      ["searchFields", this.searchFields], ["hydrate", this.hydrate ?? []]];
    for (const [list, names] of lists) {
      for (const name of names) {
        if (list === "filterFields" && features.filter(name)) continue;
        if (!rules.readableField(name)) {
          throw new Error(`ajax-endpoints: ${list} of ${rules.metadata.name} names "${name}", which is not a readable field`);
        }
      }
    }
    for (const name of this.searchFields) {
      if (rules.byName.get(name)?.kind !== "text") throw new Error(`ajax-endpoints: search field "${name}" of ${rules.metadata.name} is not text`);
    }
    if (this.searchFields.length > 0 && rules.pk.kind !== "integer") {
      throw new Error(`ajax-endpoints: full-text search needs an integer primary key (${rules.metadata.name})`);
    }
    for (const name of [...Object.keys(this.recordOps), ...Object.keys(this.modelOps)]) {
      if ((MODEL_OPS as readonly string[]).includes(name) || features.recordOp(name) || [...features.allRecordOps().keys()].some((path) => path.startsWith(`${name}/`))) {
        throw new Error(`ajax-endpoints: op "${name}" of ${rules.metadata.name} collides with a built-in op or a feature's op`);
      }
    }
  }

  get runtime(): EndpointRuntime {
    if (!this.bound) throw new Error(`ajax-endpoints: ${this.constructor.name} is not registered with a router`);
    return this.bound.runtime;
  }

  get metadata(): EntityMetadata {
    return this.boundOrThrow().metadata;
  }

  get rules(): FieldRules {
    return this.boundOrThrow().rules;
  }

  get reader(): RowReader {
    return this.boundOrThrow().reader;
  }

  /** The endpoint's features with the lookups the core needs (built once, at start-up). */
  get featureSet(): EndpointFeatures {
    return this.boundOrThrow().features;
  }

  private boundOrThrow() {
    if (!this.bound) throw new Error(`ajax-endpoints: ${this.constructor.name} is not registered with a router`);
    return this.bound;
  }
}
