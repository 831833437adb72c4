import type { OpenApiDocument } from "./document";
import type { JsonSchema } from "./schemas";
import { propertyKey, TypeWriter } from "./typescript";

/** One POST operation of the document, as a client function. */
interface ClientOperation {
  /** Where it sits in the client object: `["blog", "article", "get"]`. */
  path: string[];
  urlTemplate: string;
  pathParams: Array<{ name: string; type: string }>;
  body?: { type: string; required: boolean };
  result: string;
  list: boolean;
  summary: string;
  /** A change feed (GET, Server-Sent Events): `subscribe(query, onChange)` instead of a POST. */
  feed?: { query: string };
}

type Tree = Map<string, Tree | ClientOperation>;

/**
 * The fixed part of every generated client: options, the error class, CSRF handling and the
 * request function. It follows `/ajax/client.js`: `credentials` for the session cookie, the
 * `X-CSRFToken` header from the `csrftoken` cookie (fetched from `csrf.json` when there is
 * none, and once more when the server refuses a stale one), and errors carrying `status`,
 * `code`, `message` and `errors`.
 */
const RUNTIME = `
/** Where and how the client talks to the server. */
export interface ClientOptions {
  /** The mount URL, e.g. "/ajax" or "https://example.com/ajax" (default: the document's server). */
  baseUrl?: string | undefined;
  /** A fetch to use (default: the global one); a cookie-jar wrapper outside browsers. */
  fetch?: ((input: string, init: RequestInit) => Promise<Response>) | undefined;
  /** Reads a cookie (default: document.cookie); the CSRF token is the csrftoken cookie. */
  readCookie?: ((name: string) => string | null | undefined) | undefined;
  /** fetch's credentials mode (default "same-origin"; "include" for another origin). */
  credentials?: "omit" | "same-origin" | "include" | undefined;
  /** Gets the response commands of each call (default: window.AJAX.applyCommands when client.js is loaded). */
  onCommands?: ((commands: ResponseCommand[]) => void | Promise<void>) | undefined;
  /** Headers for every request. */
  headers?: Record<string, string> | undefined;
}

/** Options of one call. */
export interface CallOptions {
  headers?: Record<string, string> | undefined;
  signal?: AbortSignal | null | undefined;
}

/** A page of a list. */
export interface ListPage<T> {
  data: T[];
  /** null when the request asked for count=none. */
  total: number | null;
  current_page: number;
  items_per_page: number;
}

/** One change of a model's change feed (docs/live.md). */
export type Change<T> =
  | { type: "created" | "updated"; data: T; id: string }
  | { type: "deleted"; data: { pk: string | number }; id: string }
  | { type: "resync"; data: Record<string, never>; id: string };

/** Every failure: \`status\` is the HTTP status (0 when no response came), \`code\` the envelope's code. */
export class AJAXError extends Error {
  readonly status: number;
  readonly code: number;
  readonly errors: FieldErrors;
  constructor(message: string, details: { status?: number; code?: number; errors?: FieldErrors; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "AJAXError";
    this.status = details.status ?? 0;
    this.code = details.code ?? details.status ?? 0;
    this.errors = details.errors ?? {};
  }
}

const CSRF_COOKIE = "csrftoken";
const CSRF_HEADER = "X-CSRFToken";
const CSRF_FAILURE = "CSRF token missing or incorrect.";

function browserCookie(name: string): string | null {
  const doc = (globalThis as { document?: { cookie?: string } }).document;
  for (const part of (doc?.cookie ?? "").split(";")) {
    const index = part.indexOf("=");
    if (index < 0 || part.slice(0, index).trim() !== name) continue;
    const raw = part.slice(index + 1).trim();
    try {
      return decodeURIComponent(raw);
    } catch {
      return raw;
    }
  }
  return null;
}

function pageCommands(): ClientOptions["onCommands"] {
  const ajax = (globalThis as { AJAX?: { applyCommands?: (commands: ResponseCommand[]) => Promise<void> } }).AJAX;
  return ajax?.applyCommands ? (commands) => ajax.applyCommands!(commands) : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** The success envelope of a response, or the AJAXError it stands for. */
function readEnvelope(status: number, contentType: string | null, text: string): Record<string, unknown> {
  let body: unknown = null;
  if (/json/i.test(contentType ?? "")) {
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
  }
  if (!isObject(body)) throw new AJAXError(\`Unexpected response (HTTP \${status}).\`, { status });
  if (status < 200 || status >= 300 || body.success !== true) {
    const data = isObject(body.data) ? body.data : {};
    throw new AJAXError(typeof data.message === "string" ? data.message : \`Request failed (HTTP \${status}).\`, {
      status, code: typeof data.code === "number" ? data.code : status, errors: isObject(body.errors) ? (body.errors as FieldErrors) : {},
    });
  }
  return body;
}

/** Sends POSTs the way the server wants them. */
function createTransport(options: ClientOptions) {
  const baseUrl = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\\/+$/, "");
  const send = options.fetch ?? ((input: string, init: RequestInit) => fetch(input, init));
  const readCookie = options.readCookie ?? browserCookie;
  const credentials = options.credentials ?? "same-origin";
  let fetchedToken: string | undefined;

  async function csrfToken(renew: boolean): Promise<string> {
    const cookie = renew ? null : readCookie(CSRF_COOKIE);
    if (cookie) return cookie;
    if (!renew && fetchedToken) return fetchedToken;
    const response = await send(\`\${baseUrl}/csrf.json\`, { method: "GET", credentials, headers: { Accept: "application/json" } });
    const envelope = readEnvelope(response.status, response.headers.get("Content-Type"), await response.text());
    const token = readCookie(CSRF_COOKIE) ?? (envelope.data as { token: string }).token;
    fetchedToken = token;
    return token;
  }

  async function post(path: string, body: unknown, call: CallOptions = {}): Promise<Record<string, unknown>> {
    const attempt = async (token: string) => {
      try {
        return await send(\`\${baseUrl}\${path}\`, {
          method: "POST", credentials, signal: call.signal ?? null,
          headers: { "Content-Type": "application/json", Accept: "application/json", ...options.headers, ...call.headers, [CSRF_HEADER]: token },
          body: JSON.stringify(body ?? {}),
        });
      } catch (cause) {
        if ((cause as { name?: string })?.name === "AbortError") throw cause;
        throw new AJAXError("Network error: the server could not be reached.", { cause });
      }
    };
    let response = await attempt(await csrfToken(false));
    let text = await response.text();
    if (response.status === 403 && text.includes(CSRF_FAILURE)) {
      response = await attempt(await csrfToken(true));
      text = await response.text();
    }
    const envelope = readEnvelope(response.status, response.headers.get("Content-Type"), text);
    const onCommands = options.onCommands ?? pageCommands();
    if (Array.isArray(envelope.commands) && onCommands) await onCommands(envelope.commands as ResponseCommand[]);
    return envelope;
  }

  return {
    async data<T>(path: string, body: unknown, call?: CallOptions): Promise<T> {
      return (await post(path, body, call)).data as T;
    },
    /** Opens a change feed with the browser's EventSource (it reconnects and resumes by itself); returns the unsubscribe function. */
    subscribe<T>(path: string, query: { filter?: object }, onChange: (change: Change<T>) => void, onError?: (error: AJAXError) => void): () => void {
      const EventSourceClass = (globalThis as { EventSource?: new (url: string, init: object) => any }).EventSource;
      if (typeof EventSourceClass !== "function") throw new AJAXError("No EventSource here: subscribe from a browser.");
      const parts = Object.entries(query.filter ?? {}).map(([field, value]) =>
        \`\${encodeURIComponent(\`filter[\${field}]\`)}=\${encodeURIComponent(Array.isArray(value) ? value.join(",") : String(value))}\`);
      const source = new EventSourceClass(\`\${baseUrl}\${path}\${parts.length > 0 ? "?" + parts.join("&") : ""}\`, { withCredentials: credentials === "include" });
      for (const type of ["created", "updated", "deleted", "resync"]) {
        source.addEventListener(type, (event: { data: string; lastEventId: string }) =>
          onChange({ type, data: JSON.parse(event.data), id: event.lastEventId } as Change<T>));
      }
      source.addEventListener("error", () => {
        if (source.readyState === 2) onError?.(new AJAXError("The change feed was refused or closed."));
      });
      return () => source.close();
    },
    async page<T>(path: string, body: unknown, call?: CallOptions): Promise<ListPage<T>> {
      const envelope = await post(path, body, call);
      return {
        data: envelope.data as T[], total: envelope.total as number | null,
        current_page: envelope.current_page as number, items_per_page: envelope.items_per_page as number,
      };
    },
  };
}

function segment(value: string | number): string {
  return encodeURIComponent(String(value));
}
`;

