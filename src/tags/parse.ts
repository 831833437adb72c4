import { createHash } from "node:crypto";
import { AJAXError, Messages } from "../errors";

/** The longest tag name (the `name` column's length). */
export const MAX_TAG_LENGTH = 100;
/** The most tags one request may name. */
export const MAX_TAGS_PER_REQUEST = 100;

function splitStrip(text: string, delimiter: string): string[] {
  return text.split(delimiter).map((word) => word.trim()).filter(Boolean);
}

function sortedUnique(words: string[]): string[] {
  return [...new Set(words)].sort();
}

/**
 * django-taggit's `parse_tags`: quoted runs are one tag; the rest splits on commas where
 * there is an unquoted comma, else on spaces; trimmed, de-duplicated, sorted.
 *
 * @example parseTagString('"New York", boston, , "a,b"') // ["New York", "a,b", "boston"]
 */
export function parseTagString(text: string): string[] {
  if (!text) return [];
  if (!text.includes(",") && !text.includes('"')) return sortedUnique(splitStrip(text, " "));
  const words: string[] = [];
  const toBeSplit: string[] = [];
  let buffer = "";
  let sawLooseComma = false;
  let index = 0;
  while (index < text.length) {
    const char = text[index++]!;
    if (char === '"') {
      if (buffer) { toBeSplit.push(buffer); buffer = ""; }
      const close = text.indexOf('"', index);
      if (close === -1) {
        // An unclosed quote: the rest is loose text, as taggit treats it.
        buffer = text.slice(index);
        if (buffer.includes(",")) sawLooseComma = true;
        index = text.length;
        break;
      }
      const word = text.slice(index, close).trim();
      if (word) words.push(word);
      index = close + 1;
    } else {
      if (char === ",") sawLooseComma = true;
      buffer += char;
    }
  }
  if (buffer) toBeSplit.push(buffer);
  const delimiter = sawLooseComma ? "," : " ";
  for (const chunk of toBeSplit) words.push(...splitStrip(chunk, delimiter));
  return sortedUnique(words);
}

/**
 * Reads a `tags` value (a list of names or a taggit string) and checks it: every name
 * non-empty after trimming and at most {@link MAX_TAG_LENGTH} characters, else a `400` on `field`.
 */
export function readTagNames(value: unknown, field = "tags"): string[] {
  let names: string[];
  if (typeof value === "string") names = parseTagString(value);
  else if (Array.isArray(value) && value.every((item) => typeof item === "string")) names = sortedUnique(value.map((item) => item.trim()));
  else if (value === undefined || value === null) names = [];
  else throw new AJAXError(400, Messages.invalid, { errors: { [field]: ["Must be a list of tag names or a tag string."] } });
  const problems: string[] = [];
  if (names.some((name) => name === "")) problems.push("Tag names may not be empty.");
  if (names.some((name) => [...name].length > MAX_TAG_LENGTH)) problems.push(`Tag names have at most ${MAX_TAG_LENGTH} characters.`);
  if (names.some((name) => name.includes("\u0000"))) problems.push("Null characters are not allowed.");
  if (names.length > MAX_TAGS_PER_REQUEST) problems.push(`At most ${MAX_TAGS_PER_REQUEST} tags.`);
  if (problems.length > 0) throw new AJAXError(400, Messages.invalid, { errors: { [field]: problems } });
  return names;
}

/**
 * Django's `slugify`: ASCII, lower case, words joined by `-`. A name with no ASCII letter or
 * digit (`日本`) gets `tag-` and a hash of the name, so such names do not all compete for `tag`.
 */
export function slugify(name: string): string {
  const slug = name.normalize("NFKD").replace(/[^\x00-\x7f]/g, "").toLowerCase()
    .replace(/[^\w\s-]/g, "").replace(/[-\s]+/g, "-").replace(/^[-_]+|[-_]+$/g, "");
  return (slug || `tag-${createHash("sha256").update(name).digest("hex").slice(0, 12)}`).slice(0, 90);
}
