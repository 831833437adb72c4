import { MAX_SEARCH_LENGTH, MAX_SEARCH_TERMS, MAX_TERM_LENGTH } from "../search/terms";
import type { ModelEndpoint } from "../model/endpoint";
import type { FieldRule } from "../model/fields";
import { FILTER_OPS } from "../model/list";
import { columnSchema, exampleValue, filterValueSchema, orNull, pascalCase, pkSchema, schemaRef, writeSchema, type JsonSchema } from "./schemas";

const TEXT_ONLY_OPS: ReadonlySet<string> = new Set(["contains", "icontains", "startswith"]);

/**
 * Names the component schemas of model endpoints and writes them once each: the record
 * schema of every registered endpoint, and of every endpoint that hydration reaches (a related
 * entity without an endpoint of its own is shown by default rules).
 */
export class ModelSchemas {
  private readonly names = new Map<ModelEndpoint, string>();
  private readonly taken = new Set<string>();
  /** Schemas named by features, whose content must agree wherever a feature names them again. */
  private readonly featureSchemaNames = new Set<string>();

  constructor(private readonly schemas: Record<string, JsonSchema>) {
    for (const name of Object.keys(schemas)) this.taken.add(name);
  }

  /** Reserves the component name of a registered endpoint, `<App><Model>`. */
  register(endpoint: ModelEndpoint, app: string, model: string): string {
    const existing = this.names.get(endpoint);
    if (existing) return existing;
    return this.claim(endpoint, pascalCase(app) + pascalCase(model));
  }

  private claim(endpoint: ModelEndpoint, wanted: string): string {
    let name = wanted;
    for (let n = 2; this.taken.has(name); n++) name = `${wanted}${n}`;
    this.taken.add(name);
    this.names.set(endpoint, name);
    return name;
  }

  /**
   * Adds the named schemas an endpoint's features refer to. Features of several endpoints name
   * the same schemas (every `tags()` has `Tag`): one that names a schema already there with
   * other content is a start-up error, as the document would describe one of them wrongly.
   */
  private featureComponents(endpoint: ModelEndpoint): void {
    for (const feature of endpoint.featureSet.list) {
      for (const [name, schema] of Object.entries(feature.openapi?.components ?? {})) {
        const existing = this.schemas[name];
        if (!existing) {
          this.schemas[name] = schema;
          this.taken.add(name);
        } else if (this.featureSchemaNames.has(name) && JSON.stringify(existing) !== JSON.stringify(schema)) {
          throw new Error(`ajax-endpoints: the feature "${feature.name}" of ${endpoint.metadata.name}'s endpoint names the OpenAPI schema "${name}" with other content than another endpoint's feature; give one of them another name`);
        }
        this.featureSchemaNames.add(name);
      }
    }
  }

  /** The record schema of an endpoint: what get, list and create answer with. */
  record(endpoint: ModelEndpoint): JsonSchema {
    let name = this.names.get(endpoint);
    if (!name) name = this.claim(endpoint, pascalCase(endpoint.metadata.name));
    if (!this.schemas[name]) {
      this.schemas[name] = {}; // reserved first: relations may lead back here
      this.schemas[name] = this.recordSchema(endpoint);
    }
    return schemaRef(name);
  }

  /** Exactly the readable fields; a hydrated relation is the related record or its pk. */
  private recordSchema(endpoint: ModelEndpoint): JsonSchema {
    const rules = endpoint.rules;
    const hydrated = new Set(endpoint.hydrate ?? rules.readable.filter((rule) => rule.relation).map((rule) => rule.name));
    const properties: Record<string, JsonSchema> = {};
    for (const rule of rules.readable) {
      properties[rule.name] = rule.relation ? this.relationSchema(endpoint, rule, hydrated.has(rule.name)) : columnSchema(rule);
    }
    const required = Object.keys(properties);
    this.featureComponents(endpoint);
    for (const feature of endpoint.featureSet.list) Object.assign(properties, feature.openapi?.readProperties);
    return {
      type: "object",
      description: `A record of ${rules.metadata.name}: its readable fields.`,
      required,
      properties,
      additionalProperties: false,
    };
  }

  private relationSchema(endpoint: ModelEndpoint, rule: FieldRule, hydrated: boolean): JsonSchema {
    const pk = pkSchema(rule);
    let schema: JsonSchema = pk;
    // Not `depth > 0`: nested under another endpoint, the root's depth decides how far this one expands.
    if (hydrated) {
      const target = endpoint.runtime.endpointFor(rule.relation!.inverseEntityMetadata);
      schema = {
        oneOf: [this.record(target), pk],
        description: "The related record, or its pk where it is not expanded (depth, a cycle, or a record the caller may not see).",
      };
    }
    return rule.nullable ? orNull(schema) : schema;
  }

  /** The body of create: writable fields, the required ones marked. */
  createBody(endpoint: ModelEndpoint): JsonSchema {
    const properties: Record<string, JsonSchema> = {};
    const required: string[] = [];
    for (const rule of endpoint.rules.all) {
      if (!rule.writable) continue;
      properties[rule.name] = writeSchema(rule);
      if (rule.required) required.push(rule.name);
    }
    this.featureComponents(endpoint);
    for (const feature of endpoint.featureSet.list) Object.assign(properties, feature.openapi?.writeProperties);
    return { type: "object", required, properties, additionalProperties: false };
  }

