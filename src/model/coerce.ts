import type { ColumnMetadata } from "typeorm/metadata/ColumnMetadata";

/** What a column holds, as far as the wire is concerned. */
export type ValueKind = "integer" | "number" | "decimal" | "boolean" | "date" | "datetime" | "json" | "uuid" | "text";

const INTEGER_TYPES: ReadonlySet<string> = new Set(["int", "integer", "smallint", "tinyint", "mediumint", "int2", "int4", "int8", "bigint",
  "smallint unsigned", "int unsigned", "integer unsigned"]);
const NUMBER_TYPES: ReadonlySet<string> = new Set(["float", "double", "real", "double precision", "float4", "float8"]);
const DECIMAL_TYPES: ReadonlySet<string> = new Set(["decimal", "numeric", "dec", "fixed", "money"]);
const BOOLEAN_TYPES: ReadonlySet<string> = new Set(["boolean", "bool"]);
const DATETIME_TYPES: ReadonlySet<string> = new Set(["datetime", "datetime2", "timestamp", "timestamptz", "timestamp with time zone",
  "timestamp without time zone", "datetimeoffset"]);
const JSON_TYPES: ReadonlySet<string> = new Set(["json", "jsonb", "simple-json"]);

/** Reads a column's kind from its TypeORM metadata, once, at registration. */
export function valueKindOf(column: ColumnMetadata): ValueKind {
  const type = column.type;
  if (type === Number) return column.generationStrategy === "uuid" ? "uuid" : "integer";
  if (type === Boolean) return "boolean";
  if (type === Date) return "datetime";
  if (type === String) return column.generationStrategy === "uuid" ? "uuid" : "text";
  const name = String(typeof type === "function" ? (type as { name?: string }).name : type).toLowerCase();
  if (INTEGER_TYPES.has(name)) return "integer";
  if (NUMBER_TYPES.has(name)) return "number";
  if (DECIMAL_TYPES.has(name)) return "decimal";
  if (BOOLEAN_TYPES.has(name)) return "boolean";
  if (DATETIME_TYPES.has(name)) return "datetime";
  if (name === "date") return "date";
  if (JSON_TYPES.has(name)) return "json";
  if (name === "uuid") return "uuid";
  return "text";
}

/** The values an integer column can hold. */
export interface IntegerRange {
  min: number;
  max: number;
}

const INT32: IntegerRange = { min: -2147483648, max: 2147483647 };
const INTEGER_RANGES: Record<string, IntegerRange> = {
  int: INT32, integer: INT32, int4: INT32, number: INT32,
  smallint: { min: -32768, max: 32767 }, int2: { min: -32768, max: 32767 },
  tinyint: { min: -128, max: 127 }, mediumint: { min: -8388608, max: 8388607 },
  "int unsigned": { min: 0, max: 4294967295 }, "integer unsigned": { min: 0, max: 4294967295 },
  "smallint unsigned": { min: 0, max: 65535 },
};

/**
 * The range of an integer column by its declared type (`integer` is 32 bits on PostgreSQL and
 * MariaDB), so that a value past it is a 400 (or a 404 as a pk) instead of a database error.
 * Undefined for other columns; bigint is limited by JavaScript's safe integers anyway.
 */
export function integerRangeOf(column: ColumnMetadata): IntegerRange | undefined {
  const type = column.type;
  const name = String(typeof type === "function" ? (type as { name?: string }).name : type).toLowerCase();
  const range = INTEGER_RANGES[name];
  return range && column.unsigned && range.min < 0 ? { min: 0, max: range.max * 2 + 1 } : range;
}

/** The result of coercing one value. */
export type Coerced = { ok: true; value: unknown } | { ok: false; message: string };

const ok = (value: unknown): Coerced => ({ ok: true, value });
const fail = (message: string): Coerced => ({ ok: false, message });

