import type { ObjectLiteral } from "typeorm";
import type { AppUser } from "../adhoc";
import { ModelEndpoint, type ModelOpName } from "./endpoint";
import type { EndpointFeature } from "./feature";
import type { FilterOp } from "./list";

/** A property name of an entity. */
export type FieldOf<T> = Extract<keyof T, string>;

/**
 * Names a feature filters on that are not fields (`tags`). A feature adds its own by
 * declaration merging: `declare module "ajax-endpoints" { interface FeatureFilterNames { tags: true } }`.
 */
export interface FeatureFilterNames {}

/** What `filterFields` of {@link modelEndpoint} may name: a field, or a feature's filter. */
export type FilterName<T> = FieldOf<T> | Extract<keyof FeatureFilterNames, string>;

/**
 * The settings of a model endpoint as {@link modelEndpoint} takes them: the same as the class
 * fields of {@link ModelEndpoint}, with every field name checked against the entity and every
 * op and filter operator against the known ones, at compile time, without `as const`.
 */
export interface ModelEndpointConfig<T> {
  ops?: readonly ModelOpName[];
  fields?: readonly FieldOf<T>[];
  hiddenFields?: readonly FieldOf<T>[];
  readOnlyFields?: readonly FieldOf<T>[];
  serverSetFields?: readonly FieldOf<T>[];
  notSecretFields?: readonly FieldOf<T>[];
  ownerField?: FieldOf<T>;
  /** A list (every operator) or a map to the allowed operators; a feature's filter (`tags`) too. */
  filterFields?: readonly FilterName<T>[] | { readonly [K in FilterName<T>]?: readonly (FilterOp | "all" | "any" | "none")[] };
  orderFields?: readonly FieldOf<T>[];
  /** e.g. `"-createdAt"`. */
  defaultOrder?: `${"" | "-"}${FieldOf<T>}`;
  searchFields?: readonly FieldOf<T>[];
  defaultPerPage?: number;
  maxPerPage?: number;
  depth?: number;
  hydrate?: readonly FieldOf<T>[];
  features?: readonly EndpointFeature[];
  requireVersion?: boolean;
}

/**
 * A model endpoint class for an entity, configured with names checked at compile time. Extend
 * it to override hooks, as with a hand-written {@link ModelEndpoint} subclass.
 *
 * @example
 * export class CommentEndpoint extends modelEndpoint(Comment, {
 *   ownerField: "author",
 *   filterFields: { article: ["eq", "in"] },   // "artcle" or "equals" would not compile
 *   ops: ["get", "list", "create"],
 * }) {
 *   override canDelete() { return false; }
 * }
 */
export function modelEndpoint<T extends ObjectLiteral, U = AppUser>(
  entity: abstract new (...args: never[]) => T, config: ModelEndpointConfig<T> = {},
): new () => ModelEndpoint<T, U> {
  const settings = { ...config };
  return class extends ModelEndpoint<T, U> {
    constructor() {
      super();
      this.entity = entity as never;
      Object.assign(this, settings);
    }
  };
}