function collectOperations(document: OpenApiDocument, types: TypeWriter): ClientOperation[] {
  const operations: ClientOperation[] = [];
  for (const [urlTemplate, item] of Object.entries(document.paths)) {
    const feed = feedOperation(urlTemplate, (item as Record<string, JsonSchema | undefined>).get, types);
    if (feed) operations.push(feed);
    const op = (item as Record<string, JsonSchema | undefined>).post;
    if (!op || typeof op.operationId !== "string") continue;
    const parameters = ((op.parameters ?? []) as JsonSchema[]).filter((parameter) => parameter.in === "path");
    const content = ((op.requestBody as JsonSchema | undefined)?.content as Record<string, JsonSchema> | undefined)?.["application/json"];
    const success = (((op.responses as Record<string, JsonSchema>)["200"]?.content as Record<string, JsonSchema>)?.["application/json"])?.schema as JsonSchema;
    const envelope = types.merged(success ?? {});
    const properties = envelope.properties as Record<string, JsonSchema>;
    const list = "total" in properties;
    const data = properties.data;
    operations.push({
      path: op.operationId.split(".").map((part) => part.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())),
      urlTemplate,
      pathParams: parameters.map((parameter) => ({ name: String(parameter.name), type: types.type(parameter.schema as JsonSchema, "") })),
      body: content ? { type: types.type(content.schema as JsonSchema, "  "), required: (op.requestBody as JsonSchema).required === true } : undefined,
      result: list ? types.type((data?.items ?? {}) as JsonSchema, "  ") : types.type(data, "  "),
      list,
      summary: String(op.summary ?? op.operationId),
    });
  }
  return operations;
}