const INTEGER_TEXT = /^-?\d{1,16}$/;
const DECIMAL_TEXT = /^-?\d{1,30}(\.\d{1,30})?$/;
const DATE_TEXT = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME_TEXT = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;
const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TRUE_WORDS: ReadonlySet<string> = new Set(["true", "1", "on", "yes"]);
const FALSE_WORDS: ReadonlySet<string> = new Set(["false", "0", "off", "no"]);

function coerceInteger(value: unknown): Coerced {
  if (typeof value === "number") {
    return Number.isSafeInteger(value) ? ok(value) : fail("A valid integer is required.");
  }
  if (typeof value === "string" && INTEGER_TEXT.test(value.trim())) {
    const parsed = Number(value.trim());
    if (Number.isSafeInteger(parsed)) return ok(parsed === 0 ? 0 : parsed);
  }
  return fail("A valid integer is required.");
}

function coerceNumber(value: unknown): Coerced {
  const parsed = typeof value === "number" ? value
    : typeof value === "string" && value.trim() !== "" && /^[-+0-9.eE]+$/.test(value.trim()) ? Number(value) : NaN;
  return Number.isFinite(parsed) ? ok(parsed) : fail("A valid number is required.");
}

function coerceDecimal(value: unknown): Coerced {
  const text = typeof value === "number" && Number.isFinite(value) ? String(value) : typeof value === "string" ? value.trim() : "";
  return DECIMAL_TEXT.test(text) ? ok(text) : fail("A valid decimal number is required.");
}

/**
 * A boolean as every part of the framework reads one: `true`/`false`, `1`/`0`, and the words
 * true, 1, on, yes and false, 0, off, no (any case, spaces around); undefined for anything else.
 */
export function readBoolean(value: unknown): boolean | undefined {
  if (typeof value === "boolean") return value;
  if (value === 1 || value === 0) return value === 1;
  if (typeof value === "string") {
    const word = value.trim().toLowerCase();
    if (TRUE_WORDS.has(word)) return true;
    if (FALSE_WORDS.has(word)) return false;
  }
  return undefined;
}

function coerceBoolean(value: unknown): Coerced {
  const read = readBoolean(value);
  return read === undefined ? fail("Must be a valid boolean.") : ok(read);
}

function coerceDate(value: unknown): Coerced {
  const match = typeof value === "string" ? DATE_TEXT.exec(value.trim()) : null;
  if (match) {
    const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
    if (date.getUTCDate() === Number(match[3]) && date.getUTCMonth() === Number(match[2]) - 1) return ok(match[0]);
  }
  return fail("Date has wrong format. Use YYYY-MM-DD.");
}

function coerceDatetime(value: unknown): Coerced {
  if (typeof value === "string" && DATETIME_TEXT.test(value.trim())) {
    const text = value.trim();
    // JavaScript moves an impossible day or hour on ("02-30" becomes March 2): refuse it instead.
    const time = /[T ](\d{2}):(\d{2})(?::(\d{2}))?/.exec(text);
    const impossibleTime = time !== null && (Number(time[1]) > 23 || Number(time[2]) > 59 || Number(time[3] ?? 0) > 59);
    if (!coerceDate(text.slice(0, 10)).ok || impossibleTime) return fail("Datetime has wrong format. Use ISO 8601, e.g. 2026-11-21T10:00:00Z.");
    // A time without an offset is read as UTC, never as the server's local time.
    const hasOffset = /(?:Z|[+-]\d{2}:?\d{2})$/.test(text) && text.length > 10;
    const date = new Date(hasOffset ? text : text.length === 10 ? `${text}T00:00:00Z` : `${text.replace(" ", "T")}Z`);
    if (!Number.isNaN(date.getTime())) return ok(date);
  }
  return fail("Datetime has wrong format. Use ISO 8601, e.g. 2026-11-21T10:00:00Z.");
}

function coerceJson(value: unknown, fromForm: boolean): Coerced {
  if (!fromForm || typeof value !== "string") return ok(value);
  try {
    return ok(JSON.parse(value));
  } catch {
    return fail("Value must be valid JSON.");
  }
}

