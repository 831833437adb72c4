/**
 * Types of the browser client, `ajax-endpoints/client` (the same script the router serves at
 * `<mount>/client.js`). Importing it (or loading the script) sets `window.AJAX`.
 *
 * @example
 * import "ajax-endpoints/client";
 * const article = await AJAX.model("blog", "article").get(7);
 */

/** Options of one call. */
export interface AjaxCallOptions {
  headers?: Record<string, string> | undefined;
  signal?: AbortSignal | null | undefined;
  /** Apply the response's commands (default true). */
  applyCommands?: boolean | undefined;
  /** Decode custom wire types (default true for ad-hoc endpoints). */
  decodeTypes?: boolean | undefined;
}

/** Every failure: `status` is the HTTP status (0 when no response came), `code` the envelope's code. */
export interface AjaxClientError extends Error {
  readonly status: number;
  readonly code: number;
  readonly errors: Record<string, string[]>;
}

/** A response command (`alert`, `html`, `css`, `call`, `redirect`, ...). */
export interface AjaxCommand {
  type: string;
  [key: string]: unknown;
}

/** The success envelope as `AJAX.post` resolves with it. */
export interface AjaxEnvelope<T = unknown> {
  success: true;
  data: T;
  commands?: AjaxCommand[];
  total?: number;
  current_page?: number;
  items_per_page?: number;
}

export interface AjaxListPage<T = unknown> {
  data: T[];
  total: number;
  current_page: number;
  items_per_page: number;
}

/** List parameters (CONTRACT §5): `filter[<field>__<op>]`, `order`, `search`, paging. */
export interface AjaxListQuery {
  current_page?: number | undefined;
  items_per_page?: number | undefined;
  order?: string | undefined;
  search?: string | undefined;
  filter?: Record<string, unknown> | undefined;
}

type Pk = string | number;

/** Helpers of one model endpoint; declared ops appear under their own names too. */
export interface AjaxModel<T = Record<string, unknown>> {
  get(pk: Pk, options?: AjaxCallOptions): Promise<T>;
  list(query?: AjaxListQuery, options?: AjaxCallOptions): Promise<AjaxListPage<T>>;
  create(fields: Record<string, unknown>, options?: AjaxCallOptions): Promise<T>;
  update(pk: Pk, fields: Record<string, unknown>, options?: AjaxCallOptions): Promise<T>;
  delete(pk: Pk, options?: AjaxCallOptions): Promise<{ pk: Pk }>;
  tags: {
    add(pk: Pk, tags: string | string[], options?: AjaxCallOptions): Promise<unknown>;
    remove(pk: Pk, tags: string | string[], options?: AjaxCallOptions): Promise<unknown>;
    set(pk: Pk, tags: string | string[], options?: AjaxCallOptions): Promise<unknown>;
    clear(pk: Pk, options?: AjaxCallOptions): Promise<unknown>;
    similar(pk: Pk, query?: AjaxListQuery, options?: AjaxCallOptions): Promise<unknown>;
  };
  recordOp(op: string, pk: Pk, params?: Record<string, unknown>, options?: AjaxCallOptions): Promise<unknown>;
  modelOp(op: string, params?: Record<string, unknown>, options?: AjaxCallOptions): Promise<unknown>;
  [op: string]: unknown;
}

/** An ad-hoc endpoint function from interface.js. */
export interface AjaxEndpointFunction {
  (params?: Record<string, unknown>, options?: AjaxCallOptions): Promise<unknown>;
  readonly params: string[];
  stream?(params?: Record<string, unknown>, options?: AjaxCallOptions): AsyncGenerator<unknown>;
}

/** `window.AJAX`. */
export interface AjaxClient {
  readonly AJAXError: new (message: string, details?: { status?: number; code?: number; errors?: Record<string, string[]>; cause?: unknown }) => AjaxClientError;
  call<T = unknown>(app: string, name: string, params?: Record<string, unknown>, options?: AjaxCallOptions): Promise<T>;
  stream<T = unknown>(app: string, name: string, params?: Record<string, unknown>, options?: AjaxCallOptions): AsyncGenerator<T>;
  upload<T = unknown>(form: string | HTMLFormElement | FormData, app: string, name: string, options?: AjaxCallOptions & { fields?: Record<string, string> }): Promise<T>;
  post<T = unknown>(path: string, params?: unknown, options?: AjaxCallOptions): Promise<AjaxEnvelope<T>>;
  formValues(formOrSelector: string | Element): Record<string, unknown>;
  model<T = Record<string, unknown>>(app: string, name: string, description?: unknown): AjaxModel<T>;
  readonly apps: Record<string, Record<string, AjaxEndpointFunction>>;
  readonly models: Record<string, Record<string, AjaxModel>>;
  defineInterface(description: unknown): void;
  applyCommands(commands: AjaxCommand[] | undefined): Promise<void>;
  csrfToken(): Promise<string>;
  register(name: string, fn: (...args: unknown[]) => unknown): void;
  addCommand(type: string, fn: (command: AjaxCommand) => unknown): void;
  registerType<C>(name: string, cls: new (...args: never[]) => C, encode: (value: C) => Record<string, unknown>, decode: (data: Record<string, unknown>) => C): void;
  useDateType(): void;
  readonly dateType: { encode(value: Date): Record<string, unknown>; decode(data: Record<string, unknown>): Date };
  readonly auth: {
    login<U = unknown>(username: string, password: string): Promise<U>;
    logout(): Promise<unknown>;
    user<U = unknown>(): Promise<U>;
  };
  configure(options: { prefix?: string; scripts?: boolean }): void;
  readonly prefix: string;
}

declare global {
  // eslint-disable-next-line no-var
  var AJAX: AjaxClient;
}