/** A change feed of the document (`GET .../events` answering text/event-stream) as `subscribe`. */
function feedOperation(urlTemplate: string, op: JsonSchema | undefined, types: TypeWriter): ClientOperation | undefined {
  const stream = (((op?.responses as Record<string, JsonSchema> | undefined)?.["200"]?.content as Record<string, JsonSchema> | undefined)?.["text/event-stream"]);
  const record = ((stream?.["x-event-data"] as JsonSchema | undefined)?.oneOf as JsonSchema[] | undefined)?.[0];
  if (!op || typeof op.operationId !== "string" || !record) return undefined;
  const filter = ((op.parameters ?? []) as JsonSchema[]).find((parameter) => parameter.in === "query" && parameter.name === "filter");
  const listQuery = typeof op["x-list-query"] === "string" ? types.type({ $ref: `#/components/schemas/${op["x-list-query"]}` }, "") : undefined;
  return {
    path: [...op.operationId.split(".").slice(0, -1), "subscribe"], urlTemplate, pathParams: [], list: false,
    result: types.type(record, "  "), summary: String(op.summary ?? op.operationId),
    feed: { query: listQuery ? `Pick<${listQuery}, "filter">` : filter ? `{ filter?: ${types.type(filter.schema as JsonSchema, "  ")} }` : "{}" },
  };
}

