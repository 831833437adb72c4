import type { JsonSchema } from "./schemas";

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const REF_PREFIX = "#/components/schemas/";

/** A property name as TypeScript writes it: bare when it can be, quoted otherwise. */
export function propertyKey(name: string): string {
  return IDENTIFIER.test(name) ? name : JSON.stringify(name);
}

/** A JSDoc comment for a description, or nothing. */
function docComment(description: unknown, indent: string): string {
  if (typeof description !== "string" || description.trim() === "") return "";
  const text = description.replace(/\*\//g, "*\\/").split("\n").map((line) => line.trimEnd());
  if (text.length === 1) return `${indent}/** ${text[0]} */\n`;
  return `${indent}/**\n${text.map((line) => `${indent} * ${line}`).join("\n")}\n${indent} */\n`;
}

/**
 * Writes TypeScript types for the JSON Schemas of an OpenAPI 3.1 document: the subset that
 * the framework's documents and joi-to-json produce (`$ref` to components, `type` and type
 * lists, `const`, `enum`, `oneOf`/`anyOf` as unions, `allOf` of objects merged, objects with
 * `properties`, `required` and `additionalProperties`, arrays). Anything else is `unknown`,
 * never a guess.
 */
export class TypeWriter {
  constructor(private readonly components: Record<string, JsonSchema>) {}

  /** The component a `$ref` names, or undefined. */
  resolve(schema: JsonSchema): JsonSchema | undefined {
    const ref = schema.$ref;
    if (typeof ref !== "string") return schema;
    return ref.startsWith(REF_PREFIX) ? this.components[ref.slice(REF_PREFIX.length)] : undefined;
  }

  /** The TypeScript name of a component. */
  typeName(component: string): string {
    const name = component.replace(/[^A-Za-z0-9_$]/g, "_");
    return /^[0-9]/.test(name) ? `_${name}` : name;
  }

  /** Every component as an exported type alias. */
  declarations(): string {
    return Object.entries(this.components)
      .map(([name, schema]) => `${docComment(schema.description, "")}export type ${this.typeName(name)} = ${this.type(schema, "")};\n`)
      .join("\n");
  }

  /** The type of a schema, written at an indentation. */
  type(schema: JsonSchema | boolean | undefined, indent: string): string {
    if (schema === undefined || schema === true) return "unknown";
    if (schema === false) return "never";
    if (typeof schema.$ref === "string") {
      return schema.$ref.startsWith(REF_PREFIX) ? this.typeName(schema.$ref.slice(REF_PREFIX.length)) : "unknown";
    }
    if ("const" in schema) return literal(schema.const);
    if (Array.isArray(schema.enum)) return union(schema.enum.map(literal));
    const choices = (schema.oneOf ?? schema.anyOf) as JsonSchema[] | undefined;
    if (Array.isArray(choices)) return union(choices.map((choice) => this.type(choice, indent)));
    if (Array.isArray(schema.allOf)) return this.allOf(schema.allOf as JsonSchema[], indent);
    const types = Array.isArray(schema.type) ? (schema.type as string[]) : typeof schema.type === "string" ? [schema.type] : [];
    if (types.length === 0) return schema.properties ? this.object(schema, indent) : "unknown";
    return union(types.map((type) => this.primitive(type, schema, indent)));
  }

  private primitive(type: string, schema: JsonSchema, indent: string): string {
    switch (type) {
      case "string": return "string";
      case "integer":
      case "number": return "number";
      case "boolean": return "boolean";
      case "null": return "null";
      case "array": {
        const items = this.type(schema.items as JsonSchema | undefined, indent);
        return /^[A-Za-z0-9_$]+$/.test(items) ? `${items}[]` : `Array<${items}>`;
      }
      case "object": return this.object(schema, indent);
      default: return "unknown";
    }
  }

  private object(schema: JsonSchema, indent: string): string {
    const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set((schema.required ?? []) as string[]);
    const extra = schema.additionalProperties;
    const names = Object.keys(properties);
    if (names.length === 0) {
      if (extra === false) return "Record<string, never>";
      return `Record<string, ${typeof extra === "object" ? this.type(extra as JsonSchema, indent) : "unknown"}>`;
    }
    const inner = `${indent}  `;
    const lines = names.map((name) => {
      const optional = required.has(name) ? "" : "?";
      return `${docComment(properties[name]!.description, inner)}${inner}${propertyKey(name)}${optional}: ${this.type(properties[name], inner)};`;
    });
    if (extra !== false) lines.push(`${inner}[key: string]: unknown;`);
    return `{\n${lines.join("\n")}\n${indent}}`;
  }

  /** `allOf` of object schemas (through `$ref`s) as one object; anything else as an intersection. */
  private allOf(members: JsonSchema[], indent: string): string {
    const resolved = members.map((member) => this.resolve(member));
    const objects = resolved.every((member) => member && (member.type === "object" || member.properties));
    if (!objects) return members.map((member) => this.type(member, indent)).join(" & ");
    const merged: JsonSchema = { type: "object", properties: {}, required: [] };
    for (const member of resolved as JsonSchema[]) {
      Object.assign(merged.properties as object, member.properties ?? {});
      (merged.required as string[]).push(...((member.required ?? []) as string[]));
      if (member.additionalProperties === false) merged.additionalProperties = false;
    }
    return this.object(merged, indent);
  }

  /** The merged object schema of an `allOf` (or the schema itself), through `$ref`s. */
  merged(schema: JsonSchema): JsonSchema {
    const members = Array.isArray(schema.allOf) ? (schema.allOf as JsonSchema[]) : [schema];
    const properties: Record<string, JsonSchema> = {};
    for (const member of members) Object.assign(properties, this.resolve(member)?.properties ?? {});
    return { type: "object", properties };
  }
}

function literal(value: unknown): string {
  return value === undefined ? "undefined" : JSON.stringify(value);
}

function union(types: string[]): string {
  const unique = [...new Set(types)];
  if (unique.includes("unknown")) return "unknown";
  return unique.length === 0 ? "never" : unique.join(" | ");
}
