import { setTimeout as sleep } from "node:timers/promises";
import Joi from "joi";
import { AJAXError, defineApp, endpoint, WireTypes, type AjaxApp, type UploadedFile } from "../../src";

/** A value class that travels as a custom wire type in the tests. */
export class Money {
  constructor(readonly cents: number, readonly currency: string) {}
}

/** Wire types of the lab app: `money`, and the built-in `date` turned on. */
export function labTypes(): WireTypes {
  const types = new WireTypes();
  types.register("money", Money, (m) => ({ cents: m.cents, currency: m.currency }), (wire) => {
    if (!Number.isInteger(wire.cents) || typeof wire.currency !== "string") throw new Error("bad money");
    return new Money(wire.cents as number, wire.currency);
  });
  types.register("date", Date, (d) => ({ value: d.toISOString() }), (wire) => {
    const date = new Date(String(wire.value));
    if (Number.isNaN(date.getTime())) throw new Error("bad date");
    return date;
  });
  return types;
}

/** What the lab's endpoints saw; tests reset it. */
export const probe = {
  events: [] as string[],
  streamFinished: false,
  streamYields: 0,
  uploadedPaths: [] as string[],
  reset(): void {
    this.events = [];
    this.streamFinished = false;
    this.streamYields = 0;
    this.uploadedPaths = [];
  },
};

/**
 * An app of ad-hoc endpoints that exercise the browser side: every response command,
 * streams that fail or never end, uploads that report their temp files, typed values.
 */
export function createLabApp(): AjaxApp {
  return defineApp("lab")
    .endpoint("echo", (_req, ctx) => ctx.params)
    .endpoint("commands", (_req, ctx) => {
      ctx.commands
        .alert("Saved.")
        .html("#box", "<b>new</b>")
        .htmlAppend("#box", "<i>after</i>")
        .htmlPrepend("#box", "<u>before</u>")
        .text("#title", "<not html>")
        .attr("#link", "href", "/next")
        .attr("#link", "class", " active", "append")
        .attr("#link", "class", "btn ", "prepend")
        .prop("#check", "checked", true)
        .prop("#input", "value", "!", "append")
        .prop("#input", "value", "¡", "prepend")
        .css("#box", "backgroundColor", "rgb(1, 2, 3)")
        .remove("#gone")
        .call("greet", "Ada", { times: 2 })
        .custom("confetti", { amount: 3 })
        .redirect("/done");
      return "ok";
    })
    .endpoint("script", (_req, ctx) => {
      ctx.commands.script("window.scriptRan = true;");
      return "ok";
    })
    .endpoint("ticker", async function* (_req, ctx) {
      // Never ends by itself: only a client that goes away stops it.
      try {
        for (let n = 1; ; n++) {
          probe.streamYields = n;
          ctx.commands.text("#tick", String(n));
          yield n;
          await sleep(20);
        }
      } finally {
        probe.streamFinished = true;
      }
    })
    .endpoint("steps", endpoint({ params: Joi.object({ count: Joi.number().integer().min(1).max(5).required() }) },
      async function* (_req, ctx) {
        const { count } = ctx.params as { count: number };
        for (let n = 1; n <= count; n++) {
          probe.events.push(`yield ${n}`);
          yield { step: n, at: new Date(Date.UTC(2026, 0, n)) };
        }
        ctx.commands.alert("done");
      }))
    .endpoint("broken_stream", async function* () {
      yield 1;
      throw new AJAXError(409, "The stream hit a conflict.");
    })
    .endpoint("files", endpoint({ files: true }, (_req, ctx) => {
      probe.uploadedPaths = ctx.files.map((file: UploadedFile) => file.path);
      return { fields: ctx.params, files: ctx.files.map((file: UploadedFile) => ({ field: file.field, name: file.filename, size: file.size })) };
    }))
    .endpoint("typed", (_req, ctx) => {
      const params = ctx.params as Record<string, unknown>;
      return {
        kinds: Object.fromEntries(Object.entries(params).map(([key, value]) => [key, value instanceof Money ? "money" : value instanceof Date ? "date" : typeof value])),
        doubled: params.price instanceof Money ? new Money(params.price.cents * 2, params.price.currency) : null,
        when: new Date(Date.UTC(2026, 10, 21, 10)),
        params,
      };
    })
    .endpoint("deny", () => "never");
}
