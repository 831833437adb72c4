/*
 * ajax-endpoints browser client: window.AJAX. No dependencies, plain ES2020, works beside jQuery.
 * Served by the router at <mount>/client.js; the server writes its mount path into MOUNT_PREFIX.
 * Load <mount>/interface.js after it for AJAX.apps.<app>.<name>() and AJAX.models.<app>.<model>.
 */
(function (global) {
  "use strict";

  var MOUNT_PREFIX = "/ajax";

  const NAME = /^[a-z][a-z0-9_]*$/;
  const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);
  const TYPE_KEY = "__type__";
  const CSRF_COOKIE = "csrftoken";
  const CSRF_HEADER = "X-CSRFToken";
  /** The server's message for a refused token (CONTRACT.md §8): a stale token is fetched anew once. */
  const CSRF_FAILURE = "CSRF token missing or incorrect.";
  const MAX_DEPTH = 64;

  const settings = { prefix: MOUNT_PREFIX, scripts: true };

  /** Every failure: `status` is the HTTP status (0 when no response came), `code` the envelope's code. */
  class AJAXError extends Error {
    constructor(message, details) {
      super(message);
      const extra = details || {};
      this.name = "AJAXError";
      this.status = extra.status || 0;
      this.code = extra.code || 0;
      this.errors = extra.errors || {};
      if (extra.cause !== undefined) this.cause = extra.cause;
    }
  }

  function checkName(kind, name) {
    if (typeof name !== "string" || !NAME.test(name)) throw new AJAXError(`Invalid ${kind} name "${String(name)}".`);
    return name;
  }

  function url(path) {
    return settings.prefix.replace(/\/+$/, "") + path;
  }

  function isPlainObject(value) {
    if (value === null || typeof value !== "object") return false;
    const proto = Object.getPrototypeOf(value);
    return proto === Object.prototype || proto === null;
  }

  // ---- custom wire types (django-adjax) --------------------------------------------------

  const types = new Map();

  /** Registers a type under the name the server registered it with; values travel as {"__type__": name, ...encode(value)}. */
  function registerType(name, cls, encode, decode) {
    if (typeof name !== "string" || name === "") throw new TypeError("AJAX.registerType: a type needs a name");
    if (typeof cls !== "function" || typeof encode !== "function" || typeof decode !== "function") {
      throw new TypeError(`AJAX.registerType("${name}"): give a class, an encoder and a decoder`);
    }
    types.set(name, { name, cls, encode, decode });
  }

  /** Turns registered class instances into their wire form, before JSON.stringify (which would call Date's toJSON first). */
  function encodeValue(value, depth) {
    if (value === null || typeof value !== "object") return value;
    if (depth > MAX_DEPTH) throw new AJAXError(`Parameters are nested deeper than ${MAX_DEPTH} levels.`);
    let type;
    for (const candidate of types.values()) if (value instanceof candidate.cls) type = candidate;
    if (type) {
      const wire = { [TYPE_KEY]: type.name };
      const members = encodeValue(type.encode(value), depth + 1) || {};
      for (const key of Object.keys(members)) if (!FORBIDDEN_KEYS.has(key) && key !== TYPE_KEY) wire[key] = members[key];
      return wire;
    }
    if (Array.isArray(value)) return value.map((item) => encodeValue(item, depth + 1));
    if (!isPlainObject(value)) return value;
    const copy = {};
    for (const key of Object.keys(value)) if (!FORBIDDEN_KEYS.has(key)) copy[key] = encodeValue(value[key], depth + 1);
    return copy;
  }

  /** Decodes {"__type__": ...} values of a parsed response; an unknown type is an error, never guessed at. */
  function decodeValue(value) {
    if (Array.isArray(value)) return value.map(decodeValue);
    if (!isPlainObject(value)) return value;
    const marker = value[TYPE_KEY];
    if (typeof marker === "string") {
      const type = types.get(marker);
      if (!type) throw new AJAXError(`Unknown type "${marker}" in the response; register it with AJAX.registerType().`);
      try {
        return type.decode(value);
      } catch (cause) {
        throw new AJAXError(`Invalid "${marker}" value in the response.`, { cause });
      }
    }
    const copy = {};
    for (const key of Object.keys(value)) if (!FORBIDDEN_KEYS.has(key)) copy[key] = decodeValue(value[key]);
    return copy;
  }

  const dateType = {
    encode: (date) => ({ value: date.toISOString() }),
    decode: (wire) => {
      const date = new Date(typeof wire.value === "string" ? wire.value : NaN);
      if (Number.isNaN(date.getTime())) throw new TypeError("not an ISO 8601 date");
      return date;
    },
  };

  // ---- CSRF -------------------------------------------------------------------------------

  function readCookie(name) {
    for (const part of document.cookie.split(";")) {
      const index = part.indexOf("=");
      if (index < 0 || part.slice(0, index).trim() !== name) continue;
      const raw = part.slice(index + 1).trim();
      try {
        return decodeURIComponent(raw);
      } catch (_) {
        return raw;
      }
    }
    return null;
  }

  let pendingToken = null;

  /**
   * The CSRF token: read from the cookie every time (login and logout rotate it), fetched from
   * <mount>/csrf.json when there is none or when `renew` is set.
   */
  function csrfToken(renew) {
    const current = renew ? null : readCookie(CSRF_COOKIE);
    if (current) return Promise.resolve(current);
    pendingToken = pendingToken || fetch(url("/csrf.json"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .catch((cause) => { throw new AJAXError("Network error: the server could not be reached.", { cause }); })
      .then((response) => readResponse(response))
      .then((envelope) => readCookie(CSRF_COOKIE) || envelope.data.token)
      .finally(() => { pendingToken = null; });
    return pendingToken;
  }

  // ---- responses --------------------------------------------------------------------------

  function errorFromEnvelope(body, status) {
    const data = body && isPlainObject(body.data) ? body.data : {};
    const message = typeof data.message === "string" ? data.message : `Request failed (HTTP ${status}).`;
    const error = new AJAXError(message, { status, code: typeof data.code === "number" ? data.code : status, errors: isPlainObject(body && body.errors) ? body.errors : {} });
    // A batch's failing op.
    if (typeof data.index === "number") error.index = data.index;
    return error;
  }

  /** The envelope of a response's text, or the AJAXError it stands for. */
  function envelopeFromText(status, contentType, text, decodeTypes) {
    let body = null;
    if (/json/i.test(contentType || "")) {
      try {
        body = JSON.parse(text);
      } catch (_) {
        body = null;
      }
    }
    if (!isPlainObject(body)) throw new AJAXError(`Unexpected response (HTTP ${status}).`, { status, code: status });
    if (status < 200 || status >= 300 || body.success !== true) throw errorFromEnvelope(body, status);
    return decodeTypes ? decodeValue(body) : body;
  }

  async function readResponse(response, decodeTypes) {
    let text;
    try {
      text = await response.text();
    } catch (cause) {
      throw new AJAXError("The connection was lost while reading the response.", { status: response.status, cause });
    }
    return envelopeFromText(response.status, response.headers.get("Content-Type"), text, decodeTypes);
  }

  function isCsrfFailure(status, text) {
    if (status !== 403) return false;
    try {
      return JSON.parse(text).data.message === CSRF_FAILURE;
    } catch (_) {
      return false;
    }
  }

  /** fetch() with the CSRF header; a refused (stale) token is renewed and the request sent once more. */
  async function fetchWithCsrf(path, init) {
    const send = async (token) => {
      try {
        return await fetch(url(path), { ...init, method: "POST", credentials: "same-origin", headers: { ...init.headers, [CSRF_HEADER]: token } });
      } catch (cause) {
        if (cause && cause.name === "AbortError") throw cause;
        throw new AJAXError("Network error: the server could not be reached.", { cause });
      }
    };
    const response = await send(await csrfToken(false));
    if (response.status !== 403) return response;
    if (!isCsrfFailure(403, await response.clone().text())) return response;
    return send(await csrfToken(true));
  }

  // ---- response commands (Flask-Sijax's obj_response) -------------------------------------

  const commandProcessors = new Map();
  const clientFunctions = new Map();

  function targets(selector) {
    return Array.from(document.querySelectorAll(String(selector)));
  }

  const INSERT_POSITION = { append: "beforeend", prepend: "afterbegin" };

  function combine(current, value, mode) {
    if (mode === "append") return String(current == null ? "" : current) + String(value);
    if (mode === "prepend") return String(value) + String(current == null ? "" : current);
    return value;
  }

  function cssName(name) {
    return String(name).startsWith("--") ? String(name) : String(name).replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
  }

  /** Only http(s) and relative URLs: a redirect command never runs `javascript:`. */
  function safeRedirectUrl(target) {
    const resolved = new URL(String(target), global.location.href);
    if (resolved.protocol !== "http:" && resolved.protocol !== "https:") {
      throw new AJAXError(`Refusing to redirect to a ${resolved.protocol} URL.`);
    }
    return resolved.href;
  }

  const builtInCommands = {
    alert: (c) => global.alert(String(c.message)),
    html: (c) => targets(c.selector).forEach((el) => {
      if (INSERT_POSITION[c.mode]) el.insertAdjacentHTML(INSERT_POSITION[c.mode], String(c.html));
      else el.innerHTML = String(c.html);
    }),
    text: (c) => targets(c.selector).forEach((el) => { el.textContent = String(c.text); }),
    attr: (c) => targets(c.selector).forEach((el) => el.setAttribute(String(c.name), combine(el.getAttribute(String(c.name)), c.value, c.mode))),
    prop: (c) => {
      if (FORBIDDEN_KEYS.has(String(c.name))) throw new AJAXError(`Refusing to set the property "${c.name}".`);
      targets(c.selector).forEach((el) => { el[c.name] = combine(el[c.name], c.value, c.mode); });
    },
    css: (c) => targets(c.selector).forEach((el) => el.style.setProperty(cssName(c.name), String(c.value))),
    remove: (c) => targets(c.selector).forEach((el) => el.remove()),
    redirect: (c) => global.location.assign(safeRedirectUrl(c.url)),
    call: (c) => {
      const fn = clientFunctions.get(c.name);
      if (!fn) throw new AJAXError(`No client function "${c.name}"; register it with AJAX.register().`);
      return fn.apply(null, Array.isArray(c.args) ? c.args : []);
    },
    // The server sends it only where it was enabled (allowScriptCommands); a page may refuse it too.
    script: (c) => {
      if (!settings.scripts) throw new AJAXError("Script commands are turned off on this page.");
      return new Function(String(c.code))();
    },
  };
  for (const type of Object.keys(builtInCommands)) commandProcessors.set(type, builtInCommands[type]);

  /** Applies commands in order; an unknown type or a failing one stops there and rejects. */
  async function applyCommands(commands) {
    if (!Array.isArray(commands)) return;
    for (const command of commands) {
      const processor = command && commandProcessors.get(command.type);
      if (!processor) throw new AJAXError(`Unknown response command "${command && command.type}"; add it with AJAX.addCommand().`);
      await processor(command);
    }
  }

  // ---- calls ------------------------------------------------------------------------------

  /** POSTs JSON to a path under the mount, applies the commands, resolves with the whole envelope. */
  async function post(path, params, options) {
    const opts = options || {};
    const response = await fetchWithCsrf(path, {
      headers: { "Content-Type": "application/json", Accept: "application/json", ...opts.headers },
      body: JSON.stringify(encodeValue(params == null ? {} : params, 0)),
      signal: opts.signal,
    });
    const envelope = await readResponse(response, opts.decodeTypes !== false);
    if (opts.applyCommands !== false) await applyCommands(envelope.commands);
    return envelope;
  }

  /** Calls an ad-hoc endpoint: POST <mount>/<app>/<name>.json. Resolves with `data`. */
  function call(app, name, params, options) {
    return Promise.resolve().then(() => post(`/${checkName("app", app)}/${checkName("endpoint", name)}.json`, params, options))
      .then((envelope) => envelope.data);
  }

  function parseEvent(block) {
    let type = "message";
    const data = [];
    for (const line of block.split("\n")) {
      if (line === "" || line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") type = value;
      else if (field === "data") data.push(value);
    }
    return data.length > 0 ? { type, data: data.join("\n") } : null;
  }

  /**
   * Streams a generator endpoint (Server-Sent Events over fetch): yields each batch's data
   * after applying its commands. Leaving the loop early closes the request, which stops the
   * server's generator.
   */
  async function* stream(app, name, params, options) {
    const opts = options || {};
    const controller = new AbortController();
    if (opts.signal) opts.signal.addEventListener("abort", () => controller.abort(), { once: true });
    const response = await fetchWithCsrf(`/${checkName("app", app)}/${checkName("endpoint", name)}.json`, {
      headers: { "Content-Type": "application/json", Accept: "text/event-stream", ...opts.headers },
      body: JSON.stringify(encodeValue(params == null ? {} : params, 0)),
      signal: controller.signal,
    });
    try {
      if (!/^text\/event-stream/i.test(response.headers.get("Content-Type") || "")) {
        // An error before the stream started, or an endpoint that answers once.
        const envelope = await readResponse(response, true);
        await applyCommands(envelope.commands);
        yield envelope.data;
        return;
      }
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        let chunk;
        try {
          chunk = await reader.read();
        } catch (cause) {
          throw new AJAXError("The stream was interrupted.", { status: response.status, cause });
        }
        if (chunk.done) break;
        buffer = (buffer + decoder.decode(chunk.value, { stream: true })).replace(/\r\n/g, "\n");
        let boundary;
        while ((boundary = buffer.indexOf("\n\n")) >= 0) {
          const event = parseEvent(buffer.slice(0, boundary));
          buffer = buffer.slice(boundary + 2);
          if (!event) continue;
          let payload;
          try {
            payload = JSON.parse(event.data);
          } catch (cause) {
            throw new AJAXError("Malformed stream event.", { status: response.status, cause });
          }
          if (event.type === "error") throw errorFromEnvelope(payload, payload && payload.data && payload.data.code || response.status);
          const decoded = decodeValue(payload);
          await applyCommands(decoded.commands);
          if (event.type === "end") return;
          if (event.type === "message") yield decoded.data;
        }
      }
      throw new AJAXError("The stream ended without its end event.", { status: response.status });
    } finally {
      controller.abort();
    }
  }

  /**
   * Posts a form (element, selector or FormData) as multipart/form-data with XMLHttpRequest,
   * reporting progress: `AJAX.upload(form, "blog", "upload", {onProgress: (p) => ...})`.
   */
  function upload(form, app, name, options) {
    const opts = options || {};
    const path = `/${checkName("app", app)}/${checkName("endpoint", name)}.json`;
    const element = typeof form === "string" ? document.querySelector(form) : form;
    if (!element) return Promise.reject(new AJAXError(`No form matches "${form}".`));
    const body = element instanceof FormData ? element : new FormData(element);
    for (const [key, value] of Object.entries(opts.fields || {})) body.append(key, value);
    const send = (token) => new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", url(path));
      xhr.setRequestHeader(CSRF_HEADER, token);
      xhr.setRequestHeader("Accept", "application/json");
      if (typeof opts.onProgress === "function") {
        xhr.upload.addEventListener("progress", (event) => opts.onProgress({
          loaded: event.loaded, total: event.lengthComputable ? event.total : null,
          fraction: event.lengthComputable && event.total > 0 ? event.loaded / event.total : null,
        }));
      }
      xhr.addEventListener("load", () => resolve(xhr));
      xhr.addEventListener("error", () => reject(new AJAXError("Network error: the upload did not reach the server.")));
      xhr.addEventListener("abort", () => reject(new DOMException("The upload was aborted.", "AbortError")));
      if (opts.signal) opts.signal.addEventListener("abort", () => xhr.abort(), { once: true });
      xhr.send(body);
    });
    return csrfToken(false).then(send)
      .then((xhr) => (isCsrfFailure(xhr.status, xhr.responseText) ? csrfToken(true).then(send) : xhr))
      .then((xhr) => envelopeFromText(xhr.status, xhr.getResponseHeader("Content-Type"), xhr.responseText, true))
      .then(async (envelope) => {
        await applyCommands(envelope.commands);
        return envelope.data;
      });
  }

  // ---- forms (Sijax's getFormValues) ------------------------------------------------------

  const SKIPPED_INPUTS = new Set(["button", "submit", "reset", "image", "file"]);

  /** Splits `a[b][]` into ["a", "b", ""]; a name that is not of that shape is one key. */
  function nameParts(name) {
    const match = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(name);
    if (!match) return [name];
    const parts = [match[1]];
    for (const bracket of match[2].match(/\[[^[\]]*\]/g) || []) parts.push(bracket.slice(1, -1));
    return parts;
  }

  function assign(values, parts, value) {
    let node = values;
    for (let i = 0; i < parts.length; i++) {
      const key = parts[i];
      const last = i === parts.length - 1;
      if (FORBIDDEN_KEYS.has(key)) return;
      if (key === "") {
        // `a[]`: the values of every field of that name, in document order.
        if (!Array.isArray(node)) return;
        if (last) {
          if (Array.isArray(value)) node.push(...value);
          else node.push(value);
          return;
        }
        const child = {};
        node.push(child);
        node = child;
        continue;
      }
      if (last) {
        node[key] = value;
        return;
      }
      const nextIsArray = parts[i + 1] === "";
      if (nextIsArray ? !Array.isArray(node[key]) : !isPlainObject(node[key])) node[key] = nextIsArray ? [] : {};
      node = node[key];
    }
  }

  /**
   * The values of a form (or any element) as an object, by Sijax's getFormValues rules:
   * `a[b]` nests, `a[]` collects an array, multi-selects give arrays; unnamed, disabled and
   * unchecked fields, buttons and file inputs are skipped.
   */
  function formValues(formOrSelector) {
    const root = typeof formOrSelector === "string" ? document.querySelector(formOrSelector) : formOrSelector;
    if (!root || typeof root.querySelectorAll !== "function") throw new AJAXError(`No form matches "${formOrSelector}".`);
    const values = {};
    for (const field of root.querySelectorAll("input, select, textarea")) {
      const name = field.getAttribute("name");
      if (!name || field.matches(":disabled")) continue;
      const type = (field.type || "").toLowerCase();
      if (SKIPPED_INPUTS.has(type)) continue;
      if ((type === "checkbox" || type === "radio") && !field.checked) continue;
      const value = type === "select-multiple" ? Array.from(field.selectedOptions, (option) => option.value) : field.value;
      assign(values, nameParts(name), value);
    }
    return values;
  }

  // ---- the change feed (CONTRACT.md §10, docs/live.md) --------------------------------------

  const FEED_EVENTS = ["created", "updated", "deleted", "resync"];

  /** `{filter: {category: 3, tags__any: ["a", "b"]}}` as the feed's query string (lists joined by commas). */
  function feedQuery(query) {
    const parts = [];
    const filters = (query && query.filter) || {};
    for (const key of Object.keys(query || {})) {
      if (key !== "filter") throw new AJAXError(`The change feed takes filter only, not "${key}".`);
    }
    for (const [field, value] of Object.entries(filters)) {
      if (FORBIDDEN_KEYS.has(field)) continue;
      const text = Array.isArray(value) ? value.join(",") : value === null ? "" : String(value);
      parts.push(`${encodeURIComponent(`filter[${field}]`)}=${encodeURIComponent(text)}`);
    }
    return parts.length > 0 ? `?${parts.join("&")}` : "";
  }

  /**
   * Subscribes to a model's changes: onChange({type, data, id}) for each `created`, `updated`,
   * `deleted` ({pk}) and `resync` (reload what you show). The browser's EventSource reconnects
   * by itself and resumes with Last-Event-ID. onError(error) hears of a refused or lost feed.
   * Returns the function that ends the subscription.
   */
  function subscribe(app, name, query, onChange, onError) {
    if (typeof onChange !== "function") throw new TypeError("subscribe(query, onChange): onChange must be a function");
    if (typeof global.EventSource !== "function") throw new AJAXError("This browser has no EventSource.");
    const source = new global.EventSource(url(`/${checkName("app", app)}/${checkName("model", name)}/events${feedQuery(query)}`), { withCredentials: true });
    for (const type of FEED_EVENTS) {
      source.addEventListener(type, (event) => {
        let data;
        try {
          data = JSON.parse(event.data);
        } catch (cause) {
          if (onError) onError(new AJAXError("Malformed change event.", { cause }));
          return;
        }
        onChange({ type, data, id: event.lastEventId });
      });
    }
    source.addEventListener("error", () => {
      // CLOSED: the server refused the feed (401, 403, 400, 429); CONNECTING: it reconnects by itself.
      if (source.readyState === 2 && onError) onError(new AJAXError("The change feed was refused or closed."));
    });
    return () => source.close();
  }

  /** The same changes as an async iterator: `for await (const change of AJAX.models.blog.article.changes(query))`; `break` ends it. */
  function changes(app, name, query) {
    const queue = [];
    let wake = null;
    let failure = null;
    const push = (item) => {
      queue.push(item);
      if (wake) wake();
    };
    const stop = subscribe(app, name, query, push, (error) => { failure = error; if (wake) wake(); });
    return {
      [Symbol.asyncIterator]() { return this; },
      async next() {
        while (queue.length === 0 && !failure) await new Promise((resolve) => { wake = resolve; });
        wake = null;
        if (queue.length > 0) return { value: queue.shift(), done: false };
        stop();
        throw failure;
      },
      async return() {
        stop();
        return { value: undefined, done: true };
      },
    };
  }

  // ---- models and the generated interface -------------------------------------------------

  /**
   * Helpers for a model endpoint: get, list, create, update, delete, tags.*, and its declared
   * ops. With a description (from interface.js) only what the server has is there.
   */
  function model(app, name, description) {
    const base = `/${checkName("app", app)}/${checkName("model", name)}`;
    const at = (pk) => {
      if (pk === null || pk === undefined || pk === "") throw new AJAXError("A pk is required.");
      return `${base}/${encodeURIComponent(String(pk))}`;
    };
    // Model records are data as stored: never decoded as custom types.
    const send = (path, params, options) => Promise.resolve().then(() => post(path, params, { decodeTypes: false, ...options }));
    const dataOf = (path, params, options) => send(path, params, options).then((envelope) => envelope.data);
    const helpers = {
      get: (pk, options) => dataOf(`${at(pk)}/get.json`, {}, options),
      list: (query, options) => send(`${base}/list.json`, query, options).then((envelope) => ({
        data: envelope.data, total: envelope.total, current_page: envelope.current_page, items_per_page: envelope.items_per_page,
      })),
      create: (fields, options) => dataOf(`${base}.json`, fields, options),
      update: (pk, fields, options) => dataOf(`${at(pk)}/update.json`, fields, options),
      delete: (pk, options) => dataOf(`${at(pk)}/delete.json`, {}, options),
      tags: {
        add: (pk, tags, options) => dataOf(`${at(pk)}/tags/add.json`, { tags }, options),
        remove: (pk, tags, options) => dataOf(`${at(pk)}/tags/remove.json`, { tags }, options),
        set: (pk, tags, options) => dataOf(`${at(pk)}/tags/set.json`, { tags }, options),
        clear: (pk, options) => dataOf(`${at(pk)}/tags/clear.json`, {}, options),
        similar: (pk, query, options) => dataOf(`${at(pk)}/tags/similar.json`, query, options),
      },
      /** A record-level op the endpoint declares: POST <model>/<pk>/<op>.json. */
      recordOp: (op, pk, params, options) => dataOf(`${at(pk)}/${checkName("op", op)}.json`, params, options),
      /** A model-level op the endpoint declares: POST <model>/<op>.json. */
      modelOp: (op, params, options) => dataOf(`${base}/${checkName("op", op)}.json`, params, options),
      /** The change feed: onChange({type, data, id}); returns the unsubscribe function. */
      subscribe: (query, onChange, onError) => subscribe(app, name, query, onChange, onError),
      /** The change feed as an async iterator. */
      changes: (query) => changes(app, name, query),
    };
    if (!description) return helpers;
    const ops = new Set(description.ops || []);
    for (const op of ["get", "list", "create", "update", "delete"]) if (!ops.has(op)) delete helpers[op];
    if (!ops.has("list")) { delete helpers.subscribe; delete helpers.changes; }
    const featureOps = description.featureOps || [];
    if (!featureOps.some((path) => path.startsWith("tags/"))) delete helpers.tags;
    // A feature's one-name record op (restore, history) gets a method of its name: (pk, params).
    for (const op of featureOps) {
      if (!NAME.test(op) || op in helpers) continue;
      helpers[op] = (pk, params, options) => dataOf(`${at(pk)}/${op}.json`, params || {}, options);
    }
    // Declared ops also get a method of their own name (op names are lowercase, so they never
    // hide recordOp/modelOp); a record op wins a name both kinds declare.
    for (const op of Object.keys(description.recordOps || {})) {
      if (!NAME.test(op) || op in helpers) continue;
      helpers[op] = Object.assign((pk, params, options) => helpers.recordOp(op, pk, params, options), { params: description.recordOps[op].params });
    }
    for (const op of Object.keys(description.modelOps || {})) {
      if (!NAME.test(op) || op in helpers) continue;
      helpers[op] = Object.assign((params, options) => helpers.modelOp(op, params, options), { params: description.modelOps[op].params });
    }
    return helpers;
  }

  const apps = {};
  const models = {};

  /** Builds AJAX.apps and AJAX.models from the description interface.js carries. */
  function defineInterface(description) {
    for (const [app, endpoints] of Object.entries((description && description.apps) || {})) {
      if (!NAME.test(app)) continue;
      const target = apps[app] || (apps[app] = {});
      for (const [name, info] of Object.entries(endpoints)) {
        if (!NAME.test(name)) continue;
        const fn = (params, options) => call(app, name, params, options);
        fn.params = Array.isArray(info.params) ? info.params.slice() : [];
        if (info.stream) fn.stream = (params, options) => stream(app, name, params, options);
        target[name] = fn;
      }
    }
    for (const [app, entries] of Object.entries((description && description.models) || {})) {
      if (!NAME.test(app)) continue;
      const target = models[app] || (models[app] = {});
      for (const [name, info] of Object.entries(entries)) if (NAME.test(name)) target[name] = model(app, name, info);
    }
  }

  // ---- the public object ------------------------------------------------------------------

  global.AJAX = {
    AJAXError,
    call,
    /**
     * Several ops in one transaction: batch([{op: "blog/article", body: {...}}, ...]) resolves
     * with each op's data, or rejects with the first failing op's error (its `index` set).
     */
    batch(ops, options) {
      return post("/batch.json", { ops }, { decodeTypes: false, ...options }).then((envelope) => envelope.data);
    },
    stream,
    subscribe,
    changes,
    upload,
    post,
    formValues,
    model,
    apps,
    models,
    defineInterface,
    applyCommands,
    csrfToken: () => csrfToken(false),
    /** Registers a function that `call` commands may run by name. */
    register(name, fn) {
      if (typeof name !== "string" || name === "" || typeof fn !== "function") throw new TypeError("AJAX.register(name, fn)");
      clientFunctions.set(name, fn);
    },
    /** Adds (or replaces) the processor of a response command type: fn(command). */
    addCommand(type, fn) {
      if (typeof type !== "string" || type === "" || typeof fn !== "function") throw new TypeError("AJAX.addCommand(type, fn)");
      commandProcessors.set(type, fn);
    },
    registerType,
    /** Turns on the built-in `date` type: Dates travel as {"__type__": "date", "value": ISO 8601}. */
    useDateType() {
      registerType("date", Date, dateType.encode, dateType.decode);
    },
    dateType,
    auth: {
      login: (username, password) => call("auth", "login", { username, password }),
      logout: () => call("auth", "logout", {}),
      user: () => call("auth", "user", {}),
    },
    /** `prefix`: the mount path (set by the server); `scripts: false` refuses `script` commands. */
    configure(options) {
      if (options && typeof options.prefix === "string") settings.prefix = options.prefix;
      if (options && typeof options.scripts === "boolean") settings.scripts = options.scripts;
    },
    get prefix() {
      return settings.prefix;
    },
  };
})(typeof window !== "undefined" ? window : globalThis);
