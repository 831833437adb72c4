import busboy from "busboy";
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import express, { type NextFunction, type Request, type RequestHandler, type Response } from "express";
import qs from "qs";
import { AJAXError, Messages } from "../errors";
import { FORBIDDEN_KEYS } from "../names";

/** A file of a multipart body, already on disk; removed when the response ends. */
export interface UploadedFile {
  /** The form field it came in. */
  field: string;
  /** The name the browser gave it (never used as a path). */
  filename: string;
  mimeType: string;
  size: number;
  sha256: string;
  /** Where it is on disk, until the response ends. */
  path: string;
}

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

/**
 * Copies a parsed body into fresh objects without `__proto__`, `constructor` or `prototype`
 * keys, and fails on nesting deeper than `maxDepth`. Iterative, so that hostile nesting
 * cannot exhaust the stack.
 */
export function sanitizeBody(value: unknown, maxDepth: number): unknown {
  const root: { value?: unknown } = {};
  const stack: Array<{ source: unknown; assign: (copy: unknown) => void; depth: number }> = [
    { source: value, assign: (copy) => { root.value = copy; }, depth: 0 },
  ];
  while (stack.length > 0) {
    const { source, assign, depth } = stack.pop()!;
    if (source === null || typeof source !== "object") { assign(source); continue; }
    if (depth >= maxDepth) throw new AJAXError(400, `Request body is nested deeper than ${maxDepth} levels.`);
    if (Array.isArray(source)) {
      const copy: unknown[] = new Array(source.length);
      assign(copy);
      source.forEach((item, index) => stack.push({ source: item, assign: (c) => { copy[index] = c; }, depth: depth + 1 }));
      continue;
    }
    const copy: Record<string, unknown> = {};
    assign(copy);
    for (const key of Object.keys(source)) {
      if (FORBIDDEN_KEYS.has(key)) continue;
      stack.push({ source: (source as Record<string, unknown>)[key], assign: (c) => { copy[key] = c; }, depth: depth + 1 });
    }
  }
  return root.value;
}

/** Maps a body-parser failure to the contract's statuses. */
function bodyParserError(error: { type?: string; status?: number }): AJAXError {
  if (error.type === "entity.too.large") return new AJAXError(413, Messages.tooLarge);
  if (error.type === "encoding.unsupported" || error.type === "charset.unsupported") return new AJAXError(415, Messages.unsupportedType);
  if (error.type === "parameters.too.many") return new AJAXError(413, "Too many form fields.");
  return new AJAXError(400, Messages.malformed);
}

function parseForm(pairs: Array<[string, string]>, limits: BodyLimits): Record<string, unknown> {
  const text = pairs.map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`).join("&");
  return qs.parse(text, { depth: limits.depth, arrayLimit: limits.fields, parameterLimit: limits.fields, allowPrototypes: false });
}

/** Streams a multipart body: files to a temporary folder (removed when the response ends), fields to an object. */
function parseMultipart(req: Request, res: Response, limits: BodyLimits): Promise<void> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        limits: { fileSize: limits.fileBytes, files: limits.files, fields: limits.fields, fieldSize: limits.bodyBytes, parts: limits.files + limits.fields },
      });
    } catch {
      reject(new AJAXError(400, Messages.malformed));
      return;
    }
    const fields: Array<[string, string]> = [];
    const files: UploadedFile[] = [];
    const writes: Promise<void>[] = [];
    let folder: Promise<string> | undefined;
    const openStreams = new Set<NodeJS.ReadableStream & { destroy(): void }>();
    let failure: AJAXError | undefined;
    // On the first failure: answer at once, stop parsing, close open files, drain the rest.
    const fail = (error: AJAXError) => {
      if (failure) return;
      failure = error;
      req.unpipe(parser);
      for (const stream of openStreams) stream.destroy();
      req.resume();
      reject(error);
    };
    const folderOnce = () => {
      folder ??= mkdtemp(join(tmpdir(), "ajax-upload-")).then((path) => {
        res.once("close", () => { void rm(path, { recursive: true, force: true }); });
        return path;
      });
      return folder;
    };
    parser.on("field", (name, value, info) => {
      if (info.valueTruncated) fail(new AJAXError(413, Messages.tooLarge));
      else fields.push([name, value]);
    });
    parser.on("file", (field, stream, info) => {
      const index = files.length;
      const hash = createHash("sha256");
      const file: UploadedFile = { field, filename: String(info.filename ?? "").slice(0, 255), mimeType: info.mimeType, size: 0, sha256: "", path: "" };
      files.push(file);
      openStreams.add(stream);
      stream.on("end", () => openStreams.delete(stream));
      stream.on("limit", () => fail(new AJAXError(413, `File too large (at most ${limits.fileBytes} bytes).`)));
      // The stream stays paused until the pipeline reads it, so no chunk misses the file or the hash.
      const write = folderOnce().then(async (path) => {
        file.path = join(path, `upload-${index}`);
        await pipeline(stream, async function* (chunks: AsyncIterable<Buffer>) {
          for await (const chunk of chunks) {
            file.size += chunk.length;
            hash.update(chunk);
            yield chunk;
          }
        }, createWriteStream(file.path));
        file.sha256 = hash.digest("hex");
      });
      // After a failure the parser never closes, so nothing else awaits this write; its
      // rejection (a destroyed stream) must not become an unhandled rejection that ends the process.
      write.catch(() => {});
      writes.push(write);
    });
    parser.on("filesLimit", () => fail(new AJAXError(413, `Too many files (at most ${limits.files}).`)));
    parser.on("fieldsLimit", () => fail(new AJAXError(413, "Too many form fields.")));
    parser.on("partsLimit", () => fail(new AJAXError(413, "Too many parts.")));
    parser.on("error", () => fail(new AJAXError(400, Messages.malformed)));
    parser.on("close", () => {
      Promise.all(writes).then(() => {
        if (failure) return;
        req.body = parseForm(fields, limits);
        req.files = files;
        resolve();
      }, () => fail(new AJAXError(400, Messages.malformed)));
    });
    // A client that goes away mid-body: close the open files (each holds a descriptor) and stop.
    req.once("close", () => {
      if (!req.complete) fail(new AJAXError(400, Messages.malformed));
    });
    req.pipe(parser);
  });
}

function hasBody(req: Request): boolean {
  return req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"] ?? 0) > 0;
}

/**
 * Parses a POST body by its content type: JSON, form (`a[b]=1` nests, `a[]=1` is an array)
 * and multipart (files). Any other type is a `415`, too large a `413`, malformed a `400`.
 * The result is always a plain object in `req.body`.
 */
export function bodyParser(limits: BodyLimits): RequestHandler {
  const json = express.json({ limit: limits.bodyBytes, strict: false, type: () => true });
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
        await parseMultipart(req, res, limits);
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
