import type { Express } from "express";
import request from "supertest";
import { DataSource, type Logger } from "typeorm";
import { dataSourceOptions } from "../../ormconfig";
import { createBlogApp, seedDemoUsers, type BlogAppOptions } from "../../app";
import type { Ajax } from "../../src";
import { createTestDatabase, type TestDatabase, type TestDatabaseKind } from "./databases";

/** Counts the SQL statements a DataSource runs, through TypeORM's logger. */
export class QueryCounter implements Logger {
  count = 0;
  queries: string[] = [];
  /** The statements with their parameters, for EXPLAIN (test/plans.test.ts). */
  statements: Array<{ sql: string; parameters: unknown[] }> = [];
  logQuery(query: string, parameters?: unknown): void {
    this.count++;
    this.queries.push(query);
    this.statements.push({ sql: query, parameters: Array.isArray(parameters) ? parameters : [] });
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
  reset(): void {
    this.count = 0;
    this.queries = [];
    this.statements = [];
  }
}

/** A running example app on a fresh database of the suite's kind. */
export interface TestApp {
  app: Express;
  ajax: Ajax;
  dataSource: DataSource;
  database: TestDatabase;
  queries: QueryCounter;
  close(): Promise<void>;
}

/** Starts the example app on a fresh database (of the suite's kind unless given): migrations run, alice and bob seeded. */
export async function startTestApp(options: BlogAppOptions & { statementTimeoutMs?: number } = {}, kind?: TestDatabaseKind): Promise<TestApp> {
  const database = await createTestDatabase(kind);
  const queries = new QueryCounter();
  const dataSource = new DataSource({ ...dataSourceOptions(database.url, { statementTimeoutMs: options.statementTimeoutMs }), logger: queries } as never);
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: "each" });
  await seedDemoUsers(dataSource);
  const { app, ajax } = createBlogApp(dataSource, options);
  return {
    app, ajax, dataSource, database, queries,
    async close() {
      await ajax.close();
      await dataSource.destroy();
      await database.drop();
    },
  };
}

/** The CSRF token in a response's `csrftoken` cookie, if it set one. */
function tokenFromCookies(response: request.Response): string | undefined {
  const cookies = ([] as string[]).concat(response.headers["set-cookie"] ?? []);
  const cookie = cookies.find((c) => c.startsWith("csrftoken="));
  return cookie ? decodeURIComponent(cookie.split(";")[0]!.slice("csrftoken=".length)) : undefined;
}

/** A browser-like client: keeps cookies, sends the CSRF header, follows token rotation. */
export class Client {
  readonly agent: ReturnType<typeof request.agent>;
  token?: string;

  constructor(readonly app: Express) {
    this.agent = request.agent(app);
  }

  /** Fetches a CSRF token (GET /ajax/csrf.json). */
  async csrf(): Promise<string> {
    const response = await this.agent.get("/ajax/csrf.json").expect(200);
    this.token = response.body.data.token;
    return this.token!;
  }

  /** POSTs JSON (or a form string with `type: "form"`) with the CSRF header. */
  async post(path: string, body: object | string = {}, options: { type?: "json" | "form"; headers?: Record<string, string> } = {}) {
    if (!this.token) await this.csrf();
    let call = this.agent.post(path).set("X-CSRFToken", this.token!);
    for (const [name, value] of Object.entries(options.headers ?? {})) call = call.set(name, value);
    const response = await (options.type === "form" || typeof body === "string" ? call.type("form").send(body as string) : call.send(body));
    this.token = tokenFromCookies(response) ?? this.token;
    return response;
  }

  async login(username: string, password = `${username}-password`) {
    const response = await this.post("/ajax/auth/login.json", { username, password });
    if (response.status !== 200) throw new Error(`login as ${username} failed: ${response.status} ${JSON.stringify(response.body)}`);
    return response;
  }
}

/** A logged-in client. */
export async function loggedIn(app: Express, username: string): Promise<Client> {
  const client = new Client(app);
  await client.login(username);
  return client;
}
