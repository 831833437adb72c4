import Ajv2020, { type ValidateFunction } from "ajv/dist/2020";
import addFormats from "ajv-formats";
import type { OpenApiDocument } from "../../src";
import { CookieJar } from "./cookie-jar";

/** A response as the contract checker saw it. */
export interface CheckedResponse {
  status: number;
  contentType: string;
  body: any;
  headers: Headers;
}

type Operation = { responses: Record<string, { $ref?: string; content?: Record<string, unknown> }> };

const escapePointer = (part: string) => part.replace(/~/g, "~0").replace(/\//g, "~1");

/**
 * Checks real responses against an OpenAPI document: each answer must be one the operation
 * documents (its status, or `default`), with a documented content type, and its body must
 * validate against the documented schema (JSON Schema 2020-12, by ajv). Records which
 * operations were exercised, so a test can require that every one was.
 */
export class ContractChecker {
  readonly exercised = new Set<string>();
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(readonly document: OpenApiDocument, readonly baseUrl: string) {
    addFormats(this.ajv);
    this.ajv.addSchema(document as object, "openapi");
  }

  /** Every documented operation, as `METHOD /path/template`. */
  operations(): string[] {
    return Object.entries(this.document.paths).flatMap(([path, item]) =>
      Object.keys(item as object).map((method) => `${method.toUpperCase()} ${path}`));
  }

  private operation(method: string, template: string): Operation {
    const op = (this.document.paths[template] as Record<string, Operation> | undefined)?.[method.toLowerCase()];
    if (!op) throw new Error(`${method} ${template} is not documented`);
    return op;
  }

  /** The pointer to the documented schema of an answer, after following a `$ref` to `components.responses`. */
  private schemaPointer(method: string, template: string, status: number, contentType: string): string {
    const op = this.operation(method, template);
    const key = op.responses[String(status)] ? String(status) : "default";
    let response = op.responses[key];
    let pointer = `#/paths/${escapePointer(template)}/${method.toLowerCase()}/responses/${key}`;
    if (!response) throw new Error(`${method} ${template} does not document status ${status}`);
    if (response.$ref) {
      pointer = response.$ref;
      const responses = (this.document.components as { responses: Record<string, typeof response> }).responses;
      response = responses[response.$ref.split("/").pop()!];
    }
    if (!response.content?.[contentType]) {
      throw new Error(`${method} ${template} ${status} does not document ${contentType} (only ${Object.keys(response.content ?? {}).join(", ")})`);
    }
    return `${pointer}/content/${escapePointer(contentType)}/schema`;
  }

  /** Throws unless the answer is what the document says it may be. */
  check(method: string, template: string, response: CheckedResponse): void {
    this.exercised.add(`${method} ${template}`);
    const pointer = this.schemaPointer(method, template, response.status, response.contentType);
    let validate = this.validators.get(pointer);
    if (!validate) {
      validate = this.ajv.compile({ $ref: `openapi${pointer}` });
      this.validators.set(pointer, validate);
    }
    if (!validate(response.body)) {
      throw new Error(`${method} ${template} answered ${response.status} not as documented:\n` +
        `${JSON.stringify(validate.errors, null, 2)}\nbody: ${JSON.stringify(response.body).slice(0, 2000)}`);
    }
  }

  /**
   * Calls a documented route over HTTP as the jar's browser (with its cookies and, for a POST,
   * the CSRF header from its `csrftoken` cookie) and checks the answer.
   */
  async call(jar: CookieJar, method: "GET" | "POST", template: string, options: {
    pk?: unknown; body?: unknown; headers?: Record<string, string>; rawBody?: string | Buffer;
  } = {}): Promise<CheckedResponse> {
    const path = template.replace("{pk}", encodeURIComponent(String(options.pk)));
    const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
    let body: string | Buffer | undefined;
    if (method === "POST") {
      if (!jar.get("csrftoken")) await jar.fetch(`${this.baseUrl}/csrf.json`);
      headers["X-CSRFToken"] ??= jar.get("csrftoken")!;
      headers["Content-Type"] ??= "application/json";
      body = options.rawBody ?? JSON.stringify(options.body ?? {});
    }
    const response = await jar.fetch(`${this.baseUrl}${path}`, { method, headers, body });
    const contentType = (response.headers.get("Content-Type") ?? "").split(";")[0]!.trim();
    const text = await response.text();
    const parsed = /json/.test(contentType) ? JSON.parse(text) : text;
    const checked = { status: response.status, contentType, body: parsed, headers: response.headers };
    this.check(method, template, checked);
    return checked;
  }
}
