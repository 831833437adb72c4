import type { Response } from "express";

/**
 * One Server-Sent Events connection of the change feed. Writes never wait: a reader whose
 * unsent bytes pass `maxBufferBytes` is cut off (it reconnects with `Last-Event-ID` and is
 * caught up from the replay window, or told to resync) instead of being buffered without limit.
 */
export class EventStream {
  closed = false;
  readonly openedAt = Date.now();

  constructor(private readonly res: Response, private readonly maxBufferBytes: number, onClose: () => void) {
    res.on("close", () => {
      if (this.closed) return;
      this.closed = true;
      onClose();
    });
  }

  /** Answers `200 text/event-stream`, with the reconnection delay the browser should use. */
  open(retryMs: number): void {
    const { res } = this;
    res.status(200);
    res.setHeader("Content-Type", "text/event-stream; charset=utf-8");
    res.setHeader("Cache-Control", "no-store");
    res.setHeader("X-Accel-Buffering", "no");
    res.flushHeaders();
    this.write(`retry: ${retryMs}\n\n`);
  }

  /** An event; `data` is JSON text already (one encoding per group of subscribers, not per subscriber). */
  event(id: string, name: string, data: string): void {
    this.write(`id: ${id}\nevent: ${name}\ndata: ${data}\n\n`);
  }

  /** A comment line: heartbeats, and the `ready` mark once the subscription is live. */
  comment(text: string): void {
    this.write(`: ${text}\n\n`);
  }

  private write(text: string): void {
    if (this.closed) return;
    if (this.res.writableLength > this.maxBufferBytes) return this.drop();
    this.res.write(text);
  }

  /** Cuts off a reader that does not keep up. */
  drop(): void {
    this.res.destroy();
  }

  /** Ends the stream cleanly (the browser reconnects). */
  end(): void {
    if (!this.closed) this.res.end();
  }
}
