import { parse as parseCookies } from "cookie";
import { unsign } from "cookie-signature";

/**
 * The value of a cookie signed with `cookie-signature` by any of `secrets` (the first signs, all
 * verify), after its `prefix` (express-session writes `s:`); undefined when the cookie is absent,
 * lacks the prefix, or no secret verifies it.
 */
export function readSignedCookie(header: string | undefined, name: string, secrets: readonly string[], prefix = ""): string | undefined {
  if (!header || !header.includes(name)) return undefined;
  const value = parseCookies(header)[name];
  if (!value || !value.startsWith(prefix)) return undefined;
  for (const secret of secrets) {
    const unsigned = unsign(value.slice(prefix.length), secret);
    if (unsigned !== false) return unsigned;
  }
  return undefined;
}
