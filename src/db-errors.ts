import { AJAXError, Messages } from "./errors";

/** Error codes of the three supported databases, by what they mean to a client. */
const UNIQUE_CODES: ReadonlySet<string> = new Set(["23505", "ER_DUP_ENTRY", "SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"]);
const FOREIGN_KEY_CODES: ReadonlySet<string> = new Set(["23503", "ER_NO_REFERENCED_ROW_2", "ER_NO_REFERENCED_ROW", "ER_ROW_IS_REFERENCED_2",
  "SQLITE_CONSTRAINT_FOREIGNKEY"]);
const UNAVAILABLE_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EHOSTUNREACH",
  "57P01", "57P02", "57P03", "08000", "08003", "08006", "08001", "08004", "53300",
  "PROTOCOL_CONNECTION_LOST", "ER_CON_COUNT_ERROR", "ER_SERVER_SHUTDOWN", "PROTOCOL_SEQUENCE_TIMEOUT",
  "SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_BUSY_SNAPSHOT",
  // A deadlock or serialization failure rolled the whole transaction back: nothing was written,
  // and the same request sent again succeeds.
  "40P01", "40001", "ER_LOCK_DEADLOCK", "ER_LOCK_WAIT_TIMEOUT",
]);
const UNAVAILABLE_MESSAGES = /Connection terminated|connection is closed|Can't add new command when connection is in closed state|timeout exceeded when trying to connect|Pool is closed|database is locked|ECONNREFUSED|The server closed the connection/i;

/**
 * A statement stopped by the statement time limit (db/timeouts.ts): PostgreSQL's
 * query_canceled, MariaDB's max_statement_time (1969), MySQL's max_execution_time (3024).
 */
const TIMEOUT_CODES: ReadonlySet<string> = new Set(["57014", "ER_STATEMENT_TIMEOUT", "ER_QUERY_TIMEOUT"]);
const TIMEOUT_ERRNOS: ReadonlySet<number> = new Set([1969, 3024]);

function isStatementTimeout(error: unknown, code: string | undefined): boolean {
  const candidate = error as { errno?: unknown; driverError?: { errno?: unknown } };
  const errno = candidate?.driverError?.errno ?? candidate?.errno;
  return (code !== undefined && TIMEOUT_CODES.has(code)) || (typeof errno === "number" && TIMEOUT_ERRNOS.has(errno));
}

function codeOf(error: unknown): string | undefined {
  const candidate = error as { code?: unknown; driverError?: { code?: unknown } };
  const code = candidate?.driverError?.code ?? candidate?.code;
  return typeof code === "string" ? code : undefined;
}

/**
 * Maps a database failure to the status a client should see: unique violations are `409`,
 * foreign-key violations `400`, a database that cannot be reached or a statement past its time
 * limit `503`. Anything else is
 * left alone (returns `null`) and ends as a `500`.
 */
export function translateDatabaseError(error: unknown): AJAXError | null {
  if (error instanceof AJAXError) return error;
  const code = codeOf(error);
  if (code && UNIQUE_CODES.has(code)) return new AJAXError(409, Messages.conflict);
  if (code && FOREIGN_KEY_CODES.has(code)) return new AJAXError(400, Messages.invalid);
  if (isStatementTimeout(error, code)) return new AJAXError(503, Messages.tooSlow, { headers: { "Retry-After": "1" } });
  const message = error instanceof Error ? error.message : "";
  if ((code && UNAVAILABLE_CODES.has(code)) || UNAVAILABLE_MESSAGES.test(message)) {
    return new AJAXError(503, Messages.unavailable, { headers: { "Retry-After": "1" } });
  }
  return null;
}
