import type { ObjectLiteral, SelectQueryBuilder } from "typeorm";
import { AJAXError, fieldErrors, Messages } from "../errors";
import type { RequestContext } from "../context";
import { queryTemplates } from "../db/compiled";
import { coerceValue } from "./coerce";
import { applyKeyset, decodeCursor, encodeCursor, keysetColumns } from "./cursor";
import { containsSql, dialectOf, escapeLike, iContainsSql, startsWithSql } from "./dialect";
import type { ModelEndpoint } from "./endpoint";
import type { FieldRule } from "./fields";
import { loadRecordsWithAnswers } from "./joined";
import { applySearch, checkSearchIndex } from "../search/query";
import { readSearchText, type SearchTerms } from "../search/terms";

export const FILTER_OPS = ["eq", "ne", "lt", "lte", "gt", "gte", "in", "contains", "icontains", "startswith", "isnull"] as const;
/** A comparison a list filter may use: `filter[<field>__<op>]`. */
export type FilterOp = (typeof FILTER_OPS)[number];

const LIST_PARAMS: ReadonlySet<string> = new Set(["current_page", "items_per_page", "order", "filter", "search", "count", "cursor"]);
/** The ordering that puts the best search match first; only with a search. */
export const RELEVANCE_ORDER = "relevance";
const TEXT_OPS: ReadonlySet<FilterOp> = new Set(["contains", "icontains", "startswith"]);
const MAX_IN_VALUES = 100;
/**
 * The longest text a `contains`, `icontains` or `startswith` filter may hold.
 * SQLite refuses LIKE patterns over 50,000 bytes with an error: past this, a clear 400.
 */
export const MAX_PATTERN_LENGTH = 1000;
const patternTooLong = `Ensure this value has at most ${MAX_PATTERN_LENGTH} characters.`;
/** PostgreSQL refuses text with U+0000 in it (an error, not a miss): a 400 before it gets there. */
const nullCharacter = "Null characters are not allowed.";

/** A list request, parsed and checked. */
export interface ListQuery {
  page: number;
  perPage: number;
  /** Fields, or the search's relevance (`rule` unset: best match first). */
  order: Array<{ rule?: FieldRule; descending: boolean }>;
  filters: Array<{ field: string; rule?: FieldRule; op: string; value: unknown }>;
  /** The words of `search`, or null for no search. */
  search: SearchTerms | null;
  /** `count=none`: answer `total: null` and skip counting. */
  count: boolean;
  /** Keyset paging: `""` for the first page, then the `next_cursor` of the page before. Unset: offset paging. */
  cursor?: string;
}

function allowedOps(endpoint: ModelEndpoint, field: string): readonly string[] | undefined {
  const config = endpoint.filterFields;
  if (Array.isArray(config)) return config.includes(field) ? FILTER_OPS : undefined;
  return Object.prototype.hasOwnProperty.call(config, field) ? (config as Record<string, readonly FilterOp[]>)[field] : undefined;
}

function parseInteger(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isSafeInteger(value)) return value;
  if (typeof value === "string" && /^-?\d{1,9}$/.test(value.trim())) return Number(value.trim());
  return undefined;
}

function parseFilterValue(rule: FieldRule, op: string, raw: unknown, fromForm: boolean): { value?: unknown; error?: string } {
  if (op === "isnull") {
    const coerced = coerceValue(raw, { kind: "boolean", nullable: false, fromForm });
    return coerced.ok ? { value: coerced.value } : { error: coerced.message };
  }
  if (TEXT_OPS.has(op as FilterOp)) {
    if (rule.kind !== "text") return { error: `"${op}" works on text fields only.` };
    if (typeof raw !== "string") return { error: "Not a valid string." };
    if (raw.includes("\u0000")) return { error: nullCharacter };
    return raw.length > MAX_PATTERN_LENGTH ? { error: patternTooLong } : { value: raw };
  }
  const options = { kind: rule.kind, nullable: false, fromForm, maxLength: undefined, range: rule.range };
  if (op === "in") {
    const items = Array.isArray(raw) ? raw : typeof raw === "string" ? raw.split(",") : [raw];
    if (items.length > MAX_IN_VALUES) return { error: `At most ${MAX_IN_VALUES} values.` };
    const values: unknown[] = [];
    for (const item of items) {
      const coerced = coerceValue(typeof item === "string" ? item.trim() : item, options);
      if (!coerced.ok) return { error: coerced.message };
      values.push(coerced.value);
    }
    return { value: values };
  }
  const coerced = coerceValue(raw, options);
  return coerced.ok ? { value: coerced.value } : { error: coerced.message };
}

