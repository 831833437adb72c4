import type { ObjectLiteral } from "typeorm";
import { AJAXError, fieldErrors, Messages } from "../errors";
import type { RequestContext } from "../context";
import { coerceValue, sameValue } from "./coerce";
import type { ModelEndpoint } from "./endpoint";
import type { FieldRule } from "./fields";
import { loadVisibleByPks } from "./hydrate";
import { relationPk } from "./rows";

/** Body keys that are not fields: the version of an update, the form CSRF token, tags. */
export const CONTROL_KEYS: ReadonlySet<string> = new Set(["_version", "csrf_token"]);

/** The checked values of a create or update: columns coerced, relations as `{pk}` stubs. */
export interface CheckedWrite {
  values: ObjectLiteral;
  /** Keys other modules handle (e.g. `tags`), untouched. */
  extra: Record<string, unknown>;
}

/**
 * Checks a create or update body against the field rules: unknown and hidden fields, read-only
 * fields with a new value, values that do not coerce, required fields, and foreign keys to
 * rows that do not exist or that the user may not see. All problems come back together as one
 * `400`. On update, only fields whose value changes are kept.
 */
export async function checkWrite(
  endpoint: ModelEndpoint, ctx: RequestContext, current?: ObjectLiteral,
): Promise<CheckedWrite> {
  const errors = fieldErrors();
  const addError = (field: string, message: string) => { (errors[field] ??= []).push(message); };
  const values: ObjectLiteral = {};
  const extra: Record<string, unknown> = {};
  const foreignKeys: Array<{ rule: FieldRule; pk: unknown }> = [];
  const rules = endpoint.rules;

  for (const [key, raw] of Object.entries(ctx.params)) {
    if (CONTROL_KEYS.has(key)) continue;
    if (endpoint.featureSet.takesKey(key)) { extra[key] = raw; continue; }
    const rule = rules.byName.get(key);
    if (!rule || !rule.readable) { addError(key, Messages.unknownField); continue; }
    if (raw !== null && typeof raw === "object" && rule.kind !== "json") { addError(key, "Not a valid value."); continue; }
    const coerced = coerceValue(raw, {
      kind: rule.kind, nullable: rule.nullable, maxLength: rule.maxLength, enumValues: rule.enumValues, range: rule.range, fromForm: ctx.fromForm,
      // A required text field (no default, not nullable) needs real text, as a DRF CharField does.
      allowBlank: !(rule.required && rule.kind === "text"),
    });
    if (!rule.writable) {
      const unchanged = current && coerced.ok && sameValue(currentValue(rule, current), coerced.value);
      if (!unchanged) addError(key, Messages.readOnly);
      continue;
    }
    if (!coerced.ok) { addError(key, coerced.message); continue; }
    if (current && sameValue(currentValue(rule, current), coerced.value)) continue;
    if (rule.relation) {
      values[key] = coerced.value === null ? null : { [rule.targetPk!.propertyName]: coerced.value };
      if (coerced.value !== null) foreignKeys.push({ rule, pk: coerced.value });
    } else {
      values[key] = coerced.value;
    }
  }
  if (!current) {
    for (const rule of rules.all) {
      if (rule.required && !(rule.name in ctx.params)) addError(rule.name, Messages.required);
    }
  }
  // A missing row and a row the user may not see get the same message: no existence oracle.
  for (const { rule, pk } of foreignKeys) {
    if (errors[rule.name]) continue;
    const target = endpoint.runtime.endpointFor(rule.relation!.inverseEntityMetadata);
    const visible = await loadVisibleByPks(target, [pk], ctx);
    if (!visible.has(String(pk))) addError(rule.name, Messages.invalidPk(pk));
  }
  if (Object.keys(errors).length > 0) throw new AJAXError(400, Messages.invalid, { errors });
  return { values, extra };
}

function currentValue(rule: FieldRule, record: ObjectLiteral): unknown {
  return rule.relation ? relationPk(record[rule.name], rule.targetPk!) : record[rule.name];
}


/**
 * The version an update or delete was based on: the `If-Match` header (`"3"`, `W/"3"` or `3`)
 * or the `_version` body field. `undefined` when the client sent none.
 */
export function expectedVersion(ctx: RequestContext): number | undefined {
  const header = ctx.req.headers["if-match"];
  const raw = typeof header === "string" && header.trim() !== "" ? header.trim().replace(/^W\//, "").replace(/^"(.*)"$/, "$1")
    : ctx.params._version;
  if (raw === undefined) return undefined;
  const coerced = coerceValue(raw, { kind: "integer", nullable: false, fromForm: true });
  if (!coerced.ok) throw new AJAXError(400, Messages.invalid, { errors: { _version: [coerced.message] } });
  return coerced.value as number;
}
