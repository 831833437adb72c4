/** The one shape every app, model, endpoint and op name has (CONTRACT.md §1). */
export const NAME_PATTERN = /^[a-z][a-z0-9_]*$/;
const MAX_NAME_LENGTH = 64;

export function isValidName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && NAME_PATTERN.test(name);
}

export function assertValidName(kind: string, name: string): void {
  if (!isValidName(name)) {
    throw new Error(`ajax-endpoints: ${kind} name "${name}" must match ${NAME_PATTERN} (at most ${MAX_NAME_LENGTH} characters)`);
  }
}

/** Keys that must never reach an object's prototype chain. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);
