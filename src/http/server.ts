import { createServer, STATUS_CODES, type RequestListener, type Server } from "node:http";
import type { Duplex } from "node:stream";

/** How long a client may take, in milliseconds. */
export interface ServerTimeouts {
  /** The whole request, body included (default 30 s): a body that trickles in is cut off. */
  requestMs: number;
  /** The request line and headers (default 10 s): slowloris. */
  headersMs: number;
  /** An idle keep-alive connection (default 5 s). */
  keepAliveMs: number;
}

export const DEFAULT_SERVER_TIMEOUTS: ServerTimeouts = { requestMs: 30_000, headersMs: 10_000, keepAliveMs: 5_000 };

/** What a request that never reached the app is answered with. */
const CLIENT_ERRORS: Record<string, number> = {
  ERR_HTTP_REQUEST_TIMEOUT: 408,
  HPE_HEADER_OVERFLOW: 431,
};

/**
 * Answers a request Node's HTTP parser refused (malformed request line, headers too large, a
 * body or headers that took too long) with the JSON error envelope instead of Node's empty
 * reply, then closes the connection. The request's headers are not known here, so it is the
 * envelope even when the client asked for problem+json.
 */
function answerClientError(error: Error & { code?: string; rawPacket?: unknown }, socket: Duplex & { _httpMessage?: { headersSent?: boolean } | null }): void {
  if (!socket.writable || socket._httpMessage?.headersSent) {
    socket.destroy();
    return;
  }
  const status = CLIENT_ERRORS[error.code ?? ""] ?? 400;
  const message = status === 408 ? "Request timeout." : status === 431 ? "Request headers too large." : "Malformed request.";
  const body = JSON.stringify({ success: false, data: { code: status, message } });
  // An answer to HEAD has no body, or the client reads the body as the start of a next answer.
  const head = Buffer.isBuffer(error.rawPacket) && error.rawPacket.subarray(0, 5).toString("latin1") === "HEAD ";
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
    `Cache-Control: no-store\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${head ? "" : body}`,
  // Whatever the client still sends is not read: close once the answer is out.
  () => socket.destroy());
}

/**
 * An HTTP server for an app with timeouts that a slow client cannot hold open (Node's own
 * request timeout is five minutes, checked every thirty seconds) and JSON answers to requests
 * that the HTTP parser refuses.
 *
 * @example createAjaxServer(app).listen(3000)
 */
export function createAjaxServer(app: RequestListener, timeouts: Partial<ServerTimeouts> = {}): Server {
  const requestMs = timeouts.requestMs ?? DEFAULT_SERVER_TIMEOUTS.requestMs;
  const headersMs = timeouts.headersMs ?? DEFAULT_SERVER_TIMEOUTS.headersMs;
  const keepAliveMs = timeouts.keepAliveMs ?? DEFAULT_SERVER_TIMEOUTS.keepAliveMs;
  const server = createServer({
    requestTimeout: requestMs,
    // Node needs headersTimeout <= requestTimeout.
    headersTimeout: Math.min(headersMs, requestMs),
    keepAliveTimeout: keepAliveMs,
    // How often the timeouts above are checked; Node's default is every 30 s.
    connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(Math.min(headersMs, requestMs) / 4))),
  }, app);
  server.on("clientError", answerClientError);
  return server;
}