/** Checks a list request against the endpoint's allow-lists; anything not allowed is a `400`. */
export function parseListQuery(endpoint: ModelEndpoint, params: Record<string, unknown>, fromForm: boolean): ListQuery {
  const errors = fieldErrors();
  const addError = (field: string, message: string) => { (errors[field] ??= []).push(message); };
  for (const key of Object.keys(params)) if (!LIST_PARAMS.has(key)) addError(key, Messages.unknownField);

  const page = params.current_page === undefined ? 1 : parseInteger(params.current_page);
  if (page === undefined) addError("current_page", "A valid integer is required.");
  const requested = params.items_per_page === undefined ? endpoint.defaultPerPage : parseInteger(params.items_per_page);
  if (requested === undefined) addError("items_per_page", "A valid integer is required.");
  const perPage = Math.min(Math.max(requested ?? 1, 1), endpoint.maxPerPage);

  const order: ListQuery["order"] = [];
  const orderText = params.order ?? endpoint.defaultOrder;
  if (orderText !== undefined) {
    const parts = Array.isArray(orderText) ? orderText : typeof orderText === "string" ? orderText.split(",") : null;
    if (!parts || parts.length > 10) addError("order", "Must be a comma-separated list of at most 10 fields.");
    for (const part of parts ?? []) {
      const text = typeof part === "string" ? part.trim() : "";
      if (text === RELEVANCE_ORDER) {
        if (params.search === undefined) addError("order", `"${RELEVANCE_ORDER}" needs a search.`);
        else order.push({ descending: false });
        continue;
      }
      const descending = text.startsWith("-");
      const name = descending ? text.slice(1) : text;
      const rule = endpoint.orderFields.includes(name) ? endpoint.rules.readableField(name) : undefined;
      if (!rule) addError("order", `Cannot order by "${String(part)}".`);
      else order.push({ rule, descending });
    }
  }

  const filters: ListQuery["filters"] = [];
  if (params.filter !== undefined) {
    if (params.filter === null || typeof params.filter !== "object" || Array.isArray(params.filter)) {
      addError("filter", "Must be an object of field filters.");
    } else {
      for (const [key, raw] of Object.entries(params.filter as Record<string, unknown>)) {
        const split = key.lastIndexOf("__");
        const field = split > 0 ? key.slice(0, split) : key;
        const op = split > 0 ? key.slice(split + 2) : "eq";
        const ops = allowedOps(endpoint, field);
        const errorKey = `filter.${key}`;
        if (endpoint.featureSet.filter(field) && ops) {
          filters.push({ field, op, value: raw });
          continue;
        }
        const rule = ops ? endpoint.rules.readableField(field) : undefined;
        if (!rule || !ops) { addError(errorKey, `Filtering on "${field}" is not allowed.`); continue; }
        if (!(FILTER_OPS as readonly string[]).includes(op) || !ops.includes(op)) { addError(errorKey, `Filter operator "${op}" is not allowed.`); continue; }
        if (raw !== null && typeof raw === "object" && !(op === "in" && Array.isArray(raw))) { addError(errorKey, "Not a valid value."); continue; }
        const parsed = parseFilterValue(rule, op, raw, fromForm);
        if (parsed.error) addError(errorKey, parsed.error);
        else filters.push({ field, rule, op, value: parsed.value });
      }
    }
  }

  let search: SearchTerms | null = null;
  if (params.search !== undefined) {
    const read = readSearchText(params.search);
    if (endpoint.searchFields.length === 0) addError("search", "This list cannot be searched.");
    else if ("error" in read) addError("search", read.error);
    else search = read.terms;
  }
  const count = params.count === undefined || params.count === "exact";
  if (!count && params.count !== "none") addError("count", 'Must be "exact" or "none".');
  const cursor = params.cursor;
  if (cursor !== undefined && typeof cursor !== "string") addError("cursor", "Must be a string: \"\" for the first page, then next_cursor.");
  if (cursor !== undefined && params.current_page !== undefined) addError("cursor", "Give current_page or cursor, not both.");
  if (Object.keys(errors).length > 0) throw new AJAXError(400, Messages.invalid, { errors });
  return { page: page!, perPage, order, filters, search, count, cursor: cursor as string | undefined };
}

