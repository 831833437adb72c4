import type { ObjectSchema, Schema } from "joi";
import { isAsyncGeneratorFunction, type AdHocEndpoint } from "../adhoc";
import { ModelEndpoint } from "../model/endpoint";
import type { Registry } from "../registry";
import { envelopeSchemas, ERROR_RESPONSES, errorResponses, securitySchemes } from "./components";
import { batchPath, eventsPath } from "./live";
import { ModelSchemas } from "./models";
import { exampleValue, paramsSchema, pascalCase, pkSchema, returnsSchema, schemaRef, type JsonSchema } from "./schemas";

/** An OpenAPI 3.1 document, as JSON. */
export type OpenApiDocument = { openapi: string; info: JsonSchema; paths: Record<string, JsonSchema>; components: JsonSchema } & JsonSchema;

/** What the `info` of the document says. */
export interface OpenApiOptions {
  /** Default `"ajax-endpoints"`. */
  title?: string;
  /** The API's version (default `"1.0.0"`). */
  version?: string;
  /** Markdown shown at the top of the docs page. */
  description?: string;
  /** The API's license (`{ name: "MIT", identifier: "MIT" }`). */
  license?: { name: string; identifier?: string; url?: string };
}

/** What {@link buildOpenApiDocument} reads. */
export interface OpenApiSource extends OpenApiOptions {
  registry: Registry;
  /** The endpoint that shows users: login and `auth/user.json` answer with it. */
  userEndpoint: ModelEndpoint;
  /** The session cookie's name (default `sessionid`). */
  sessionCookie?: string;
  /** `POST /batch.json` and its op limit, when the router serves it. */
  batchMaxOps?: number;
  /** Whether the router serves the change feeds `GET /<app>/<model>/events`. */
  live?: boolean;
}

/** Errors any POST may answer: a bad or oversized body, a refused CSRF token, a crash, a database away. */
const EVERY_POST = [400, 403, 413, 415, 500, 503];
const CSRF_ONLY = [{ csrfToken: [] }];
const LOGGED_IN = [{ csrfToken: [], sessionCookie: [] }];
const SESSION_OPTIONAL = [...LOGGED_IN, ...CSRF_ONLY];

interface OperationSpec {
  id: string;
  summary: string;
  tag: string;
  description?: string;
  pathParams?: JsonSchema[];
  body?: JsonSchema;
  bodyRequired?: boolean;
  /** Schema of `data` in the success envelope; lists give the whole envelope instead. */
  data?: JsonSchema;
  listOf?: JsonSchema;
  errors: number[];
  loginRequired: boolean;
  /** The endpoint overrides `authenticate`: a session may not be needed. */
  sessionOptional?: boolean;
  /** A streaming ad-hoc endpoint: also answers Server-Sent Events. */
  stream?: boolean;
  headers?: JsonSchema[];
  /** The endpoint reads file parts of a multipart body (`ctx.files`). */
  files?: boolean;
  /** A body the server accepts, for the docs page's "Try it out". */
  example?: unknown;
}

/** The body of an op that takes none: nothing, or an empty object in any of the accepted types. */
const EMPTY_BODY: JsonSchema = { type: "object", additionalProperties: false, description: "No fields: send nothing or `{}`." };

/** A file part of a multipart body. */
const FILE_PART: JsonSchema = { type: "string", contentMediaType: "application/octet-stream" };

/**
 * A request body as the server takes it (CONTRACT.md §3): JSON, a form (`a[b]=1` nests) and
 * multipart/form-data with the same fields; file parts only where the endpoint reads files.
 */
function requestBody(spec: OperationSpec): JsonSchema {
  const schema = spec.body ?? EMPTY_BODY;
  const form: JsonSchema = { schema };
  const objectKeys = Object.entries((schema.properties ?? {}) as Record<string, JsonSchema>)
    .filter(([, property]) => property.type === "object").map(([name]) => name);
  if (objectKeys.length > 0) form.encoding = Object.fromEntries(objectKeys.map((name) => [name, { style: "deepObject", explode: true }]));
  const multipart: JsonSchema = spec.files
    ? {
      schema: {
        allOf: [schema, {
          type: "object",
          properties: { file: { type: "array", items: FILE_PART, description: "Files: any number of file parts, under any field name." } },
        }],
      },
    }
    : { ...form };
  const json: JsonSchema = { schema };
  if (spec.example !== undefined) json.example = spec.example;
  return {
    required: spec.bodyRequired ?? false,
    content: { "application/json": json, "application/x-www-form-urlencoded": form, "multipart/form-data": multipart },
  };
}

