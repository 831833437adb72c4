import type { Request, Response } from "express";
import type { RequestContext } from "../context";
import { AJAXError, Messages } from "../errors";

/** True when the client asked for Server-Sent Events. */
export function wantsEventStream(req: Request): boolean {
  return typeof req.headers.accept === "string" && req.headers.accept.includes("text/event-stream");
}

function writeEvent(res: Response, event: string, payload: unknown): void {
  res.write(`event: ${event}\ndata: ${JSON.stringify(payload)}\n\n`);
}

/**
 * Streams an async generator endpoint as Server-Sent Events (Flask-Sijax's comet): each
 * yielded value goes out as a `message` event `{data, commands}` with the commands queued
 * since the last one, then `end`. An error becomes an `error` event with the error envelope.
 * A client that goes away stops the generator (its `finally` blocks run).
 */
export async function streamEvents(
  generator: AsyncGenerator<unknown>, ctx: RequestContext, toError: (error: unknown) => AJAXError,
  encode: (value: unknown) => unknown = (value) => value,
): Promise<void> {
  const { res } = ctx;
  let closed = false;
  res.on("close", () => {
    closed = true;
    void generator.return(undefined).catch(() => {});
  });
  res.status(200);
  res.setHeader("Content-Type", "text/event-stream; charset=utf-8");
  res.setHeader("Cache-Control", "no-store");
  res.setHeader("X-Accel-Buffering", "no");
  res.flushHeaders();
  try {
    for (;;) {
      const step = await generator.next();
      if (closed) return;
      if (step.done) break;
      writeEvent(res, "message", { data: step.value === undefined ? null : encode(step.value), commands: ctx.commands.drain() });
    }
    writeEvent(res, "end", { success: true, commands: ctx.commands.drain() });
  } catch (error) {
    if (closed) return;
    const failure = toError(error);
    writeEvent(res, "error", { success: false, data: { code: failure.code, message: failure.message }, errors: failure.errors });
  } finally {
    if (!closed) res.end();
  }
}

/** Without `Accept: text/event-stream`, a streaming endpoint answers once with every value it yielded. */
export async function collectStream(generator: AsyncGenerator<unknown>, limit = 10_000): Promise<unknown[]> {
  const values: unknown[] = [];
  for await (const value of generator) {
    values.push(value);
    if (values.length > limit) throw new AJAXError(500, Messages.internal);
  }
  return values;
}