const COMPARATORS: Record<string, string> = { eq: "=", ne: "<>", lt: "<", lte: "<=", gt: ">", gte: ">=" };

/** The SQL of a search's relevance, and which direction puts the best match first. */
export type Relevance = { rank: string; descending: boolean };

/** Adds the parsed filters and search of a list to a query of the endpoint's entity; answers the search's relevance. */
export function applyFilters(qb: SelectQueryBuilder<ObjectLiteral>, endpoint: ModelEndpoint, query: ListQuery): Relevance | undefined {
  const dialect = dialectOf(endpoint.runtime.dataSource);
  const alias = qb.escape(qb.alias);
  const driver = endpoint.runtime.dataSource.driver;
  query.filters.forEach((filter, index) => {
    const param = `filter${index}`;
    if (!filter.rule) {
      const custom = endpoint.featureSet.filter(filter.field)!;
      const error = custom(qb, filter.op, filter.value, endpoint, index);
      if (error) throw new AJAXError(400, Messages.invalid, { errors: { [`filter.${filter.field}__${filter.op}`]: [error] } });
      return;
    }
    const column = `${alias}.${qb.escape(filter.rule.column.databaseName)}`;
    const persist = (value: unknown) => driver.preparePersistentValue(value, filter.rule!.relation ? filter.rule!.targetPk! : filter.rule!.column);
    switch (filter.op) {
      case "isnull": qb.andWhere(`${column} IS ${filter.value ? "" : "NOT "}NULL`); break;
      case "in": {
        const values = (filter.value as unknown[]).map(persist);
        if (values.length === 0) qb.andWhere("1 = 0");
        else qb.andWhere(`${column} IN (:...${param})`, { [param]: values });
        break;
      }
      case "contains": qb.andWhere(containsSql(dialect, column, `:${param}`), { [param]: filter.value }); break;
      case "startswith": qb.andWhere(startsWithSql(dialect, column, `:${param}`), { [param]: filter.value }); break;
      case "icontains": qb.andWhere(iContainsSql(dialect, column, `:${param}`), { [param]: `%${escapeLike(String(filter.value).toLowerCase())}%` }); break;
      default: qb.andWhere(`${column} ${COMPARATORS[filter.op]} :${param}`, { [param]: persist(filter.value) });
    }
  });
  return query.search ? applySearch(qb, endpoint, query.search) : undefined;
}

