/** Field errors as they travel: field name → list of messages. */
export type FieldErrors = Record<string, string[]>;

/** Extra members of an error response. */
export interface AJAXErrorExtra {
  /** Field errors; sent as `errors` beside `data`. */
  errors?: FieldErrors;
  /** Response headers to set with the error (`Allow`, `Retry-After`, ...). */
  headers?: Record<string, string>;
  /** More members of the envelope's `data` besides `code` and `message` (a batch's `index`). */
  data?: Record<string, unknown>;
}

/**
 * An error with an HTTP status that reaches the client as the error envelope.
 * Throw it from any endpoint or hook; anything else thrown becomes a `500`.
 *
 * @example throw new AJAXError(404, "No such article.")
 * @example throw new AJAXError(400, "Invalid input.", { errors: { title: ["This field is required."] } })
 */
export class AJAXError extends Error {
  readonly code: number;
  readonly errors?: FieldErrors;
  readonly headers?: Record<string, string>;
  readonly data?: Record<string, unknown>;

  constructor(code: number, message: string, extra: AJAXErrorExtra = {}) {
    super(message);
    this.name = "AJAXError";
    this.code = code;
    this.errors = extra.errors;
    this.headers = extra.headers;
    this.data = extra.data;
  }
}

/** Standard messages, kept in one place so that the same condition always reads the same. */
export const Messages = {
  notFound: "Not found.",
  methodNotAllowed: "Method not allowed.",
  unauthenticated: "Authentication credentials were not provided.",
  forbidden: "You do not have permission to perform this action.",
  csrf: "CSRF token missing or incorrect.",
  invalid: "Invalid input.",
  internal: "Internal server error.",
  conflict: "A record with these values already exists.",
  stale: "The record was changed by someone else; reload it and try again.",
  required: "This field is required.",
  readOnly: "This field is read-only.",
  unknownField: "Unknown field.",
  notNull: "This field may not be null.",
  unavailable: "The service is temporarily unavailable.",
  tooSlow: "The database took too long to answer; try again.",
  tooLarge: "Request body too large.",
  unsupportedType: "Unsupported content type.",
  malformed: "Malformed request body.",
  badCredentials: "Invalid username or password.",
  tooManyLogins: "Too many failed login attempts; try again later.",
  invalidPk: (pk: unknown) => `Invalid pk "${String(pk)}" - object does not exist.`,
} as const;

/**
 * An empty set of field errors to fill in. It has no prototype, so that a field a client
 * names `toString` or `hasOwnProperty` is a field like any other, not an inherited method.
 */
export function fieldErrors(): FieldErrors {
  return Object.create(null) as FieldErrors;
}

/** Shorthand for a 400 with field errors. */
export function fieldError(field: string, message: string): AJAXError {
  return new AJAXError(400, Messages.invalid, { errors: { [field]: [message] } });
}
