/**
 * What a `search` parameter may hold, and the words a full-text query is built from. The
 * words are letters, digits and combining marks only, so no database's full-text syntax
 * (FTS5 `"`, `*`, `NEAR`, `:`; tsquery `&|!:*()`; MariaDB `+-<>~*"@()`) can reach a query.
 */

/** The longest `search` text, in characters. */
export const MAX_SEARCH_LENGTH = 500;
/** The most words a search may have. */
export const MAX_SEARCH_TERMS = 10;
/**
 * The longest word, in characters. MariaDB indexes words of at most 84 characters
 * (`innodb_ft_max_token_size`); no word a reader types is longer.
 */
export const MAX_TERM_LENGTH = 64;
/**
 * Words shorter than this count only when they are the whole search, and then as the start of
 * a word. MariaDB does not index words under three characters (`innodb_ft_min_token_size`), so
 * such a word could never match there; the rule is the same on every database so that a search
 * answers the same.
 */
export const MIN_WHOLE_TERM_LENGTH = 3;

/** The words of a search: every word must match, the last one as a prefix (search-as-you-type). */
export interface SearchTerms {
  /** Whole words, lower-cased, NFKC-normalized. */
  words: string[];
  /** The start of a word: the last word typed (unset when it was a short word after others). */
  prefix?: string;
}

const NOT_WORD = /[^\p{L}\p{N}\p{M}]+/u;

/**
 * Reads a search text: an error message for a value past the limits, else its words
 * (`null` when it has none, e.g. only punctuation: the list is then not narrowed).
 */
export function readSearchText(value: unknown): { error: string } | { terms: SearchTerms | null } {
  if (typeof value !== "string") return { error: "Not a valid string." };
  if (value.includes("\u0000")) return { error: "Null characters are not allowed." };
  if ([...value].length > MAX_SEARCH_LENGTH) return { error: `Ensure this value has at most ${MAX_SEARCH_LENGTH} characters.` };
  const all = value.normalize("NFKC").toLowerCase().split(NOT_WORD).filter(Boolean);
  if (all.length > MAX_SEARCH_TERMS) return { error: `At most ${MAX_SEARCH_TERMS} search words.` };
  if (all.some((word) => [...word].length > MAX_TERM_LENGTH)) return { error: `Search words have at most ${MAX_TERM_LENGTH} characters.` };
  if (all.length === 0) return { terms: null };
  const long = (word: string) => [...word].length >= MIN_WHOLE_TERM_LENGTH;
  const last = all[all.length - 1]!;
  const words = [...new Set(all.slice(0, -1).filter((word) => long(word) && word !== last))];
  if (long(last) || words.length === 0) return { terms: { words, prefix: last } };
  return { terms: { words } };
}
