import { TriadError } from "./errors.js";
import { checkKind, type OptionKind } from "./option-kinds.js";

/**
 * Options objects are checked for keys nobody reads: a misspelt option (`concurency: 4`) would
 * otherwise be ignored without a word, and the agent run with the default. Refused with
 * ERR_INVALID_CONFIG naming the key, and the known key it is probably a misspelling of.
 */

/**
 * Every key of an options type, spelt once (a Record: the compiler says when one is missing or
 * extra), with the type it takes (`true`: any, checked elsewhere).
 */
export type KeysOf<T> = Record<keyof T, OptionKind>;

/**
 * Throws ERR_INVALID_CONFIG when `options` has an own key that `known` does not list, a known
 * one set to null (no option takes null but an "object|null" one; undefined is "not given"), or
 * one of another type than `known` says (option-kinds.ts). `what` says
 * whose options they are (`WorkerAgent "w1"`); `prefix` is put before each key (`timing.`).
 */
export function checkKnownKeys(
  what: string,
  options: unknown,
  known: Record<string, OptionKind>,
  prefix = "",
): void {
  if (typeof options !== "object" || options === null) return;
  for (const [key, value] of Object.entries(options)) {
    if (Object.hasOwn(known, key)) {
      // No option's type takes null: it was taken as not given (`timing: null`, the defaults).
      if (value === null && known[key] !== "object|null")
        throw new TriadError(
          "ERR_INVALID_CONFIG",
          `${what}: option ${prefix}${key} is null; leave it out (or undefined) for its default`,
          { option: `${prefix}${key}` },
        );
      checkKind(what, `${prefix}${key}`, known[key]!, value);
      continue;
    }
    const near = nearestKey(key, Object.keys(known));
    const guess = near === undefined ? "" : ` (did you mean ${prefix}${near}?)`;
    throw new TriadError(
      "ERR_INVALID_CONFIG",
      `${what}: unknown option ${prefix}${key}${guess}; the known ones are ${Object.keys(known).join(", ")}`,
      { option: `${prefix}${key}` },
    );
  }
}

/** The known key closest to `key` when a typo away (a third of its letters, case aside), else undefined. */
export function nearestKey(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(key.length / 3)) + 1;
  for (const candidate of known) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** Levenshtein distance (insert, delete, replace one character). */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(
        previous[j]! + 1,
        row[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = row;
  }
  return previous[b.length]!;
}
