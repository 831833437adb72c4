import type { ObjectLiteral, SelectQueryBuilder } from "typeorm";
import type { RequestContext } from "../context";
import type { ModelEndpoint } from "./endpoint";

/** JSON Schema, as the OpenAPI document holds it. */
export type FeatureSchema = Record<string, unknown>;

/**
 * A filter on a name that is not a field (`filter[tags__any]`): it narrows the query itself and
 * answers an error message for the client, or null.
 */
export type FeatureFilter = (qb: SelectQueryBuilder<ObjectLiteral>, op: string, value: unknown, endpoint: ModelEndpoint, index: number) => string | null;

/** A record-level op a feature adds: `/ajax/<app>/<model>/<pk>/<path>.json`. */
export interface FeatureRecordOp {
  /**
   * Runs the op: the feature loads the record through the scope, asks the hook it needs and
   * checks the body, in the framework's one order (`loadVisibleRecord`, then the `can*` hook,
   * then `refuseUnknownFields` or a schema). `authenticate` has run already.
   */
  run(endpoint: ModelEndpoint, pk: unknown, ctx: RequestContext): Promise<unknown>;
  /** For the OpenAPI document and the typed client. */
  summary: string;
  /** The body's JSON schema (an object schema, or a `$ref` to one of the feature's components); unset: an empty body. */
  body?: FeatureSchema;
  /** Whether a body must be sent (it has required fields). */
  bodyRequired?: boolean;
  /** The answer's `data`; `"record"` or `"records"` for the endpoint's own record schema. */
  data: FeatureSchema | "record" | "records";
  /** It only reads (`similar`, `history`): the change feed announces nothing after it. */
  readOnly?: boolean;
}

/**
 * Why rows are read: the list op's own query, the one record of a record op, or records
 * reached from another (hydration, FK checks, `similar`).
 */
export type ReadPurpose = "list" | "record" | "related";

/** A write that features hear about, inside the op's transaction: the built-in ops, and those features announce (restore, tags). */
export interface WriteEvent {
  op: "create" | "update" | "delete" | "restore" | "tags";
  endpoint: ModelEndpoint;
  pk: unknown;
  /** The record as it was before an update or delete. */
  before?: ObjectLiteral;
  /** The record as read back after a create or update. */
  after?: ObjectLiteral;
  /** The changed values of an update, the written values of a create. */
  changes: ObjectLiteral;
  /** The body keys this feature claimed through `writableKeys`. */
  extra: Record<string, unknown>;
  /** A delete that kept the row (soft delete): what hangs on the record (its tags) stays for a restore. */
  soft?: boolean;
  /**
   * Changes a feature made beside the row's own (tags: `{ tags: [before, after] }`), added by
   * the features that run first, for those listed after them (audit).
   */
  alsoChanged: Record<string, [unknown, unknown]>;
}

/**
 * Something an endpoint can do beyond the built-in ops, listed on the endpoint
 * (`features = [tags(), softDelete(), audit()]`), the way a DRF view lists its
 * `filter_backends`. The core never imports a feature: it asks each feature of an endpoint
 * for its contribution at each step. Every member is optional.
 *
 * @example
 * // A feature written from scratch: every record shows how long its title is.
 * const titleLength = (): EndpointFeature => ({
 *   name: "titleLength",
 *   async encode(_endpoint, records, encoded) {
 *     records.forEach((record, index) => { encoded[index]!.titleLength = String(record.title ?? "").length; });
 *   },
 * });
 */
