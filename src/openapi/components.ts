import { Messages } from "../errors";
import { schemaRef, type JsonSchema } from "./schemas";

/** The envelopes of CONTRACT.md §4 and the other shared schemas, as `components.schemas`. */
export function envelopeSchemas(): Record<string, JsonSchema> {
  const commands = { type: "array", items: schemaRef("ResponseCommand"), description: "Response commands, applied in order by the browser client." };
  return {
    FieldErrors: {
      type: "object",
      description: "Field name → messages. Nested fields are dotted (`filter.title__gt`).",
      additionalProperties: { type: "array", items: { type: "string" } },
    },
    ResponseCommand: {
      type: "object",
      description: "A Sijax-style command for the page: `alert`, `html`, `text`, `attr`, `prop`, `css`, `remove`, `redirect`, `call`, `script`.",
      required: ["type"],
      properties: { type: { type: "string" } },
      additionalProperties: true,
    },
    SuccessEnvelope: {
      type: "object",
      description: "Every successful call: `{\"success\": true, \"data\": ...}`.",
      required: ["success", "data"],
      properties: { success: { const: true }, data: {}, commands },
      additionalProperties: false,
    },
    ListEnvelope: {
      type: "object",
      description: "A page of a list: the records, and how many the caller may see in all.",
      required: ["success", "data", "total", "current_page", "items_per_page"],
      properties: {
        success: { const: true },
        data: { type: "array" },
        total: { type: ["integer", "null"], minimum: 0, description: "null when the request asked for `count=none`." },
        current_page: { type: "integer" },
        items_per_page: { type: "integer", minimum: 1 },
        commands,
      },
      additionalProperties: false,
    },
    ErrorEnvelope: {
      type: "object",
      description: "Every failure: the HTTP status is `data.code`; `errors` carries field errors.",
      required: ["success", "data"],
      properties: {
        success: { const: false },
        data: {
          type: "object",
          required: ["code", "message"],
          properties: { code: { type: "integer" }, message: { type: "string" }, index: { type: "integer", description: "A batch's failing op." } },
          additionalProperties: false,
        },
        errors: schemaRef("FieldErrors"),
      },
      additionalProperties: false,
    },
    ProblemDetails: {
      type: "object",
      description: "The same error as RFC 9457 problem details, for `Accept: application/problem+json`.",
      required: ["type", "title", "status", "detail"],
      properties: {
        type: { type: "string" },
        title: { type: "string" },
        status: { type: "integer" },
        detail: { type: "string" },
        errors: {
          type: "array",
          items: {
            type: "object",
            required: ["detail", "pointer"],
            properties: { detail: { type: "string" }, pointer: { type: "string", description: "JSON pointer into the request body." } },
            additionalProperties: false,
          },
        },
      },
      additionalProperties: false,
    },
    CsrfToken: {
      type: "object",
      required: ["token"],
      properties: { token: { type: "string", description: "Send it as the `X-CSRFToken` header of every POST." } },
      additionalProperties: false,
    },
    HealthChecks: {
      type: "object",
      description: "Each check: `ok`, or `down` (no answer within 2 s, or an error).",
      required: ["database"],
      properties: { database: { enum: ["ok", "down"] }, redis: { enum: ["ok", "down"], description: "Where sessions live in Redis." } },
      additionalProperties: false,
    },
    Health: {
      type: "object",
      required: ["status", "checks"],
      properties: { status: { const: "ok" }, checks: schemaRef("HealthChecks") },
      additionalProperties: false,
    },
    Credentials: {
      type: "object",
      required: ["username", "password"],
      properties: { username: { type: "string", minLength: 1, maxLength: 150 }, password: { type: "string", minLength: 1, maxLength: 1024 } },
      additionalProperties: false,
    },
  };
}

/** The error answers an operation may list, by status (CONTRACT.md §4). */
export const ERROR_RESPONSES: Readonly<Record<number, { name: string; description: string; headers?: Record<string, string> }>> = {
  400: { name: "BadRequest", description: "Bad input: validation, coercion, an unknown or read-only field, a bad filter or order, a malformed body." },
  401: { name: "Unauthorized", description: `Not logged in ("${Messages.unauthenticated}").`, headers: { "WWW-Authenticate": "Always set on a 401." } },
  403: { name: "Forbidden", description: `A permission hook said no, or the CSRF token is missing or wrong ("${Messages.csrf}").` },
  404: { name: "NotFound", description: "No such record, or one the caller may not see (the same answer either way)." },
  405: { name: "MethodNotAllowed", description: "Any method but POST on an endpoint URL (any but GET and HEAD on the documentation routes).", headers: { Allow: "The methods the URL takes." } },
  409: { name: "Conflict", description: "A unique constraint, or a stale version on update or delete." },
  413: { name: "ContentTooLarge", description: `${Messages.tooLarge} (default limit 1 MiB).` },
  415: { name: "UnsupportedMediaType", description: "Not JSON, form-urlencoded or multipart/form-data." },
  429: { name: "TooManyRequests", description: "Too many failed logins, or too many open change feeds in one session.", headers: { "Retry-After": "Seconds until the next attempt." } },
  500: { name: "InternalServerError", description: `"${Messages.internal}"; details only in debug mode.` },
  503: { name: "ServiceUnavailable", description: "The database is unavailable for now." },
};

function errorContent(): JsonSchema {
  return {
    "application/json": { schema: schemaRef("ErrorEnvelope") },
    "application/problem+json": { schema: schemaRef("ProblemDetails") },
  };
}

/** `components.responses`: one per error status, and `Error` for any other. */
export function errorResponses(): Record<string, JsonSchema> {
  const responses: Record<string, JsonSchema> = {};
  for (const { name, description, headers } of Object.values(ERROR_RESPONSES)) {
    const response: JsonSchema = { description, content: errorContent() };
    if (headers) {
      response.headers = Object.fromEntries(Object.entries(headers).map(([header, text]) => [header, { description: text, schema: { type: "string" } }]));
    }
    responses[name] = response;
  }
  responses.Error = { description: "Any other error an endpoint raises, in the same envelope.", content: errorContent() };
  responses.ClientError = {
    description: "A request the HTTP server refuses before any route (with `createAjaxServer()`): 400 malformed, 408 too slow, 431 headers too large; " +
      "404 for the docs page when swagger-ui-dist is not installed.",
    content: { "application/json": { schema: schemaRef("ErrorEnvelope") } },
  };
  responses.Unhealthy = {
    description: "A check failed: the error envelope, and which check in `data.checks`.",
    headers: { "Retry-After": { description: "Seconds before asking again.", schema: { type: "string" } } },
    content: {
      "application/json": {
        schema: {
          type: "object", required: ["success", "data"], additionalProperties: false,
          properties: {
            success: { const: false },
            data: {
              type: "object", required: ["code", "message", "checks"], additionalProperties: false,
              properties: { code: { const: 503 }, message: { type: "string" }, checks: schemaRef("HealthChecks") },
            },
          },
        },
      },
    },
  };
  return responses;
}

/** The security schemes: the CSRF header on every POST, and the session cookie of a logged-in caller. */
export function securitySchemes(sessionCookie: string): Record<string, JsonSchema> {
  return {
    csrfToken: {
      type: "apiKey", in: "header", name: "X-CSRFToken",
      description: "The token of `GET /csrf.json` (also in the `csrftoken` cookie). Required on every POST, login included.",
    },
    sessionCookie: {
      type: "apiKey", in: "cookie", name: sessionCookie,
      description: "The session cookie that `auth/login.json` sets; the browser sends it by itself.",
    },
  };
}
