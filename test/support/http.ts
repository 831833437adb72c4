import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Express } from "express";

/** Serves an Express app on a free port of 127.0.0.1; resolves its base URL and a way to stop it. */
export async function listen(app: Express): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = await new Promise((resolve) => {
    const started = app.listen(0, "127.0.0.1", () => resolve(started));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** A JSON response: status and parsed body. */
export interface JsonResponse {
  status: number;
  body: any;
  headers: Headers;
}

/**
 * A browser over plain `fetch`: one cookie jar for every server it talks to (cookies do not
 * care about ports, as in a browser), the CSRF token read from the `csrftoken` cookie and sent
 * as `X-CSRFToken`. Talks to any base URL, so a session opened on one server can be used on another.
 */
export class CookieClient {
  /** Cookie name → value as the server set it (still URL-encoded). */
  readonly cookies = new Map<string, string>();

  /** GET /ajax/csrf.json on `baseUrl`, which sets the `csrftoken` cookie. */
  async csrf(baseUrl: string): Promise<string> {
    await this.request(baseUrl, "/ajax/csrf.json", { method: "GET" });
    const token = this.cookies.get("csrftoken");
    if (!token) throw new Error(`${baseUrl}/ajax/csrf.json set no csrftoken cookie`);
    return decodeURIComponent(token);
  }

  /** POSTs JSON with the CSRF header (fetching a token first if there is none). */
  async post(baseUrl: string, path: string, body: object = {}, headers: Record<string, string> = {}): Promise<JsonResponse> {
    if (!this.cookies.has("csrftoken")) await this.csrf(baseUrl);
    return this.request(baseUrl, path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": decodeURIComponent(this.cookies.get("csrftoken")!), ...headers },
      body: JSON.stringify(body),
    });
  }

  async login(baseUrl: string, username: string, password = `${username}-password`): Promise<JsonResponse> {
    const response = await this.post(baseUrl, "/ajax/auth/login.json", { username, password });
    if (response.status !== 200) throw new Error(`login as ${username} on ${baseUrl}: ${response.status} ${JSON.stringify(response.body)}`);
    return response;
  }

  private async request(baseUrl: string, path: string, init: RequestInit & { headers?: Record<string, string> }): Promise<JsonResponse> {
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
    const response = await fetch(`${baseUrl}${path}`, {
      ...init, headers: { Accept: "application/json", ...init.headers, ...(cookie ? { Cookie: cookie } : {}) },
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const split = pair!.indexOf("=");
      const name = pair!.slice(0, split).trim();
      const value = pair!.slice(split + 1).trim();
      if (/expires=Thu, 01 Jan 1970/i.test(line) || /max-age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch { /* not JSON: the caller sees the text */ }
    return { status: response.status, body, headers: response.headers };
  }
}

/** Two listening instances of the example app on one database, each with a DataSource of its own, as two servers would be. */
export interface TwoInstances {
  /** The first instance's test app (its database, its DataSource). */
  t: import("./app").TestApp;
  first: { url: string; close(): Promise<void> };
  second: { url: string; close(): Promise<void> };
  /** The second instance's router (its change feed). */
  secondAjax: import("../../src").Ajax;
  close(): Promise<void>;
}

/** Starts {@link TwoInstances} with the same app options (the session secret and store) on both. */
export async function startTwoInstances(options: import("../../app").BlogAppOptions, kind?: import("./databases").TestDatabaseKind): Promise<TwoInstances> {
  const { startTestApp } = await import("./app");
  const { createBlogApp } = await import("../../app");
  const { dataSourceOptions } = await import("../../ormconfig");
  const { DataSource } = await import("typeorm");
  const t = await startTestApp(options, kind);
  const secondSource = new DataSource(dataSourceOptions(t.database.url));
  await secondSource.initialize();
  const other = createBlogApp(secondSource, options);
  const [first, second] = [await listen(t.app), await listen(other.app)];
  return {
    t, first, second, secondAjax: other.ajax,
    async close() {
      await first.close();
      await second.close();
      await other.ajax.close();
      if (secondSource.isInitialized) await secondSource.destroy();
      await t.close();
    },
  };
}