export interface EndpointFeature {
  /** Names it in errors and descriptions; two features of one endpoint may not share a name. */
  readonly name: string;
  /** At start-up, once the endpoint is bound: entities it needs, key types, settings. Throw to refuse to start. */
  check?(endpoint: ModelEndpoint): void;
  /** Record-level ops by path below `<pk>/`: one name (`restore`) or two (`tags/add`). */
  readonly recordOps?: Readonly<Record<string, FeatureRecordOp>>;
  /** Filters on names that are not fields; an endpoint still lists the name in `filterFields`. */
  readonly filters?: Readonly<Record<string, FeatureFilter>>;
  /** Body keys of create and update that this feature takes (`tags`); they reach {@link afterWrite}. */
  readonly writableKeys?: readonly string[];
  /**
   * Narrows every read of the endpoint's rows: get, list, `total`, hydration, FK checks,
   * `similar`, the records of update and delete (soft delete hides deleted rows here).
   */
  narrowReads?(qb: SelectQueryBuilder<ObjectLiteral>, alias: string, endpoint: ModelEndpoint, ctx: RequestContext, purpose: ReadPurpose): void;
  /**
   * Deletes the row in its own way (soft delete marks it) instead of the DELETE statement;
   * answers how many rows it changed (0 is a stale version: `409`).
   */
  deleteRow?(endpoint: ModelEndpoint, pk: unknown, version: unknown, ctx: RequestContext): Promise<number>;
  /** Inside the op's transaction, after the row is written (tags write theirs, audit logs the change). */
  afterWrite?(event: WriteEvent, ctx: RequestContext): Promise<void>;
  /**
   * Reads what {@link encode} will need in the statement that reads the records themselves (a
   * get, a list page, the record of a write and its read-back) instead of in a statement of its
   * own: adds its selects to `qb` (the records' query, `alias` its alias) and answers how to keep
   * each row's value with its record. Records read another way (hydration, `similar`) come
   * without it, so `encode` still reads what a record lacks. Tags are read along this way.
   * `rows` says whether the query reads one record (by pk) or a page of them: a feature may
   * read a page's values in a batch of its own instead (answer undefined), where that is cheaper.
   */
  readAlong?(qb: SelectQueryBuilder<ObjectLiteral>, alias: string, endpoint: ModelEndpoint, ctx: RequestContext, rows: ReadRows): RowKeeper | undefined;
  /** Adds members to encoded records, one batch per response (tags add `tags`). */
  encode?(endpoint: ModelEndpoint, records: ObjectLiteral[], encoded: ObjectLiteral[], ctx: RequestContext): Promise<void>;
  /** Its pieces of the OpenAPI document. */
  readonly openapi?: FeatureOpenApi;
}

/** Whether a query reads one record (by pk) or a page of them: some reads are cheaper one way for one and another for a page. */
export type ReadRows = "one" | "many";

/** Keeps what a feature read along (see {@link EndpointFeature.readAlong}) from a record's row. */
export type RowKeeper = (record: ObjectLiteral, row: ObjectLiteral) => void;

/** What a feature adds to the OpenAPI document of an endpoint. */
export interface FeatureOpenApi {
  /** Named schemas it refers to (`#/components/schemas/<name>`). */
  components?: Readonly<Record<string, FeatureSchema>>;
  /** Properties added to the record as it is answered. */
  readProperties?: Readonly<Record<string, FeatureSchema>>;
  /** Properties create and update take. */
  writeProperties?: Readonly<Record<string, FeatureSchema>>;
  /** The list filter parameters of one of its filters, for the operators an endpoint allows (undefined: all of them). */
  filterProperties?(name: string, ops: readonly string[] | undefined): Record<string, FeatureSchema>;
}

/** The features of an endpoint, in order, with the lookups the core needs. */
export class EndpointFeatures {
  readonly list: readonly EndpointFeature[];
  private readonly recordOps = new Map<string, FeatureRecordOp>();
  private readonly filters = new Map<string, FeatureFilter>();
  private readonly keys = new Set<string>();

  constructor(features: readonly EndpointFeature[], owner: string) {
    this.list = features;
    const names = new Set<string>();
    for (const feature of features) {
      if (names.has(feature.name)) throw new Error(`ajax-endpoints: ${owner} lists the feature "${feature.name}" twice`);
      names.add(feature.name);
      for (const [path, op] of Object.entries(feature.recordOps ?? {})) {
        if (this.recordOps.has(path)) throw new Error(`ajax-endpoints: two features of ${owner} add the record op "${path}"`);
        this.recordOps.set(path, op);
      }
      for (const [name, filter] of Object.entries(feature.filters ?? {})) this.filters.set(name, filter);
      for (const key of feature.writableKeys ?? []) this.keys.add(key);
    }
  }

  has(name: string): boolean {
    return this.list.some((feature) => feature.name === name);
  }

  /** The record op at a path below `<pk>/`, if a feature adds one. */
  recordOp(path: string): FeatureRecordOp | undefined {
    return this.recordOps.get(path);
  }

  /** Every record op a feature adds, by path. */
  allRecordOps(): ReadonlyMap<string, FeatureRecordOp> {
    return this.recordOps;
  }

  filter(name: string): FeatureFilter | undefined {
    return this.filters.get(name);
  }

  takesKey(key: string): boolean {
    return this.keys.has(key);
  }
}
