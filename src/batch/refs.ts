import { AJAXError, fieldErrors, Messages } from "../errors";

const REF = /^(\d{1,6})\.(.+)$/;

function isRef(value: unknown): value is { $ref: unknown } {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    && Object.keys(value).length === 1 && Object.prototype.hasOwnProperty.call(value, "$ref");
}

/** `"<field>"` or `"<field>.<field>"` of an earlier result, through own members only. */
function lookUp(result: unknown, path: string): unknown {
  let value = result;
  for (const part of path.split(".")) {
    if (value === null || typeof value !== "object" || !Object.prototype.hasOwnProperty.call(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/**
 * A batch op's body with each `{"$ref": "<index>.<field>"}` replaced by that field of an
 * earlier op's result. A ref to this op, a later one or a field the result does not have is
 * a `400` naming where in the body it stood.
 */
export function resolveRefs(body: Record<string, unknown>, results: readonly unknown[], index: number): Record<string, unknown> {
  const errors = fieldErrors();
  const walk = (value: unknown, path: string): unknown => {
    if (isRef(value)) {
      const match = typeof value.$ref === "string" ? REF.exec(value.$ref) : null;
      const target = match ? Number(match[1]) : NaN;
      if (!match || !(target < index)) {
        errors[path] = [`A $ref names an earlier op and one of its fields: "<index>.<field>" with an index below ${index}.`];
        return undefined;
      }
      const resolved = lookUp(results[target], match[2]!);
      if (resolved === undefined) errors[path] = [`Op ${target}'s result has no field "${match[2]}".`];
      return resolved;
    }
    if (Array.isArray(value)) return value.map((item, i) => walk(item, `${path}.${i}`));
    if (value !== null && typeof value === "object") {
      const copy: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) copy[key] = walk(item, `${path}.${key}`);
      return copy;
    }
    return value;
  };
  const resolved: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) resolved[key] = walk(value, key);
  if (Object.keys(errors).length > 0) throw new AJAXError(400, Messages.invalid, { errors, data: { index } });
  return resolved;
}
