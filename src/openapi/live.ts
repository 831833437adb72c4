import type { ModelEndpoint } from "../model/endpoint";
import { ERROR_RESPONSES } from "./components";
import type { ModelSchemas } from "./models";
import { schemaRef, type JsonSchema } from "./schemas";

/** The batch route and the change feeds in the document (docs/live.md has the whole wire). */

function errors(statuses: number[]): JsonSchema {
  const responses: JsonSchema = {};
  for (const status of statuses) responses[status] = { $ref: `#/components/responses/${ERROR_RESPONSES[status]!.name}` };
  responses.default = { $ref: "#/components/responses/Error" };
  return responses;
}

/** `POST /batch.json`. */
export function batchPath(maxOps: number): JsonSchema {
  const body: JsonSchema = {
    type: "object", required: ["ops"], additionalProperties: false,
    properties: {
      ops: {
        type: "array", minItems: 1, maxItems: maxOps,
        items: {
          type: "object", required: ["op"], additionalProperties: false,
          properties: {
            op: { type: "string", description: "A route below the mount without `.json`: `blog/article`, `blog/article/7/update`, `blog/article/7/tags/add`, `blog/say_hi`. Not `auth/*`, not `batch`, not a streaming endpoint." },
            body: { type: "object", description: "The op's body as it would be posted alone. Any value may be `{\"$ref\": \"<index>.<field>\"}`: that field of an earlier op's result." },
          },
        },
      },
    },
  };
  return {
    post: {
      operationId: "batch", tags: ["batch"], summary: "Run several ops in one transaction",
      description: "Every op runs through its own route (authenticate, row scope, permission hooks, validation) in one transaction: all are written or none. " +
        "A failure answers as that op alone would, with `index` (the op's position) in `data`. `If-Match` is refused: send `_version` in each op's body.",
      security: [{ csrfToken: [], sessionCookie: [] }, { csrfToken: [] }],
      // A form carries the same ops as nested names (`ops[0][op]=blog/article&ops[0][body][title]=...`), with string values.
      requestBody: { required: true, content: { "application/json": { schema: body }, "application/x-www-form-urlencoded": { schema: body }, "multipart/form-data": { schema: body } } },
      responses: {
        200: {
          description: "Each op's data, in order.",
          content: { "application/json": { schema: { allOf: [schemaRef("SuccessEnvelope"), { type: "object", required: ["data"], properties: { data: { type: "array" } } }] } } },
        },
        ...errors([400, 401, 403, 404, 409, 413, 415, 500, 503]),
      },
    },
  };
}

/** `GET /<app>/<model>/events`: the model's change feed. */
export function eventsPath(app: string, name: string, endpoint: ModelEndpoint, models: ModelSchemas): JsonSchema {
  const filter = (models.listBody(endpoint).properties as Record<string, JsonSchema> | undefined)?.filter;
  const parameters: JsonSchema[] = [
    { name: "Last-Event-ID", in: "header", required: false, schema: { type: "string" }, description: "Resume after this event (EventSource sends it when it reconnects)." },
  ];
  if (filter) parameters.unshift({ name: "filter", in: "query", required: false, style: "deepObject", explode: true, schema: filter, description: "The list's filters: `filter[<field>]` or `filter[<field>__<op>]`." });
  const record = models.record(endpoint);
  return {
    get: {
      operationId: `${app}.${name}.events`, tags: [`${app}.${name}`], summary: `Changes of ${app}.${name} records (Server-Sent Events)`,
      description: "Events `created` and `updated` (data: the record as `get` answers this caller), `deleted` (data `{pk}`; also when a record leaves the caller's view) " +
        "and `resync` (data `{}`: reload). Each has an `id:` to resume from; comment lines are heartbeats. Sent after commit only.",
      security: [{ sessionCookie: [] }],
      parameters,
      // The filters are the list's: a generated client types the query by that schema.
      ...(filter ? { "x-list-query": `${models.register(endpoint, app, name)}ListQuery` } : {}),
      responses: {
        200: {
          description: "A text/event-stream of changes.",
          content: { "text/event-stream": { schema: { type: "string" }, "x-event-data": { oneOf: [record, { type: "object", required: ["pk"], properties: { pk: {} }, additionalProperties: false }] } } },
        },
        ...errors([400, 401, 403, 404, 429]),
      },
    },
  };
}
