import busboy from "busboy";
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import type { Readable } from "node:stream";
import type { Request, Response } from "express";
import { AJAXError, Messages } from "../errors";

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

/** How many files an endpoint takes and how large each may be. */
export interface FileLimits {
  /** Most files in one body. */
  count: number;
  /** Largest file, in bytes. */
  bytes: number;
}

/** What {@link parseMultipart} needs besides the request. */
export interface MultipartOptions {
  /** Largest total of field names and values, in bytes: the same limit as a form or JSON body. */
  bodyBytes: number;
  /** Most fields. */
  fields: number;
  /** The endpoint's file limits; without them any file part is refused before it is read. */
  files?: FileLimits;
  /**
   * Runs once, before the first file part touches the disk, with the fields read so far: the
   * CSRF check and the endpoint's `authenticate`. A rejection ends the parse with that error.
   */
  beforeFirstFile?(fields: ReadonlyArray<readonly [string, string]>): Promise<void>;
}

/** A parsed multipart body: fields in the order sent, and files on disk. */
export interface MultipartBody {
  fields: Array<[string, string]>;
  files: UploadedFile[];
}

/** Most bytes of a field name; the name is a form key, not data. */
const FIELD_NAME_BYTES = 200;

/**
 * Streams a multipart body: fields into memory (within the body limit), files to a temporary
 * folder that is removed when the response ends. Every error of the parser, of each file
 * stream, of the request and of the disk settles the returned promise with an
 * {@link AJAXError}; none is left without a listener, so none can end the process.
 */
export function parseMultipart(req: Request, res: Response, options: MultipartOptions): Promise<MultipartBody> {
  return new Promise((resolve, reject) => {
    const fileLimits = options.files;
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        defParamCharset: "utf8",
        limits: {
          fieldNameSize: FIELD_NAME_BYTES,
          fieldSize: options.bodyBytes,
          fields: options.fields,
          files: fileLimits?.count ?? 0,
          fileSize: fileLimits?.bytes ?? 0,
          parts: (fileLimits?.count ?? 0) + options.fields,
        },
      });
    } catch {
      reject(new AJAXError(400, Messages.malformed));
      return;
    }
    const fields: Array<[string, string]> = [];
    const files: UploadedFile[] = [];
    const writes: Promise<void>[] = [];
    const openStreams = new Set<Readable>();
    let fieldBytes = 0;
    let folder: Promise<string> | undefined;
    let gate: Promise<void> | undefined;
    let failure: AJAXError | undefined;

    const removeFolder = () => {
      if (folder) void folder.then((path) => rm(path, { recursive: true, force: true })).catch(() => {});
    };
    // On the first failure: answer at once, stop parsing, close and remove what was written,
    // and discard whatever the client still sends (without holding it).
    const fail = (error: unknown) => {
      if (failure) return;
      failure = error instanceof AJAXError ? error : new AJAXError(400, Messages.malformed);
      req.unpipe(parser);
      for (const stream of openStreams) stream.destroy();
      removeFolder();
      if (!req.complete) res.setHeader("Connection", "close");
      req.resume();
      reject(failure);
    };
    // An exception in any handler is this request's 400, never an uncaught exception.
    const guarded = <A extends unknown[]>(handler: (...args: A) => void) => (...args: A) => {
      if (failure) return;
      try {
        handler(...args);
      } catch (error) {
        fail(error);
      }
    };
    const folderOnce = () => {
      folder ??= mkdtemp(join(tmpdir(), "ajax-upload-")).then((path) => {
        res.once("close", () => { void rm(path, { recursive: true, force: true }).catch(() => {}); });
        return path;
      });
      return folder;
    };

    parser.on("field", guarded((name: string, value: string, info: busboy.FieldInfo) => {
      if (info.nameTruncated || info.valueTruncated) throw new AJAXError(413, Messages.tooLarge);
      fieldBytes += Buffer.byteLength(name) + Buffer.byteLength(value);
      if (fieldBytes > options.bodyBytes) throw new AJAXError(413, Messages.tooLarge);
      fields.push([name, value]);
    }));
    parser.on("file", (field: string, stream: Readable, info: busboy.FileInfo) => {
      // Busboy also reports a cut-off body on the file stream; without a listener that error
      // would end the process. The parser's own "error" event is what fails the request.
      stream.on("error", () => {});
      if (failure || !fileLimits) {
        stream.resume();
        return;
      }
      openStreams.add(stream);
      stream.on("end", () => openStreams.delete(stream));
      stream.on("limit", () => fail(new AJAXError(413, `File too large (at most ${fileLimits.bytes} bytes).`)));
      const index = files.length;
      const file: UploadedFile = { field, filename: String(info.filename ?? "").slice(0, 255), mimeType: info.mimeType, size: 0, sha256: "", path: "" };
      files.push(file);
      // The first file waits for the gate; busboy stops reading the request meanwhile, since
      // the stream is not being read (backpressure), so nothing piles up in memory.
      gate ??= options.beforeFirstFile ? options.beforeFirstFile(fields.slice()) : Promise.resolve();
      const write = gate.then(async () => {
        // A request that failed meanwhile (the client gone) creates no folder: nothing would remove it.
        if (failure) return;
        const path = await folderOnce();
        if (failure) return;
        file.path = join(path, `upload-${index}`);
        const hash = createHash("sha256");
        await pipeline(stream, async function* (chunks: AsyncIterable<Buffer>) {
          for await (const chunk of chunks) {
            file.size += chunk.length;
            hash.update(chunk);
            yield chunk;
          }
        }, createWriteStream(file.path));
        file.sha256 = hash.digest("hex");
      });
      // The first rejection (the gate refusing, a disk error, a stream cut short) fails the
      // request; after a failure nothing else awaits the write, so it is caught here too.
      write.catch((error: unknown) => fail(error));
      writes.push(write);
    });
    parser.on("filesLimit", guarded(() => {
      throw fileLimits
        ? new AJAXError(413, `Too many files (at most ${fileLimits.count}).`)
        : new AJAXError(415, "This endpoint takes no files.");
    }));
    parser.on("fieldsLimit", guarded(() => { throw new AJAXError(413, "Too many form fields."); }));
    parser.on("partsLimit", guarded(() => { throw new AJAXError(413, "Too many parts."); }));
    parser.on("error", () => fail(new AJAXError(400, Messages.malformed)));
    parser.on("close", () => {
      Promise.all(writes).then(() => {
        if (failure) return;
        resolve({ fields, files });
      }, fail);
    });
    req.on("error", () => fail(new AJAXError(400, Messages.malformed)));
    // A client that goes away mid-body: close the open files (each holds a descriptor) and stop.
    req.once("close", () => {
      if (!req.complete) fail(new AJAXError(400, Messages.malformed));
    });
    req.pipe(parser);
  });
}
