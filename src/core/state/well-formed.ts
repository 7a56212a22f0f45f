/**
 * A lone UTF-16 surrogate (half of a pair, alone) has no UTF-8 encoding: Redis receives it as
 * U+FFFD, so an id or type holding one is stored as another string than the one given, and the
 * shard computed here (over UTF-16 units) differs from the one a Lua script computes (over its
 * bytes). Such ids and types are refused wherever they are given.
 */
const LONE_SURROGATE = /\p{Surrogate}/u;

/** The index (in UTF-16 units) of the first lone surrogate in `text`, or -1 when it is well-formed. */
export function loneSurrogateAt(text: string): number {
  const found = LONE_SURROGATE.exec(text);
  return found === null ? -1 : found.index;
}

/** Why `text` cannot be a key ("must be well-formed Unicode (lone surrogate at index N)"), or null. */
export function notWellFormed(text: string): string | null {
  const at = loneSurrogateAt(text);
  return at < 0 ? null : `must be well-formed Unicode (lone surrogate at index ${at})`;
}

/** For a zod string's refine: `.refine(isWellFormed, { error: notWellFormedIssue })`. */
export function isWellFormed(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

export function notWellFormedIssue(issue: { input: unknown }): string {
  return notWellFormed(String(issue.input)) ?? "must be well-formed Unicode";
}
