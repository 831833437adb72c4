/** Characters that must not appear literally in JSON that is written into a `<script>`. */
const SCRIPT_UNSAFE = /[<>&\u2028\u2029]/g;
const ESCAPES: Record<string, string> = {
  "<": "\\u003c",
  ">": "\\u003e",
  "&": "\\u0026",
  "\u2028": "\\u2028",
  "\u2029": "\\u2029",
};

/**
 * `JSON.stringify` for text that ends up inside a `<script>` element or a served script:
 * `<`, `>` and `&` are written as `\u003c`, `\u003e`, `\u0026` (so `</script>` and `<!--`
 * cannot end or bend the element), and U+2028 and U+2029 as escapes (they end a line in
 * older JavaScript). The result still parses as the same JSON and the same JavaScript value.
 *
 * @example `<script>const config = ${jsonForScript(config)};</script>`
 */
export function jsonForScript(value: unknown): string {
  const json = JSON.stringify(value);
  if (json === undefined) return "undefined";
  return json.replace(SCRIPT_UNSAFE, (char) => ESCAPES[char]!);
}

const HTML_UNSAFE = /[&<>"']/g;
const HTML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/**
 * Escapes text for HTML content and quoted attribute values: what an endpoint must do to any
 * user-supplied text it puts into an `html` command.
 *
 * @example ctx.commands.html("#greeting", `<strong>Hello, ${escapeHtml(name)}!</strong>`)
 */
export function escapeHtml(text: unknown): string {
  return String(text).replace(HTML_UNSAFE, (char) => HTML_ESCAPES[char]!);
}