function successResponse(spec: OperationSpec): JsonSchema {
  const schema = spec.listOf
    ? { allOf: [schemaRef("ListEnvelope"), { type: "object", required: ["data"], properties: { data: { type: "array", items: spec.listOf } } }] }
    : { allOf: [schemaRef("SuccessEnvelope"), { type: "object", required: ["data"], properties: { data: spec.data ?? {} } }] };
  const content: JsonSchema = { "application/json": { schema } };
  if (spec.stream) content["text/event-stream"] = { schema: { type: "string", description: "With `Accept: text/event-stream`: `message` events `{data, commands}`, then `end` (or `error`)." } };
  return { description: spec.listOf ? "A page of records." : "The success envelope.", content };
}

function operation(spec: OperationSpec): JsonSchema {
  const responses: JsonSchema = { 200: successResponse(spec) };
  const statuses = [...new Set([...EVERY_POST, ...spec.errors, ...(spec.loginRequired ? [401] : [])])].sort((a, b) => a - b);
  for (const status of statuses) responses[status] = { $ref: `#/components/responses/${ERROR_RESPONSES[status]!.name}` };
  responses.default = { $ref: "#/components/responses/Error" };
  const op: JsonSchema = {
    operationId: spec.id,
    summary: spec.summary,
    tags: [spec.tag],
    security: spec.sessionOptional ? SESSION_OPTIONAL : spec.loginRequired ? LOGGED_IN : CSRF_ONLY,
    responses,
  };
  if (spec.description) op.description = spec.description;
  const parameters = [...(spec.pathParams ?? []), ...(spec.headers ?? [])];
  if (parameters.length > 0) op.parameters = parameters;
  op.requestBody = requestBody(spec);
  return op;
}

function pkParameter(endpoint: ModelEndpoint): JsonSchema {
  return {
    name: "pk", in: "path", required: true, description: "The record's primary key.",
    schema: pkSchema(endpoint.rules.pk), example: exampleValue(endpoint.rules.pk),
  };
}

const IF_MATCH: JsonSchema = {
  name: "If-Match", in: "header", required: false, schema: { type: "string" },
  description: "The version read (`\"3\"`), instead of the `_version` field: one of the two is needed where the endpoint requires the version.",
};

/** Builds the document's paths and schemas from the registry. */
class DocumentBuilder {
  readonly paths: Record<string, JsonSchema> = {};
  readonly schemas: Record<string, JsonSchema> = envelopeSchemas();
  readonly models = new ModelSchemas(this.schemas);
  readonly tags: JsonSchema[] = [];

  post(path: string, spec: OperationSpec): void {
    this.paths[path] = { post: operation(spec) };
  }

  /** A named component for a body schema, so that generated types have names. */
  named(name: string, schema: JsonSchema): JsonSchema {
    this.schemas[name] = schema;
    return schemaRef(name);
  }

  /** A body from a joi schema, named `<name>`; required when the schema requires a key. */
  private paramsBody(name: string, params: ObjectSchema | undefined): Pick<OperationSpec, "body" | "bodyRequired"> {
    if (!params) return { body: paramsSchema(undefined), bodyRequired: false };
    const schema = paramsSchema(params);
    return { body: this.named(name, schema), bodyRequired: Array.isArray(schema.required) && schema.required.length > 0 };
  }

  /** The `data` schema of an endpoint's `returns`, named `<name>`; any value without one. */
  private returnsData(name: string, returns: Schema | undefined): JsonSchema {
    return returns ? this.named(name, returnsSchema(returns)) : {};
  }

  adHoc(app: string, name: string, endpoint: AdHocEndpoint): void {
    const loginRequired = endpoint.options.loginRequired === true;
    const params = endpoint.options.params;
    const stream = isAsyncGeneratorFunction(endpoint.handler);
    const prefix = `${pascalCase(app)}${pascalCase(name)}`;
    // A stream's `returns` describes each value it yields.
    const returned = this.returnsData(stream ? `${prefix}Item` : `${prefix}Result`, endpoint.options.returns);
    this.post(`/${app}/${name}.json`, {
      ...this.paramsBody(`${prefix}Params`, params),
      id: `${app}.${name}`, tag: app, summary: `Call ${app}.${name}`,
      description: stream ? "Streams: answers once with the list of every value yielded, or as Server-Sent Events." : undefined,
      data: stream ? { type: "array", items: returned } : returned, stream, errors: [], loginRequired,
      files: endpoint.options.files !== undefined,
    });
  }

  /** A model op: a session is needed unless the endpoint overrides `authenticate`. */
  private modelPost(endpoint: ModelEndpoint, path: string, spec: OperationSpec): void {
    this.post(path, { ...spec, sessionOptional: endpoint.authenticate !== ModelEndpoint.prototype.authenticate });
  }

