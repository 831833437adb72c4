import { request, type ClientRequest, type IncomingMessage } from "node:http";

/** One Server-Sent Event as a browser's EventSource sees it. */
export interface FeedEvent {
  id?: string;
  event: string;
  data: any;
}

/**
 * A change-feed reader over a real HTTP connection: parses the stream as EventSource does
 * (events, ids, comment lines), and waits for what a test expects.
 */
export class EventReader {
  readonly events: FeedEvent[] = [];
  readonly comments: string[] = [];
  ended = false;
  private buffer = "";
  private waiters: Array<() => void> = [];

  private constructor(readonly response: IncomingMessage, private readonly call: ClientRequest) {
    response.setEncoding("utf8");
    response.on("data", (chunk: string) => this.take(chunk));
    response.on("close", () => { this.ended = true; this.wake(); });
    response.on("error", () => {});
  }

  /**
   * Opens `url` with the given cookies (and `Last-Event-ID`), resolving once the feed is live
   * (its `: ready` comment) or, for a refused request, with the JSON error's status and body.
   */
  static async open(url: string, cookie: string, headers: Record<string, string> = {}): Promise<EventReader> {
    const call = request(url, { headers: { Accept: "text/event-stream", Cookie: cookie, ...headers } });
    call.on("error", () => {});
    const response: IncomingMessage = await new Promise((resolve, reject) => {
      call.on("response", resolve);
      call.on("error", reject);
      call.end();
    });
    const reader = new EventReader(response, call);
    if (response.statusCode === 200) await reader.until(() => reader.comments.includes("ready"), 5000, "ready");
    else await reader.until(() => reader.ended, 5000, "end of the error");
    return reader;
  }

  /** The JSON body of a refused request. */
  get body(): any {
    return JSON.parse(this.buffer);
  }

  /** Stops reading from the socket (a slow reader) without closing it. */
  pause(): void {
    this.response.pause();
  }

  close(): void {
    this.call.destroy();
  }

  /** Waits for the `count`-th event (1-based) that matches. */
  async next(match: (event: FeedEvent) => boolean = () => true, timeoutMs = 5000): Promise<FeedEvent> {
    let found: FeedEvent | undefined;
    await this.until(() => (found = this.events.find(match)) !== undefined, timeoutMs, "an event");
    return found!;
  }

  /** Resolves when `condition` holds; fails after `timeoutMs` with what was received. */
  async until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; events: ${JSON.stringify(this.events)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.waiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  private take(chunk: string): void {
    this.buffer += chunk;
    if (this.response.statusCode !== 200) return;
    let end: number;
    while ((end = this.buffer.indexOf("\n\n")) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const event: Partial<FeedEvent> & { data?: string } = {};
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) this.comments.push(line.slice(1).trim());
        else if (line.startsWith("id: ")) event.id = line.slice(4);
        else if (line.startsWith("event: ")) event.event = line.slice(7);
        else if (line.startsWith("data: ")) event.data = line.slice(6);
      }
      if (event.event) this.events.push({ id: event.id, event: event.event, data: JSON.parse(event.data ?? "null") });
    }
    this.wake();
  }
}

/** The Cookie header of a cookie jar (CookieClient's map of name to value). */
export function cookieHeader(cookies: Map<string, string>): string {
  return [...cookies].map(([name, value]) => `${name}=${value}`).join("; ");
}