/** Orders a list by the requested fields, then by pk so that pages are stable. */
export function applyOrder(qb: SelectQueryBuilder<ObjectLiteral>, endpoint: ModelEndpoint, query: ListQuery, relevance?: Relevance): void {
  const alias = qb.escape(qb.alias);
  const pk = endpoint.rules.pk;
  let first = true;
  const add = (rule: FieldRule | undefined, descending: boolean) => {
    // Without a rule: the search's relevance, best first (parseListQuery allows it only with a
    // search; a search of punctuation only has no words, hence no relevance, and orders by the rest).
    if (!rule && !relevance) return;
    const expression = rule ? `${alias}.${qb.escape(rule.column.databaseName)}` : relevance!.rank;
    if (!rule) descending = relevance!.descending;
    if (first) qb.orderBy(expression, descending ? "DESC" : "ASC");
    else qb.addOrderBy(expression, descending ? "DESC" : "ASC");
    first = false;
  };
  for (const { rule, descending } of query.order) add(rule, descending);
  // The pk breaks ties in the direction of the last field, so that one index, e.g. (createdAt) with
  // the pk in it, walked backwards, serves "-createdAt" and stops at the page; a mixed direction
  // (createdAt DESC, id ASC) makes MariaDB sort every row first.
  const last = query.order[query.order.length - 1];
  if (!query.order.some(({ rule }) => rule === pk)) add(pk, last?.rule ? last.descending : false);
}

/**
 * What a list query matches, with its parameters bound: `COUNT(*)` when the query joins
 * nothing (each row is one record), else distinct pks as TypeORM's `getCount` counts them (a
 * join can repeat a record); the distinct count needs a temporary index of every match.
 */
async function countRows(qb: SelectQueryBuilder<ObjectLiteral>, endpoint: ModelEndpoint, ctx: RequestContext): Promise<number> {
  const pk = `${qb.escape(qb.alias)}.${qb.escape(endpoint.rules.pk.column.databaseName)}`;
  const joins = qb.expressionMap.joinAttributes.length > 0;
  const counting = qb.clone().select(joins ? `COUNT(DISTINCT(${pk}))` : "COUNT(*)", "cnt").orderBy();
  const [row] = await queryTemplates(endpoint.runtime.dataSource).rawRows(counting, ctx.manager);
  return Number(row?.cnt ?? 0);
}

/** A page of a list: the records, the total (null with `count=none`), and where the next page starts (keyset paging). */
export interface ListResult {
  records: ObjectLiteral[];
  total: number | null;
  query: ListQuery;
  /** With `cursor`: the next page's cursor, null on the last page. */
  nextCursor?: string | null;
}

/** The list op: a page of what the user may see, its total (null with `count=none`), hydrated. */
export async function listPage(endpoint: ModelEndpoint, ctx: RequestContext): Promise<ListResult> {
  const query = parseListQuery(endpoint, ctx.params, ctx.fromForm);
  if (query.search) await checkSearchIndex(endpoint, ctx.manager);
  const qb = endpoint.reader.query(ctx.manager, "item");
  endpoint.narrowToVisible(qb, ctx, "list");
  const relevance = applyFilters(qb, endpoint, query);
  const total = query.count ? await countRows(qb, endpoint, ctx) : null;
  if (query.cursor !== undefined) {
    const columns = keysetColumns(endpoint, query);
    const key = endpoint.runtime.signingKey;
    if (query.cursor !== "") applyKeyset(qb, endpoint, columns, decodeCursor(endpoint, query, columns, query.cursor, key));
    applyOrder(qb, endpoint, query, relevance);
    // One row more than the page tells whether there is a next page, without counting.
    const rows = await loadRecordsWithAnswers(endpoint, qb.limit(query.perPage + 1), ctx, "many");
    const records = rows.slice(0, query.perPage);
    const nextCursor = rows.length > query.perPage ? encodeCursor(endpoint, query, columns, records[records.length - 1]!, key) : null;
    return { records, total, query, nextCursor };
  }
  const offset = (query.page - 1) * query.perPage;
  if (query.page < 1 || (total !== null && offset >= total)) return { records: [], total, query };
  applyOrder(qb, endpoint, query, relevance);
  qb.offset(offset).limit(query.perPage);
  return { records: await loadRecordsWithAnswers(endpoint, qb, ctx, "many"), total, query };
}