  /** The body of update: any writable fields, and the version read where the entity has one. */
  updateBody(endpoint: ModelEndpoint): JsonSchema {
    const { properties } = this.createBody(endpoint) as { properties: Record<string, JsonSchema> };
    const version = endpoint.rules.version;
    // Not `required`: the `If-Match` header may carry the version instead, and a schema cannot say "one of a field and a header".
    if (version) {
      properties._version = {
        type: "integer",
        description: endpoint.requireVersion
          ? "The version read; required unless the `If-Match` header carries it. A stale one is a 409."
          : "The version read (or the `If-Match` header); a stale one is a 409.",
      };
    }
    return { type: "object", properties, additionalProperties: false, description: "Partial: only the fields to change." };
  }

  /** A create body the server accepts: the required fields only. */
  createExample(endpoint: ModelEndpoint): Record<string, unknown> {
    const example: Record<string, unknown> = {};
    for (const rule of endpoint.rules.all) if (rule.writable && rule.required) example[rule.name] = exampleValue(rule);
    return example;
  }

  /** An update body the server accepts: the version read, where the endpoint needs it. */
  updateExample(endpoint: ModelEndpoint): Record<string, unknown> {
    return endpoint.rules.version && endpoint.requireVersion ? { _version: 1 } : {};
  }

  /** A list query the server accepts: the first page, in the endpoint's first ordering. */
  listExample(endpoint: ModelEndpoint): Record<string, unknown> {
    const example: Record<string, unknown> = { current_page: 1, items_per_page: endpoint.defaultPerPage };
    if (endpoint.orderFields.length > 0) example.order = `-${endpoint.orderFields[0]}`;
    return example;
  }

  /** The body of delete: the version read where the entity has one. */
  deleteBody(endpoint: ModelEndpoint): JsonSchema | undefined {
    if (!endpoint.rules.version) return undefined;
    return {
      type: "object",
      properties: { _version: { type: "integer", description: "The version read; a stale one is a 409." } },
      additionalProperties: false,
    };
  }

  /** The body of list: paging, the allowed orderings, filters and search (anything else is a 400). */
  listBody(endpoint: ModelEndpoint): JsonSchema {
    const properties: Record<string, JsonSchema> = {
      current_page: { type: "integer", default: 1, description: "Below 1 or past the end gives an empty page." },
      items_per_page: {
        type: "integer", default: endpoint.defaultPerPage, description: `Clamped to 1..${endpoint.maxPerPage}.`,
      },
    };
    if (endpoint.orderFields.length > 0) {
      const names = endpoint.orderFields.map((name) => name.replace(/[^A-Za-z0-9_]/g, "")).join("|");
      // With a search, `relevance` (best match first) is one more ordering.
      const one = endpoint.searchFields.length > 0 ? `(-?(${names})|relevance)` : `-?(${names})`;
      properties.order = {
        type: "string",
        pattern: `^\\s*${one}\\s*(,\\s*${one}\\s*){0,9}$`,
        description: `Comma-separated fields, \`-\` for descending: ${endpoint.orderFields.join(", ")}.` +
          (endpoint.searchFields.length > 0 ? " `relevance` (with a search): best match first." : "") +
          (endpoint.defaultOrder ? ` Default \`${endpoint.defaultOrder}\`.` : ""),
        example: `-${endpoint.orderFields[0]}`,
      };
    }
    const filters = this.filterProperties(endpoint);
    if (Object.keys(filters).length > 0) {
      properties.filter = {
        type: "object",
        description: "`<field>` (equals) or `<field>__<op>`; in a form body `filter[<field>__<op>]=...`.",
        properties: filters,
        additionalProperties: false,
      };
    }
    if (endpoint.searchFields.length > 0) {
      properties.search = {
        type: "string", maxLength: MAX_SEARCH_LENGTH,
        description: `Full-text search in ${endpoint.searchFields.join(", ")}: every word must match, the last one as a prefix ` +
          `(at most ${MAX_SEARCH_TERMS} words of at most ${MAX_TERM_LENGTH} characters; docs/search.md).`,
      };
    }
    properties.count = { enum: ["exact", "none"], description: "`none`: answer `total: null` without counting." };
    return { type: "object", properties, additionalProperties: false };
  }

  private filterProperties(endpoint: ModelEndpoint): Record<string, JsonSchema> {
    const config = endpoint.filterFields;
    const entries: Array<[string, readonly string[]]> = Array.isArray(config)
      ? config.map((field) => [field, FILTER_OPS])
      : Object.entries(config as Record<string, readonly string[]>);
    const properties: Record<string, JsonSchema> = {};
    for (const [field, ops] of entries) {
      if (endpoint.featureSet.filter(field)) {
        this.featureComponents(endpoint);
        const owner = endpoint.featureSet.list.find((feature) => feature.filters?.[field]);
        Object.assign(properties, owner?.openapi?.filterProperties?.(field, Array.isArray(config) ? undefined : ops));
        continue;
      }
      const rule = endpoint.rules.readableField(field);
      if (!rule) continue;
      for (const op of ops) {
        if (TEXT_ONLY_OPS.has(op) && rule.kind !== "text") continue;
        const schema = filterValueSchema(rule, op);
        if (op === "eq") properties[field] = schema;
        properties[`${field}__${op}`] = schema;
      }
    }
    return properties;
  }
}
