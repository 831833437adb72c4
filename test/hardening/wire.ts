import { connect } from "node:net";

/** What came back on a raw connection: the status line's code (0 if none), headers, body. */
export interface WireReply {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The connection was closed or reset before any answer came. */
  noAnswer: boolean;
}

/**
 * Sends exact bytes to a server over a new TCP connection and reads until the server closes it
 * (requests carry `Connection: close`) or `timeoutMs` passes. Byte-level: a body may be cut
 * off, lie about its length or hold any bytes; nothing here fixes it up.
 */
export function sendBytes(port: number, bytes: Buffer, timeoutMs = 10_000): Promise<WireReply> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(parseReply(Buffer.concat(chunks)));
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", finish);
    socket.on("close", finish);
    socket.write(bytes, () => {});
  });
}

function parseReply(raw: Buffer): WireReply {
  const text = raw.toString("utf8");
  const end = text.indexOf("\r\n\r\n");
  const match = /^HTTP\/1\.1 (\d{3})/.exec(text);
  if (!match || end < 0) return { status: 0, headers: {}, body: text, noAnswer: true };
  const headers: Record<string, string> = {};
  for (const line of text.slice(0, end).split("\r\n").slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = text.slice(end + 4);
  if (/chunked/i.test(headers["transfer-encoding"] ?? "")) body = unchunk(body);
  return { status: Number(match[1]), headers, body, noAnswer: false };
}

function unchunk(text: string): string {
  let out = "";
  let rest = text;
  for (;;) {
    const lineEnd = rest.indexOf("\r\n");
    if (lineEnd < 0) return out;
    const size = parseInt(rest.slice(0, lineEnd), 16);
    if (!Number.isFinite(size) || size === 0) return out;
    out += rest.slice(lineEnd + 2, lineEnd + 2 + size);
    rest = rest.slice(lineEnd + 2 + size + 2);
  }
}

/** One part of a multipart body, as raw bytes: its headers are written exactly as given. */
export interface RawPart {
  headers: string[];
  content: Buffer | string;
}

/** A multipart/form-data body from raw parts, with the closing boundary. */
export function multipartBody(boundary: string, parts: readonly RawPart[]): Buffer {
  const pieces: Buffer[] = [];
  for (const part of parts) {
    pieces.push(Buffer.from(`--${boundary}\r\n${part.headers.join("\r\n")}\r\n\r\n`, "latin1"));
    pieces.push(typeof part.content === "string" ? Buffer.from(part.content, "utf8") : part.content);
    pieces.push(Buffer.from("\r\n", "latin1"));
  }
  pieces.push(Buffer.from(`--${boundary}--\r\n`, "latin1"));
  return Buffer.concat(pieces);
}

/** A field part. */
export function fieldPart(name: string, value: string | Buffer, contentType?: string): RawPart {
  return { headers: [`Content-Disposition: form-data; name="${name}"`, ...(contentType ? [`Content-Type: ${contentType}`] : [])], content: value };
}

/** A file part. */
export function filePart(name: string, filename: string, content: Buffer | string, contentType = "application/octet-stream"): RawPart {
  return { headers: [`Content-Disposition: form-data; name="${name}"; filename="${filename}"`, `Content-Type: ${contentType}`], content };
}

/**
 * A complete POST as bytes. `contentLength` may differ from the body's length (a cut-off or a
 * lying body); by default it is the body's own length.
 */
export function postBytes(path: string, headers: Record<string, string>, body: Buffer, contentLength = body.length): Buffer {
  const head = [`POST ${path} HTTP/1.1`, "Host: 127.0.0.1", "Connection: close", `Content-Length: ${contentLength}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)].join("\r\n");
  return Buffer.concat([Buffer.from(`${head}\r\n\r\n`, "latin1"), body]);
}