function buildTree(operations: ClientOperation[]): Tree {
  const root: Tree = new Map();
  for (const operation of operations) {
    let node = root;
    operation.path.slice(0, -1).forEach((part) => {
      let child = node.get(part);
      if (!child || !(child instanceof Map)) {
        if (child) throw new Error(`ajax-endpoints client: "${operation.path.join(".")}" is both an operation and a group`);
        child = new Map();
        node.set(part, child);
      }
      node = child;
    });
    const leaf = operation.path[operation.path.length - 1]!;
    if (node.has(leaf)) throw new Error(`ajax-endpoints client: two operations are named "${operation.path.join(".")}"`);
    node.set(leaf, operation);
  }
  return root;
}

function functionText(operation: ClientOperation, indent: string): string {
  if (operation.feed) {
    return `${indent}/** ${operation.summary.replace(/\*\//g, "")}: GET ${operation.urlTemplate} */\n` +
      `${indent}subscribe: (query: ${operation.feed.query}, onChange: (change: Change<${operation.result}>) => void, onError?: (error: AJAXError) => void): (() => void) =>\n` +
      `${indent}  transport.subscribe<${operation.result}>(\`${operation.urlTemplate}\`, query, onChange, onError),`;
  }
  const args = operation.pathParams.map((param) => `${param.name}: ${param.type}`);
  if (operation.body) args.push(`body: ${operation.body.type}${operation.body.required ? "" : " = {}"}`);
  args.push("options?: CallOptions");
  const url = "`" + operation.urlTemplate.replace(/\{([A-Za-z0-9_]+)\}/g, (_, name: string) => `\${segment(${name})}`) + "`";
  const result = operation.list ? `ListPage<${operation.result}>` : operation.result;
  const call = operation.list ? "page" : "data";
  const bodyText = operation.body ? "body" : "{}";
  const returnType = `Promise<${result}>`;
  return `${indent}/** ${operation.summary.replace(/\*\//g, "")}: POST ${operation.urlTemplate} */\n` +
    `${indent}${propertyKey(operation.path[operation.path.length - 1]!)}: (${args.join(", ")}): ${returnType} =>\n` +
    `${indent}  transport.${call}<${operation.result}>(${url}, ${bodyText}, options),`;
}

function treeText(tree: Tree, indent: string): string {
  const lines: string[] = [];
  for (const [name, node] of tree) {
    if (node instanceof Map) lines.push(`${indent}${propertyKey(name)}: {\n${treeText(node, `${indent}  `)}\n${indent}},`);
    else lines.push(functionText(node, indent));
  }
  return lines.join("\n");
}

/**
 * A typed TypeScript client for an OpenAPI document of ajax-endpoints: one type per component
 * schema, and `createClient()` returning one function per POST route (and a `subscribe` per change feed), grouped by its
 * operationId (`client.blog.article.get(pk)`), whose argument and result types are the
 * document's. The functions resolve with `data` (a list with the page) and reject with
 * `AJAXError`.
 */
export function generateClient(document: OpenApiDocument): string {
  const components = ((document.components as JsonSchema).schemas ?? {}) as Record<string, JsonSchema>;
  const types = new TypeWriter(components);
  const operations = collectOperations(document, types);
  const servers = (document.servers ?? []) as Array<{ url?: string }>;
  const info = document.info as { title?: string; version?: string };
  return [
    "/* eslint-disable */",
    `// Generated by \`ajax-endpoints client\` from the OpenAPI document of ${info.title ?? "an API"} ${info.version ?? ""}.`.trimEnd(),
    "// Do not edit: generate it again when the endpoints change.",
    "",
    `const DEFAULT_BASE_URL = ${JSON.stringify(servers[0]?.url ?? "/ajax")};`,
    "",
    "// ---- schemas ------------------------------------------------------------------------------",
    "",
    types.declarations(),
    "// ---- runtime ------------------------------------------------------------------------------",
    RUNTIME,
    "// ---- routes -------------------------------------------------------------------------------",
    "",
    "/** A client for every POST route of the document. */",
    "export function createClient(options: ClientOptions = {}) {",
    "  const transport = createTransport(options);",
    "  return {",
    treeText(buildTree(operations), "    "),
    "  };",
    "}",
    "",
    "/** What {@link createClient} returns. */",
    "export type AjaxClient = ReturnType<typeof createClient>;",
    "",
  ].join("\n");
}
