import { BENCH_USER, CATEGORIES, OWNED } from "./seed";

/** The four operations every server answers, with byte-identical bodies. */
export type OpName = "get" | "list" | "update" | "create";
export const OPS: readonly OpName[] = ["get", "list", "update", "create"];

/** How a server is reached: the ajax wire (POST to `.json` routes) or Feathers' REST routes. */
export type Style = "ajax" | "feathers";

export interface ServerSpec {
  key: string;
  label: string;
  /** Compiled entry point, relative to dist/bench. */
  script: string;
  /** Logs in and sends the session cookie and CSRF header. */
  session: boolean;
  style: Style;
  /** Reports TypeORM statement counts over IPC. */
  countsQueries: boolean;
  /** More command-line arguments for the server. */
  args?: string[];
  /** better-sqlite3 only: not run with `--db postgres`. */
  sqliteOnly?: boolean;
  /** The label with `--db postgres`, where it differs. */
  postgresLabel?: string;
}

export type DatabaseKind = "sqlite" | "postgres";

/** The server every other is compared with: the framework's work written by hand (bench/servers/express-ceiling.ts). */
export const CEILING = "ceiling";

export const SERVERS: readonly ServerSpec[] = [
  { key: "ajax", label: "ajax-endpoints", script: "servers/ajax.js", session: true, style: "ajax", countsQueries: true },
  { key: CEILING, label: "ceiling: Express 5 + better-sqlite3, the same work by hand (session)", script: "servers/express-ceiling.js", session: true, style: "ajax", countsQueries: true,
    postgresLabel: "ceiling: Express 5 + pg, the same work by hand (session)" },
  { key: "express-typeorm", label: "Express 5 + TypeORM QueryBuilder (hand-written)", script: "servers/express-typeorm.js", session: true, style: "ajax", countsQueries: true },
  { key: "express-raw", label: "Express 5 + better-sqlite3 (no session)", script: "servers/express-raw.js", session: false, style: "ajax", countsQueries: true, sqliteOnly: true },
  { key: "http-raw", label: "node:http + better-sqlite3 (no session)", script: "servers/http-raw.js", session: false, style: "ajax", countsQueries: true, sqliteOnly: true },
  { key: "feathers-session", label: "FeathersJS 5 koa + knex (session)", script: "servers/feathers.js", session: true, style: "feathers", countsQueries: true, args: ["--session"] },
  { key: "feathers", label: "FeathersJS 5 koa + knex (no session)", script: "servers/feathers.js", session: false, style: "feathers", countsQueries: true },
];

/** The servers that run on a database: all on SQLite; on PostgreSQL all but the better-sqlite3-only ones. */
export const serversOn = (kind: DatabaseKind) => SERVERS.filter((s) => kind === "sqlite" || !s.sqliteOnly);

/** One HTTP request as autocannon and fetch take it. */
export interface HttpRequest {
  method: "GET" | "POST" | "PATCH";
  path: string;
  body?: string;
}

const json = (value: unknown) => JSON.stringify(value);
export const CREATE_BODY_TEXT = "Written by the benchmark.";

export function getRequest(style: Style, pk: number): HttpRequest {
  return style === "ajax"
    ? { method: "POST", path: `/ajax/blog/article/${pk}/get.json`, body: "{}" }
    : { method: "GET", path: `/articles/${pk}` };
}

export function listRequest(style: Style, category: number): HttpRequest {
  return style === "ajax"
    ? { method: "POST", path: "/ajax/blog/article/list.json", body: json({ items_per_page: 50, filter: { category } }) }
    : { method: "GET", path: `/articles?categoryId=${category}&$limit=50` };
}

export function createRequest(style: Style, n: number, category: number): HttpRequest {
  const body = json({ title: `Bench article ${n}`, body: CREATE_BODY_TEXT, published: true, category });
  return style === "ajax" ? { method: "POST", path: "/ajax/blog/article.json", body } : { method: "POST", path: "/articles", body };
}

export function updateRequest(style: Style, pk: number, n: number, version: number): HttpRequest {
  const body = json({ title: `Updated title ${n}`, _version: version });
  return style === "ajax" ? { method: "POST", path: `/ajax/blog/article/${pk}/update.json`, body } : { method: "PATCH", path: `/articles/${pk}`, body };
}

/** Articles the bench user may update: its own. */
export const UPDATABLE = Array.from({ length: OWNED }, (_, i) => i + 1);
export const randomCategory = () => 1 + Math.floor(Math.random() * CATEGORIES);
export { BENCH_USER };