  model(app: string, name: string, endpoint: ModelEndpoint): void {
    const base = this.models.register(endpoint, app, name);
    const record = this.models.record(endpoint);
    const tag = `${app}.${name}`;
    this.tags.push({ name: tag, description: `Model endpoint for ${endpoint.metadata.name} records.` });
    const id = (op: string) => `${app}.${name}.${op}`;
    const at = `/${app}/${name}/{pk}`;
    const pk = [pkParameter(endpoint)];
    const ops = new Set(endpoint.ops);
    const versioned = endpoint.rules.version ? [IF_MATCH] : [];
    if (ops.has("create")) {
      this.modelPost(endpoint, `/${app}/${name}.json`, {
        id: id("create"), tag, summary: `Create a ${tag}`, body: this.named(`${base}Create`, this.models.createBody(endpoint)),
        bodyRequired: true, example: this.models.createExample(endpoint), data: record, errors: [409], loginRequired: true,
      });
    }
    if (ops.has("list")) {
      this.modelPost(endpoint, `/${app}/${name}/list.json`, {
        id: id("list"), tag, summary: `List ${tag} records`, body: this.named(`${base}ListQuery`, this.models.listBody(endpoint)),
        example: this.models.listExample(endpoint), listOf: record, errors: [], loginRequired: true,
      });
    }
    for (const [op, definition] of Object.entries(endpoint.modelOps)) {
      const opId = Object.prototype.hasOwnProperty.call(endpoint.recordOps, op) ? `${op}_model` : op;
      this.modelPost(endpoint, `/${app}/${name}/${op}.json`, this.declaredOp(id(opId), tag, `${base}${pascalCase(opId)}`, definition, []));
    }
    if (ops.has("get")) {
      this.modelPost(endpoint, `${at}/get.json`, { id: id("get"), tag, summary: `Get a ${tag} by pk`, pathParams: pk, data: record, errors: [404], loginRequired: true });
    }
    if (ops.has("update")) {
      this.modelPost(endpoint, `${at}/update.json`, {
        id: id("update"), tag, summary: `Update a ${tag} (partial)`, pathParams: pk, headers: versioned,
        body: this.named(`${base}Update`, this.models.updateBody(endpoint)), bodyRequired: true, example: this.models.updateExample(endpoint),
        data: record, errors: [404, 409], loginRequired: true,
      });
    }
    if (ops.has("delete")) {
      const body = this.models.deleteBody(endpoint);
      this.modelPost(endpoint, `${at}/delete.json`, {
        id: id("delete"), tag, summary: `Delete a ${tag}`, pathParams: pk, headers: versioned,
        body: body && this.named(`${base}DeleteBody`, body), example: {},
        data: this.named(`${base}Deleted`, {
          type: "object", required: ["pk"], properties: { pk: pkSchema(endpoint.rules.pk) }, additionalProperties: false,
        }),
        errors: [404, 409], loginRequired: true,
      });
    }
    for (const [path, op] of endpoint.featureSet.allRecordOps()) {
      const opName = path.split("/").map(pascalCase).join("");
      const body = op.body && !("$ref" in op.body) ? this.named(`${base}${opName}Body`, op.body) : op.body;
      this.modelPost(endpoint, `${at}/${path}.json`, {
        id: id(path.replace("/", ".")), tag, summary: `${op.summary} (${tag})`, pathParams: pk,
        body, bodyRequired: op.bodyRequired === true,
        data: op.data === "record" ? record : op.data === "records" ? { type: "array", items: record } : op.data,
        errors: [404], loginRequired: true,
      });
    }
    for (const [op, definition] of Object.entries(endpoint.recordOps)) {
      this.modelPost(endpoint, `${at}/${op}.json`, { ...this.declaredOp(id(op), tag, `${base}${pascalCase(op)}`, definition, [404]), pathParams: pk });
    }
  }

  private declaredOp(id: string, tag: string, prefix: string, definition: { params?: ObjectSchema; returns?: Schema }, errors: number[]): OperationSpec {
    return {
      ...this.paramsBody(`${prefix}Params`, definition.params), id, tag, summary: `Run ${id}`,
      data: this.returnsData(`${prefix}Result`, definition.returns), errors: [...errors, 404, 409], loginRequired: true,
    };
  }

  auth(userRecord: JsonSchema): void {
    this.tags.push({ name: "auth", description: "Session login (the `sessionid` cookie), logout and the current user." });
    this.post("/auth/login.json", {
      id: "auth.login", tag: "auth", summary: "Log in", body: schemaRef("Credentials"), bodyRequired: true,
      data: userRecord, errors: [401, 429], loginRequired: false,
      description: "Starts a session and rotates the CSRF token (the `csrftoken` cookie changes).",
    });
    this.post("/auth/logout.json", { id: "auth.logout", tag: "auth", summary: "Log out", data: { type: "null" }, errors: [], loginRequired: false });
    this.post("/auth/user.json", { id: "auth.user", tag: "auth", summary: "The logged-in user", data: userRecord, errors: [], loginRequired: true });
  }

