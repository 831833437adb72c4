import { isUtf8 } from "node:buffer";
import express, { type NextFunction, type Request, type RequestHandler, type Response } from "express";
import qs from "qs";
import { AJAXError, Messages } from "../errors";
import { FORBIDDEN_KEYS } from "../names";
import { parseMultipart, type FileLimits, type UploadedFile } from "./multipart";

export type { FileLimits, UploadedFile } from "./multipart";

/** Limits of request bodies. */
export interface BodyLimits {
  /** Largest JSON or form body, in bytes (default 1 MiB). */
  bodyBytes: number;
  /** Largest uploaded file, in bytes (default 10 MiB). */
  fileBytes: number;
  /** Most files in one body (default 10). */
  files: number;
  /** Most form fields in one body (default 1000). */
  fields: number;
  /** Deepest nesting of objects and arrays (default 32). */
  depth: number;
}

export const DEFAULT_BODY_LIMITS: BodyLimits = { bodyBytes: 1024 * 1024, fileBytes: 10 * 1024 * 1024, files: 10, fields: 1000, depth: 32 };

declare module "express-serve-static-core" {
  interface Request {
    /** Files of a multipart body. */
    files?: UploadedFile[];
    /** True when the body was a form or multipart: every value is a string. */
    bodyFromForm?: boolean;
  }
}

/** The message of a text that is not valid Unicode (a lone surrogate). */
export const INVALID_UNICODE = "Text must be valid Unicode (no lone surrogates).";

/** A field's path as the error names it: `tags.0`, `author.name`. */
function pathName(path: readonly (string | number)[]): string {
  return path.length === 0 ? "non_field_errors" : path.join(".");
}

function refuseInvalidText(text: string, path: readonly (string | number)[]): void {
  // String.prototype.isWellFormed is in Node 20 (ES2024); the compile target is ES2023.
  if (!(text as string & { isWellFormed(): boolean }).isWellFormed()) throw new AJAXError(400, Messages.invalid, { errors: { [pathName(path)]: [INVALID_UNICODE] } });
}

/**
 * Copies a parsed body into fresh objects without `__proto__`, `constructor` or `prototype`
 * keys, keeping the order of keys as sent; fails on nesting deeper than `maxDepth` and on text
 * (keys included) that is not valid Unicode, naming the field, so that no database stores a
 * replacement character in its place. Iterative, so that hostile nesting cannot exhaust the stack.
 */
export function sanitizeBody(value: unknown, maxDepth: number): unknown {
  const root: { value?: unknown } = {};
  const stack: Array<{ source: unknown; assign: (copy: unknown) => void; path: (string | number)[] }> = [
    { source: value, assign: (copy) => { root.value = copy; }, path: [] },
  ];
  while (stack.length > 0) {
    const { source, assign, path } = stack.pop()!;
    if (typeof source === "string") refuseInvalidText(source, path);
    if (source === null || typeof source !== "object") { assign(source); continue; }
    if (path.length >= maxDepth) throw new AJAXError(400, `Request body is nested deeper than ${maxDepth} levels.`);
    if (Array.isArray(source)) {
      const copy: unknown[] = new Array(source.length);
      assign(copy);
      source.forEach((item, index) => stack.push({ source: item, assign: (c) => { copy[index] = c; }, path: [...path, index] }));
      continue;
    }
    const copy: Record<string, unknown> = {};
    assign(copy);
    for (const key of Object.keys(source)) {
      if (FORBIDDEN_KEYS.has(key)) continue;
      refuseInvalidText(key, [...path, key]);
      // The key is placed now, so that the copy keeps the order sent; the stack fills in its value later.
      copy[key] = undefined;
      stack.push({ source: (source as Record<string, unknown>)[key], assign: (c) => { copy[key] = c; }, path: [...path, key] });
    }
  }
  return root.value;
}

/** Maps a body-parser failure to the contract's statuses. */
function bodyParserError(error: { type?: string; status?: number }): AJAXError {
  if (error.type === "entity.too.large") return new AJAXError(413, Messages.tooLarge);
  if (error.type === "encoding.unsupported" || error.type === "charset.unsupported") return new AJAXError(415, Messages.unsupportedType);
  if (error.type === "parameters.too.many") return new AJAXError(413, "Too many form fields.");
  if (error.type === "encoding.invalid" || error.type === "entity.verify.failed") return new AJAXError(400, "Request body is not valid UTF-8.");
  return new AJAXError(400, Messages.malformed);
}

