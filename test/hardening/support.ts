import { writeFileSync } from "node:fs";
import { Agent, request as httpRequest, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Express } from "express";
import type { DataSource, ObjectLiteral } from "typeorm";
import type { Ajax, ModelEndpoint } from "../../src";
import { createAjaxServer } from "../../src/http/server";

/** One HTTP exchange, as the hardening suites look at it. */
export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The parsed body when it is JSON, else undefined. */
  json?: any;
}

/** A request the suites send: anything goes, paths and bodies included. */
export interface RawRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** Listens on a loopback port; `close()` ends the open keep-alive connections too. */
export async function listen(app: Express): Promise<{ server: Server; base: string; port: number; close(): Promise<void> }> {
  const server = createAjaxServer(app);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    server, port, base: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** Sends one request over a keep-alive agent and reads the whole answer. */
export function send(base: string, agent: Agent, req: RawRequest, timeoutMs = 30_000): Promise<Reply> {
  const url = new URL(base);
  return new Promise<Reply>((resolve, reject) => {
    const headers: Record<string, string | number> = { ...req.headers };
    if (req.body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === "transfer-encoding")) {
      headers["Content-Length"] = Buffer.byteLength(req.body);
    }
    const call = httpRequest({ host: url.hostname, port: url.port, method: req.method, path: req.path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let json: unknown;
        if (/json/.test(String(res.headers["content-type"] ?? ""))) {
          try { json = JSON.parse(text); } catch { json = undefined; }
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on("error", reject);
    });
    call.setTimeout(timeoutMs, () => call.destroy(new Error(`no answer in ${timeoutMs} ms: ${req.method} ${req.path.slice(0, 200)}`)));
    call.on("error", reject);
    if (req.body !== undefined) call.write(req.body);
    call.end();
  });
}

/** A browser-like caller over real HTTP: a cookie jar, the CSRF token, token rotation. */
export class Caller {
  readonly cookies = new Map<string, string>();
  token?: string;

  constructor(readonly base: string, readonly agent: Agent, readonly label = "caller") {}

  cookieHeader(): string | undefined {
    if (this.cookies.size === 0) return undefined;
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }

  private remember(reply: Reply): void {
    for (const line of ([] as string[]).concat(reply.headers["set-cookie"] ?? [])) {
      const [pair] = line.split(";");
      const index = pair!.indexOf("=");
      const name = pair!.slice(0, index).trim();
      const value = pair!.slice(index + 1).trim();
      if (/expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
      if (name === "csrftoken") this.token = decodeURIComponent(value);
    }
  }

  /** Any request with this caller's cookies (and CSRF header unless `csrf: false`). */
  async raw(req: RawRequest, options: { csrf?: boolean; cookies?: boolean } = {}): Promise<Reply> {
    const headers: Record<string, string> = { ...req.headers };
    const cookie = this.cookieHeader();
    if (cookie && options.cookies !== false) headers.Cookie = cookie;
    if (options.csrf !== false && this.token && req.method === "POST" && !("X-CSRFToken" in headers)) headers["X-CSRFToken"] = this.token;
    const reply = await send(this.base, this.agent, { ...req, headers });
    this.remember(reply);
    return reply;
  }

  async csrf(): Promise<string> {
    const reply = await this.raw({ method: "GET", path: "/ajax/csrf.json" });
    if (reply.status !== 200) throw new Error(`csrf.json answered ${reply.status}`);
    this.token = reply.json.data.token;
    return this.token!;
  }

  /** POSTs JSON (an object) or a form (a string). */
  async post(path: string, body: object | string = {}, headers: Record<string, string> = {}): Promise<Reply> {
    if (!this.token) await this.csrf();
    const form = typeof body === "string";
    return this.raw({
      method: "POST", path,
      headers: { "Content-Type": form ? "application/x-www-form-urlencoded" : "application/json", ...headers },
      body: form ? body : JSON.stringify(body),
    });
  }

  async login(username: string, password = `${username}-password`): Promise<Reply> {
    await this.csrf();
    const reply = await this.post("/ajax/auth/login.json", { username, password });
    if (reply.status !== 200) throw new Error(`login as ${username}: ${reply.status} ${reply.text}`);
    return reply;
  }
}

/**
 * What is wrong with an answer under the mount, or null: it must be the JSON envelope (or
 * problem+json when asked), a 4xx or 200 (never a 5xx), its code matching the status.
 */
export function envelopeProblem(reply: Reply, req: RawRequest): string | null {
  const accept = Object.entries(req.headers ?? {}).find(([name]) => name.toLowerCase() === "accept")?.[1] ?? "";
  const type = String(reply.headers["content-type"] ?? "");
  if (reply.status >= 500) return `status ${reply.status}`;
  if (req.method === "HEAD") return reply.status === 200 || (reply.status >= 400 && reply.status < 500) ? null : `HEAD status ${reply.status}`;
  if (reply.status === 200 && /text\/event-stream/i.test(accept) && type.startsWith("text/event-stream")) return null;
  // The GET routes beside the endpoints answer documents, not envelopes (CONTRACT.md §1).
  const route = req.path.split("?")[0]!.replace(/^\/ajax/i, "");
  if (reply.status === 200 && (req.method === "GET" || req.method === "HEAD")) {
    if (/^\/(client|interface)\.js$/.test(route) && type.startsWith("application/javascript")) return null;
    if (route === "/openapi.json" && type.startsWith("application/json")) return reply.json ? null : "openapi.json is not JSON";
    if (/^\/docs\/?/.test(route) && type.startsWith("text/html")) return null;
  }
  // A request Node's HTTP parser refused is answered before its headers are known: always the envelope.
  const refusedByParser = reply.headers.connection === "close" && [400, 408, 431].includes(reply.status) && type.startsWith("application/json");
  if (reply.status >= 400 && accept.toLowerCase().includes("application/problem+json") && !refusedByParser) {
    if (type !== "application/problem+json; charset=utf-8") return `problem type ${type}`;
    const body = reply.json;
    if (!body || body.status !== reply.status || typeof body.title !== "string" || typeof body.detail !== "string") return "bad problem body";
    return null;
  }
  if (type !== "application/json; charset=utf-8") return `content type "${type}"`;
  const body = reply.json;
  if (!body || typeof body !== "object") return "body is not JSON";
  if (reply.status === 200) return body.success === true && "data" in body ? null : "success envelope";
  if (reply.status < 400) return `status ${reply.status}`;
  if (body.success !== false || body.data?.code !== reply.status || typeof body.data?.message !== "string") return "error envelope";
  if (reply.status === 405 && !reply.headers.allow) return "405 without Allow";
  if (reply.status === 401 && !reply.headers["www-authenticate"]) return "401 without WWW-Authenticate";
  return null;
}

/**
 * The rows a non-staff caller may not change: other users' articles and their tag links and
 * comments, every category and every user. Compared before and after an attack.
 */
export async function protectedSnapshot(dataSource: DataSource, callerIds: number | number[]): Promise<string> {
  const ids = ([] as number[]).concat(callerIds);
  const q = (sql: string, params: unknown[] = []) => dataSource.query(sql, params) as Promise<ObjectLiteral[]>;
  const p = dataSource.options.type === "postgres" ? (n: number) => `$${n}` : () => "?";
  const notCallers = (column: string) => ids.map((_, index) => `${column} <> ${p(index + 1)}`).join(" AND ");
  const e = (name: string) => dataSource.driver.escape(name);
  const normalize = (rows: ObjectLiteral[]) => rows.map((row) => Object.fromEntries(Object.entries(row)
    .map(([key, value]) => [key, value instanceof Date ? value.toISOString() : value === null ? null : String(value)])));
  const parts = {
    users: await q(`SELECT * FROM ${e("user")} ORDER BY ${e("id")}`),
    categories: await q(`SELECT * FROM ${e("category")} ORDER BY ${e("id")}`),
    articles: await q(`SELECT * FROM ${e("article")} WHERE ${notCallers(e("authorId"))} ORDER BY ${e("id")}`, ids),
    comments: await q(`SELECT * FROM ${e("comment")} WHERE ${notCallers(e("authorId"))} ORDER BY ${e("id")}`, ids),
    links: await q(`SELECT l.${e("objectId")}, l.${e("tagId")} FROM ${e("ajax_tagged_item")} l INNER JOIN ${e("article")} a ON a.${e("id")} = l.${e("objectId")}
      WHERE l.${e("model")} = 'article' AND ${notCallers(`a.${e("authorId")}`)} ORDER BY 1, 2`, ids),
  };
  return JSON.stringify(Object.fromEntries(Object.entries(parts).map(([key, rows]) => [key, normalize(rows)])));
}

/** Every registered model endpoint, with its app and name. */
export function registeredModels(ajax: Ajax): Array<{ app: string; name: string; endpoint: ModelEndpoint }> {
  const out: Array<{ app: string; name: string; endpoint: ModelEndpoint }> = [];
  for (const [app, definition] of ajax.registry.apps) {
    for (const [name, endpoint] of definition.models) out.push({ app, name, endpoint });
  }
  return out;
}

/** A seed from FUZZ_SEED: a number, `random` (printed), or the fixed default. */
export function fuzzSeed(): number {
  const text = process.env.FUZZ_SEED;
  if (text === "random") {
    const seed = Math.floor(Math.random() * 2 ** 31);
    console.log(`      FUZZ_SEED=random: using seed ${seed}`);
    return seed;
  }
  if (text !== undefined && text !== "" && Number.isSafeInteger(Number(text))) return Number(text);
  return 20261121;
}

/** Figures the suites record for docs/guarantees.md; printed at the end, and written to HARDENING_REPORT when set. */
export const figures: Record<string, unknown> = {};

// A root hook: after every hardening suite has run.
if (typeof after === "function") {
  after(() => {
    if (Object.keys(figures).length === 0) return;
    console.log(`\n  hardening figures: ${JSON.stringify(figures)}`);
    if (process.env.HARDENING_REPORT) writeFileSync(process.env.HARDENING_REPORT, JSON.stringify(figures, null, 2));
  });
}