  /** The GET routes of the mount. */
  getRoutes(): void {
    this.tags.push({ name: "meta", description: "The GET routes: CSRF token, health, browser scripts, this document." });
    const get = (id: string, summary: string, type: string, schema: JsonSchema, more: JsonSchema = {}): JsonSchema => ({
      get: {
        operationId: id, summary, tags: ["meta"], security: [],
        responses: { 200: { description: summary, content: { [type]: { schema } } }, ...more, "4XX": { $ref: "#/components/responses/ClientError" } },
      },
    });
    this.paths["/csrf.json"] = get("csrf", "A CSRF token; also sets the csrftoken cookie", "application/json", {
      allOf: [schemaRef("SuccessEnvelope"), { type: "object", required: ["data"], properties: { data: schemaRef("CsrfToken") } }],
    });
    this.paths["/health.json"] = get("health", "Whether the database (and Redis, where sessions live there) answers", "application/json", {
      allOf: [schemaRef("SuccessEnvelope"), { type: "object", required: ["data"], properties: { data: schemaRef("Health") } }],
    }, { 503: { $ref: "#/components/responses/Unhealthy" } });
    this.paths["/client.js"] = get("clientScript", "The browser client (window.AJAX)", "application/javascript", { type: "string" });
    this.paths["/interface.js"] = get("interfaceScript", "The generated interface of what is registered", "application/javascript", { type: "string" });
    this.paths["/openapi.json"] = get("openapi", "This document", "application/json", { type: "object" });
    this.paths["/docs"] = get("docs", "The documentation page", "text/html", { type: "string" });
  }
}

const DEFAULT_DESCRIPTION = [
  "Every endpoint is a `POST` with a JSON, form-urlencoded or multipart body and the `X-CSRFToken` header",
  "(get a token from `GET /csrf.json`, which also sets the `csrftoken` cookie). Any other method on an endpoint",
  "URL is a `405` with `Allow: POST`. Every answer is the JSON envelope: `{\"success\": true, \"data\": ...}`, or",
  "`{\"success\": false, \"data\": {\"code\", \"message\"}, \"errors\"}` with the HTTP status as `code`.",
  "Send `Accept: application/problem+json` for RFC 9457 errors.",
].join(" ");

/** The responses some operation refers to: an unused component is noise (and a lint warning). */
function usedOnly(responses: Record<string, JsonSchema>, paths: Record<string, JsonSchema>): Record<string, JsonSchema> {
  const text = JSON.stringify(paths);
  return Object.fromEntries(Object.entries(responses).filter(([name]) => text.includes(`"#/components/responses/${name}"`)));
}

/**
 * The OpenAPI 3.1 document of a router, from its registry: every ad-hoc endpoint (its joi body
 * schema as JSON Schema), every model op with its request and record schemas (readable fields
 * only; hidden columns never appear), list filters, orderings and search, tag ops, declared ops,
 * the auth routes, the envelopes and the CSRF and session security schemes. Paths are relative
 * to the mount; the server that serves it adds the mount as `servers`.
 */
export function buildOpenApiDocument(source: OpenApiSource): OpenApiDocument {
  const builder = new DocumentBuilder();
  // Names first: a relation may lead to an endpoint registered later.
  for (const appName of source.registry.apps.keys()) {
    for (const [name, endpoint] of source.registry.modelsOf(appName)) builder.models.register(endpoint, appName, name);
  }
  for (const [appName, app] of source.registry.apps) {
    if (app.endpoints.size > 0) builder.tags.push({ name: appName, description: `Ad-hoc endpoints of ${appName}.` });
    for (const [name, endpoint] of app.endpoints) builder.adHoc(appName, name, endpoint);
    for (const [name, endpoint] of source.registry.modelsOf(appName)) {
      builder.model(appName, name, endpoint);
      if (source.live && endpoint.ops.includes("list")) builder.paths[`/${appName}/${name}/events`] = eventsPath(appName, name, endpoint, builder.models);
    }
  }
  if (source.batchMaxOps !== undefined) {
    builder.tags.push({ name: "batch", description: "Several ops in one transaction." });
    builder.paths["/batch.json"] = batchPath(source.batchMaxOps);
  }
  builder.auth(builder.models.record(source.userEndpoint));
  builder.getRoutes();
  return {
    openapi: "3.1.1",
    info: {
      title: source.title ?? "ajax-endpoints",
      version: source.version ?? "1.0.0",
      description: source.description ?? DEFAULT_DESCRIPTION,
      ...(source.license ? { license: source.license } : {}),
    },
    servers: [{ url: "/ajax" }],
    tags: builder.tags,
    paths: builder.paths,
    components: {
      schemas: builder.schemas,
      responses: usedOnly(errorResponses(), builder.paths),
      securitySchemes: securitySchemes(source.sessionCookie ?? "sessionid"),
    },
  };
}