/**
 * Nests multipart fields as a form body would nest them (`a[b]=1`, `a[]=1&a[]=2`). qs reads
 * query strings, so the fields are encoded into one: only after they are known to be valid
 * Unicode (`encodeURIComponent` throws on a lone surrogate), and within the body limit, which
 * bounds the string at three times that limit.
 */
function parseForm(pairs: ReadonlyArray<readonly [string, string]>, limits: BodyLimits): Record<string, unknown> {
  for (const [name, value] of pairs) {
    refuseInvalidText(name, [name]);
    refuseInvalidText(value, [name]);
  }
  const text = pairs.map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`).join("&");
  return qs.parse(text, { depth: limits.depth, arrayLimit: limits.fields, parameterLimit: limits.fields, allowPrototypes: false });
}

function hasBody(req: Request): boolean {
  return req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"] ?? 0) > 0;
}

/** What the body parser asks of the route a request resolved to. */
export interface BodyRouteRules {
  /** The file limits of the endpoint the request goes to; undefined when it takes no files. */
  filesFor(req: Request): FileLimits | undefined;
  /**
   * Runs before the first file part touches the disk, with the fields read so far: the gate
   * (CSRF and the endpoint's `authenticate`) that every upload must pass first.
   */
  beforeFirstFile(req: Request, res: Response, fields: ReadonlyArray<readonly [string, string]>): Promise<void>;
}

/** Refuses a JSON body that is not valid UTF-8, which the decoder would silently turn into U+FFFD. */
function requireUtf8(_req: unknown, _res: unknown, buffer: Buffer, encoding: string): void {
  if (/^utf-?8$/i.test(encoding) && !isUtf8(buffer)) {
    throw Object.assign(new Error("invalid UTF-8"), { type: "encoding.invalid" });
  }
}

/**
 * Parses a POST body by its content type: JSON, form (`a[b]=1` nests, `a[]=1` is an array)
 * and multipart (fields; files only where the route takes them, after its gate). Any other
 * type is a `415`, too large a `413`, malformed or invalid Unicode a `400`. Every failure is
 * an {@link AJAXError} passed to `next`: none can end the process. The result is always a
 * plain object in `req.body`, with the keys in the order sent.
 */
export function bodyParser(limits: BodyLimits, routes?: BodyRouteRules): RequestHandler {
  const json = express.json({ limit: limits.bodyBytes, strict: false, type: () => true, verify: requireUtf8 });
  const form = express.urlencoded({ limit: limits.bodyBytes, extended: true, parameterLimit: limits.fields, depth: limits.depth, type: () => true } as Parameters<typeof express.urlencoded>[0]);
  const run = (parser: RequestHandler, req: Request, res: Response) =>
    new Promise<void>((resolve, reject) => parser(req, res, (error?: unknown) => (error ? reject(bodyParserError(error as never)) : resolve())));

  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      req.files = [];
      req.bodyFromForm = false;
      const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
      if (!hasBody(req) && type === "") {
        req.body = {};
      } else if (type === "application/json" || type.endsWith("+json")) {
        await run(json, req, res);
      } else if (type === "application/x-www-form-urlencoded") {
        await run(form, req, res);
        req.bodyFromForm = true;
      } else if (type === "multipart/form-data") {
        const { fields, files } = await parseMultipart(req, res, {
          bodyBytes: limits.bodyBytes,
          fields: limits.fields,
          files: routes?.filesFor(req),
          beforeFirstFile: routes ? (sofar) => routes.beforeFirstFile(req, res, sofar) : undefined,
        });
        req.body = parseForm(fields, limits);
        req.files = files;
        req.bodyFromForm = true;
      } else if (!hasBody(req)) {
        req.body = {};
      } else {
        throw new AJAXError(415, Messages.unsupportedType);
      }
      const body = req.body === undefined || req.body === "" ? {} : req.body;
      if (body === null || typeof body !== "object" || Array.isArray(body)) {
        throw new AJAXError(400, "Request body must be a JSON object.");
      }
      req.body = sanitizeBody(body, limits.depth);
      next();
    } catch (error) {
      next(error);
    }
  };
}
