import type { ObjectSchema, Schema } from "joi";
import parseJoi from "joi-to-json";
import type { ValueKind } from "../model/coerce";
import type { FieldRule } from "../model/fields";

/** A JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1) as a plain object. */
export type JsonSchema = { [keyword: string]: unknown };

/** A reference to a schema of `components.schemas`. */
export function schemaRef(name: string): JsonSchema {
  return { $ref: `#/components/schemas/${name}` };
}

/** `"blog"` → `"Blog"`, `"say_hi"` → `"SayHi"`: names of components and generated types. */
export function pascalCase(name: string): string {
  return name.split(/[^A-Za-z0-9]+/).filter(Boolean).map((part) => part[0]!.toUpperCase() + part.slice(1)).join("");
}

const BIG_INTEGER_TYPES: ReadonlySet<string> = new Set(["bigint", "int8", "bigint unsigned"]);

/**
 * The wire form of a value of one kind (CONTRACT.md §4): dates as ISO 8601 strings, decimals as
 * strings, big integers as the driver gives them (a number or a string).
 */
function kindSchema(kind: ValueKind, rule?: FieldRule): JsonSchema {
  switch (kind) {
    case "integer": {
      const type = rule && typeof rule.column.type === "string" ? rule.column.type.toLowerCase() : "";
      return BIG_INTEGER_TYPES.has(type) ? { type: ["integer", "string"], pattern: "^-?\\d+$" } : { type: "integer" };
    }
    case "number": return { type: "number" };
    case "decimal": return { type: "string", pattern: "^-?\\d+(\\.\\d+)?$" };
    case "boolean": return { type: "boolean" };
    case "date": return { type: "string", format: "date" };
    case "datetime": return { type: "string", format: "date-time" };
    case "uuid": return { type: "string", format: "uuid" };
    case "json": return {};
    case "text": return rule?.maxLength !== undefined ? { type: "string", maxLength: rule.maxLength } : { type: "string" };
  }
}

/** Adds `null` to what a schema allows. */
export function orNull(schema: JsonSchema): JsonSchema {
  if (Object.keys(schema).length === 0) return schema;
  if (typeof schema.type === "string") return { ...schema, type: [schema.type, "null"] };
  if (Array.isArray(schema.type)) return { ...schema, type: [...schema.type, "null"] };
  if (Array.isArray(schema.oneOf)) return { ...schema, oneOf: [...schema.oneOf, { type: "null" }] };
  return { oneOf: [schema, { type: "null" }] };
}

/** The schema of a primary key (or of a relation's target key) by its kind. */
export function pkSchema(rule: FieldRule): JsonSchema {
  return kindSchema(rule.kind, rule.relation ? undefined : rule);
}

/** A column's value as responses carry it. */
export function columnSchema(rule: FieldRule): JsonSchema {
  const schema = kindSchema(rule.kind, rule);
  if (rule.enumValues && rule.enumValues.length > 0) schema.enum = [...rule.enumValues];
  return rule.nullable ? orNull(schema) : schema;
}

/**
 * A field's value as create and update bodies take it. Values may also come as form strings,
 * which the server coerces by the column's kind; the schema says what they mean.
 */
export function writeSchema(rule: FieldRule): JsonSchema {
  const schema: JsonSchema = rule.relation ? pkSchema(rule) : kindSchema(rule.kind, rule);
  if (rule.kind === "datetime") schema.description = "RFC 3339 (`2026-11-21T10:00:00Z`); the server also takes ISO 8601 without an offset, as UTC.";
  if (!rule.relation && rule.enumValues && rule.enumValues.length > 0) schema.enum = [...rule.enumValues];
  if (rule.relation) schema.description = `The pk of a ${rule.relation.inverseEntityMetadata.name} the caller may see.`;
  return rule.nullable ? orNull(schema) : schema;
}

/** The value of a filter `<field>__<op>`: the field's own kind, a list for `in`, a flag for `isnull`. */
export function filterValueSchema(rule: FieldRule, op: string): JsonSchema {
  const value = rule.relation ? pkSchema(rule) : kindSchema(rule.kind, rule);
  if (op === "isnull") return { type: "boolean" };
  if (op === "contains" || op === "icontains" || op === "startswith") return { type: "string" };
  if (op === "in") {
    return { oneOf: [{ type: "array", items: value, maxItems: 100 }, { type: "string", description: "Comma-separated values." }] };
  }
  return value;
}

/**
 * A joi schema of a body as JSON Schema, by joi-to-json's OpenAPI 3.1 parser. A body without a
 * schema is any object.
 */
export function paramsSchema(schema: ObjectSchema | undefined): JsonSchema {
  if (!schema) return { type: "object", additionalProperties: true };
  return parseJoi(schema as never, "open-api-3.1") as JsonSchema;
}

/** A joi schema of an answer's `data` (an endpoint's `returns`) as JSON Schema. */
export function returnsSchema(schema: Schema): JsonSchema {
  return parseJoi(schema as never, "open-api-3.1") as JsonSchema;
}

/** A value of a field's kind that the server accepts, for examples ("Try it out" sends them). */
export function exampleValue(rule: FieldRule): unknown {
  if (rule.enumValues && rule.enumValues.length > 0) return rule.enumValues[0];
  // A relation's kind is its target's primary key's.
  switch (rule.kind) {
    case "integer": return 1;
    case "number": return 1.5;
    case "decimal": return "1.50";
    case "boolean": return true;
    case "date": return "2026-11-21";
    case "datetime": return "2026-11-21T10:00:00Z";
    case "uuid": return "00000000-0000-4000-8000-000000000001";
    case "json": return {};
    case "text": return rule.maxLength !== undefined && rule.maxLength < 7 ? "x" : "example";
  }
}
