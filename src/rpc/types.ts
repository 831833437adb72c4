import { AJAXError, Messages, type FieldErrors } from "../errors";
import { FORBIDDEN_KEYS } from "../names";

/** The key that marks a value of a custom type on the wire: `{"__type__": "date", "value": "..."}`. */
export const TYPE_KEY = "__type__";

/** Turns an instance into the members it travels with (besides `__type__`). */
export type TypeEncoder<T> = (value: T) => Record<string, unknown>;
/** Turns the members a value arrived with back into an instance; throws on a bad value. */
export type TypeDecoder<T> = (wire: Record<string, unknown>) => T;

interface WireType {
  name: string;
  cls: abstract new (...args: never[]) => unknown;
  encode: TypeEncoder<any>;
  decode: TypeDecoder<any>;
}

/** How deep {@link WireTypes.encode} and {@link WireTypes.decode} walk before refusing. */
const MAX_DEPTH = 64;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Custom wire types (django-adjax's serializer types): a class registered here under a name
 * travels as `{"__type__": name, ...encode(instance)}` in ad-hoc endpoint responses, and such
 * a value in a request body is decoded back into an instance before the endpoint sees it.
 * The browser registers the same name with `AJAX.registerType(name, cls, encode, decode)`.
 *
 * A `__type__` no type is registered for is left alone as data: the server never fails on
 * what a client invents. A registered type whose decoder throws is a `400` on that field.
 */
export class WireTypes {
  private readonly byName = new Map<string, WireType>();

  /** Registers (or replaces) a type. Names follow the endpoint name rule loosely: any non-empty string. */
  register<T>(name: string, cls: abstract new (...args: never[]) => T, encode: TypeEncoder<T>, decode: TypeDecoder<T>): this {
    if (typeof name !== "string" || name === "") throw new Error("ajax-endpoints: a wire type needs a name");
    if (typeof cls !== "function" || typeof encode !== "function" || typeof decode !== "function") {
      throw new Error(`ajax-endpoints: wire type "${name}" needs a class, an encoder and a decoder`);
    }
    this.byName.set(name, { name, cls, encode, decode });
    return this;
  }

  /** Removes a type; its values then travel as the encoder-less JSON of the class. */
  unregister(name: string): boolean {
    return this.byName.delete(name);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  get size(): number {
    return this.byName.size;
  }

  /** The type an instance belongs to: the last registered class it is an instance of. */
  private typeOf(value: object): WireType | undefined {
    let found: WireType | undefined;
    for (const type of this.byName.values()) if (value instanceof type.cls) found = type;
    return found;
  }

  /**
   * A copy of `value` with registered class instances replaced by their wire form. Plain
   * objects and arrays are walked; anything else (including objects with `toJSON`) is left
   * for `JSON.stringify`.
   */
  encode(value: unknown, depth = 0): unknown {
    if (this.byName.size === 0 || value === null || typeof value !== "object") return value;
    if (depth > MAX_DEPTH) throw new Error(`ajax-endpoints: response data is nested deeper than ${MAX_DEPTH} levels`);
    const type = this.typeOf(value);
    if (type) {
      const members = this.encode(type.encode(value), depth + 1) as Record<string, unknown>;
      // The marker first, for whoever reads the JSON; and it wins over a member of the same name.
      const wire: Record<string, unknown> = { [TYPE_KEY]: type.name, ...members };
      wire[TYPE_KEY] = type.name;
      return wire;
    }
    if (Array.isArray(value)) return value.map((item) => this.encode(item, depth + 1));
    if (typeof (value as { toJSON?: unknown }).toJSON === "function") return value;
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) copy[key] = this.encode(item, depth + 1);
    return copy;
  }

  /**
   * A copy of a parsed request body with registered `{"__type__": ...}` values decoded. The
   * body has already been sanitized (no prototype keys, bounded depth), so this walk is plain.
   * A decoder that throws makes a `400` naming the field (`a.b.0`).
   */
  decode(value: unknown): unknown {
    if (this.byName.size === 0) return value;
    const errors: FieldErrors = Object.create(null); // no prototype: a field may be named "toString"
    const walk = (item: unknown, path: string[]): unknown => {
      if (Array.isArray(item)) return item.map((element, index) => walk(element, [...path, String(index)]));
      if (!isPlainObject(item)) return item;
      const marker = item[TYPE_KEY];
      const type = typeof marker === "string" ? this.byName.get(marker) : undefined;
      if (type) {
        try {
          return type.decode(item);
        } catch {
          const field = path.length > 0 ? path.join(".") : "non_field_errors";
          (errors[field] ??= []).push(`Not a valid "${type.name}" value.`);
          return undefined;
        }
      }
      const copy: Record<string, unknown> = {};
      for (const [key, element] of Object.entries(item)) {
        if (!FORBIDDEN_KEYS.has(key)) copy[key] = walk(element, [...path, key]);
      }
      return copy;
    };
    const decoded = walk(value, []);
    if (Object.keys(errors).length > 0) throw new AJAXError(400, Messages.invalid, { errors });
    return decoded;
  }
}

/** Encodes a `Date` as `{"value": ISO 8601}`; the same shape as the browser's built-in `date` type. */
export const encodeDate: TypeEncoder<Date> = (date) => ({ value: date.toISOString() });

/** Decodes `{"value": ISO 8601}` into a `Date`; anything else throws (a `400` on that field). */
export const decodeDate: TypeDecoder<Date> = (wire) => {
  const date = typeof wire.value === "string" ? new Date(wire.value) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime())) throw new Error("invalid date");
  return date;
};

/**
 * Turns on the built-in `date` type (off by default, so that dates stay ISO strings as the
 * contract says): `Date`s in ad-hoc responses travel as `{"__type__": "date", "value": "..."}`
 * and such values in request bodies arrive as `Date`s. The browser turns it on with
 * `AJAX.useDateType()`.
 */
export function registerDateType(types: WireTypes): WireTypes {
  return types.register("date", Date, encodeDate, decodeDate);
}