function coerceText(value: unknown, maxLength: number | undefined, allowBlank: boolean): Coerced {
  if (typeof value !== "string") return fail("Not a valid string.");
  if (!allowBlank && value.trim() === "") return fail("This field may not be blank.");
  if (value.includes("\u0000")) return fail("Null characters are not allowed.");
  if (maxLength !== undefined && [...value].length > maxLength) {
    return fail(`Ensure this field has no more than ${maxLength} characters.`);
  }
  return ok(value);
}

/** Options for {@link coerceValue}. */
export interface CoerceOptions {
  kind: ValueKind;
  nullable: boolean;
  maxLength?: number;
  enumValues?: readonly unknown[];
  /** For integers: the column's range. */
  range?: IntegerRange;
  /** For text: whether an empty or all-space string is a value (DRF's `allow_blank`); default true. */
  allowBlank?: boolean;
  /** The value came from a form or multipart body, where everything is a string. */
  fromForm: boolean;
}

/**
 * Turns a value from a request body into what the column stores, or says why it can't.
 * `""` means null only for nullable non-text columns; `null` means null for nullable ones.
 */
export function coerceValue(value: unknown, options: CoerceOptions): Coerced {
  const { kind, nullable } = options;
  if (value === null || (value === "" && kind !== "text")) {
    if (nullable) return ok(null);
    return value === null ? fail("This field may not be null.") : fail("This field may not be blank.");
  }
  if (value === undefined) return fail("This field is required.");
  let result: Coerced;
  switch (kind) {
    case "integer": result = coerceInteger(value); break;
    case "number": result = coerceNumber(value); break;
    case "decimal": result = coerceDecimal(value); break;
    case "boolean": result = coerceBoolean(value); break;
    case "date": result = coerceDate(value); break;
    case "datetime": result = coerceDatetime(value); break;
    case "json": result = coerceJson(value, options.fromForm); break;
    case "uuid": result = typeof value === "string" && UUID_TEXT.test(value) ? ok(value.toLowerCase()) : fail("Must be a valid UUID."); break;
    default: result = coerceText(value, options.maxLength, options.allowBlank !== false);
  }
  if (result.ok && options.range && typeof result.value === "number") {
    if (result.value > options.range.max) return fail(`Ensure this value is less than or equal to ${options.range.max}.`);
    if (result.value < options.range.min) return fail(`Ensure this value is greater than or equal to ${options.range.min}.`);
  }
  if (result.ok && options.enumValues && !options.enumValues.map(String).includes(String(result.value))) {
    return fail(`"${String(result.value)}" is not a valid choice.`);
  }
  return result;
}

/**
 * Parses a primary key from a URL segment by the key's kind, or returns `undefined`
 * (which the caller answers with `404`): integers are digits only, within the safe range.
 */
export function parsePkSegment(segment: string, kind: ValueKind, maxLength?: number, range?: IntegerRange): unknown {
  switch (kind) {
    case "integer": {
      if (!/^\d{1,16}$/.test(segment)) return undefined;
      const value = Number(segment);
      return Number.isSafeInteger(value) && (!range || value <= range.max) ? value : undefined;
    }
    case "uuid":
      return UUID_TEXT.test(segment) ? segment.toLowerCase() : undefined;
    case "text":
      return segment.length > 0 && segment.length <= (maxLength ?? 255) && !segment.includes("\u0000") ? segment : undefined;
    default:
      return undefined;
  }
}

/** Equality of two stored values, for "is this read-only field unchanged". */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Date || b instanceof Date) {
    const ta = a instanceof Date ? a.getTime() : typeof a === "string" ? new Date(a).getTime() : NaN;
    const tb = b instanceof Date ? b.getTime() : typeof b === "string" ? new Date(b).getTime() : NaN;
    return ta === tb;
  }
  if (a !== null && b !== null && typeof a === "object" && typeof b === "object") {
    return JSON.stringify(a) === JSON.stringify(b);
  }
  return a === b || (a !== null && b !== null && a !== undefined && b !== undefined && String(a) === String(b) && typeof a !== typeof b);
}
