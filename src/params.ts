import type { ObjectSchema } from "joi";
import { AJAXError, fieldErrors, Messages } from "./errors";

/**
 * Refuses a body that names a field the op does not take: the same `400` on every op (get,
 * delete, tag commands, declared ops, the auth ops), so that a misspelt `_verison` never
 * passes silently.
 */
export function refuseUnknownFields(params: Record<string, unknown>, allowed: readonly string[]): void {
  const unknown = Object.keys(params).filter((key) => !allowed.includes(key));
  if (unknown.length === 0) return;
  const errors = fieldErrors();
  for (const key of unknown) errors[key] = [Messages.unknownField];
  throw new AJAXError(400, Messages.invalid, { errors });
}

/** Checks a body against a joi schema; every mismatch is a field error, unknown keys included. */
export function validateParams(schema: ObjectSchema, params: Record<string, unknown>): Record<string, unknown> {
  const { value, error } = schema.validate(params, { abortEarly: false, convert: true, allowUnknown: false });
  if (!error) return value as Record<string, unknown>;
  const errors = fieldErrors();
  for (const detail of error.details) {
    const key = detail.path.length > 0 ? detail.path.join(".") : "non_field_errors";
    (errors[key] ??= []).push(detail.message.replace(/^"[^"]*" /, "This field "));
  }
  throw new AJAXError(400, Messages.invalid, { errors });
}

/** A declared op's body: checked by its schema, or, without one, empty. */
export function declaredOpParams(schema: ObjectSchema | undefined, params: Record<string, unknown>): Record<string, unknown> {
  if (schema) return validateParams(schema, params);
  refuseUnknownFields(params, []);
  return params;
}
