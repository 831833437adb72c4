/** How html/attr/prop commands change what is there. */
export type ChangeMode = "replace" | "append" | "prepend";

/** One instruction for the page, applied by `/ajax/client.js` in order. */
export type ResponseCommand =
  | { type: "alert"; message: string }
  | { type: "html"; selector: string; html: string; mode: ChangeMode }
  | { type: "text"; selector: string; text: string }
  | { type: "attr"; selector: string; name: string; value: string; mode: ChangeMode }
  | { type: "prop"; selector: string; name: string; value: unknown; mode: ChangeMode }
  | { type: "css"; selector: string; name: string; value: string }
  | { type: "remove"; selector: string }
  | { type: "redirect"; url: string }
  | { type: "call"; name: string; args: unknown[] }
  | { type: "script"; code: string }
  | { type: string; [key: string]: unknown };

/**
 * The commands an endpoint queues for the page: Flask-Sijax's `obj_response`, as data.
 * Nothing here runs code in the browser except `script`, which the router must enable.
 */
const BUILT_IN_TYPES: ReadonlySet<string> = new Set(["alert", "html", "text", "attr", "prop", "css", "remove", "redirect", "call", "script"]);

export class ResponseCommands {
  private queue: ResponseCommand[] = [];

  constructor(private readonly scriptsEnabled = false) {}

  alert(message: string): this { return this.push({ type: "alert", message: String(message) }); }
  html(selector: string, html: string, mode: ChangeMode = "replace"): this { return this.push({ type: "html", selector, html: String(html), mode }); }
  htmlAppend(selector: string, html: string): this { return this.html(selector, html, "append"); }
  htmlPrepend(selector: string, html: string): this { return this.html(selector, html, "prepend"); }
  text(selector: string, text: string): this { return this.push({ type: "text", selector, text: String(text) }); }
  attr(selector: string, name: string, value: string, mode: ChangeMode = "replace"): this { return this.push({ type: "attr", selector, name, value: String(value), mode }); }
  prop(selector: string, name: string, value: unknown, mode: ChangeMode = "replace"): this { return this.push({ type: "prop", selector, name, value, mode }); }
  css(selector: string, name: string, value: string): this { return this.push({ type: "css", selector, name, value: String(value) }); }
  remove(selector: string): this { return this.push({ type: "remove", selector }); }
  redirect(url: string): this { return this.push({ type: "redirect", url: String(url) }); }
  /** Calls a client function registered with `AJAX.register(name, fn)`; never `eval`. */
  call(name: string, ...args: unknown[]): this { return this.push({ type: "call", name, args }); }
  /** Runs code in the page; refused unless the router was built with `allowScriptCommands`. */
  script(code: string): this {
    if (!this.scriptsEnabled) throw new Error("ajax-endpoints: script commands are disabled (router option allowScriptCommands)");
    return this.push({ type: "script", code: String(code) });
  }
  /** A command of a type the page registered a processor for. */
  custom(type: string, payload: Record<string, unknown> = {}): this {
    // A built-in type must come through its own method, so that `script` stays behind its switch.
    if (BUILT_IN_TYPES.has(type)) throw new Error(`ajax-endpoints: "${type}" is a built-in command; use commands.${type}()`);
    return this.push({ ...payload, type });
  }

  private push(command: ResponseCommand): this {
    this.queue.push(command);
    return this;
  }

  get length(): number { return this.queue.length; }

  /** Hands over the queued commands and empties the queue (each batch of a stream gets its own). */
  drain(): ResponseCommand[] {
    const drained = this.queue;
    this.queue = [];
    return drained;
  }
}
