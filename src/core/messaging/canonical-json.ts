import { TriadError } from "../errors.js";

/**
 * RFC 8785 JSON Canonicalization Scheme (JCS): the one byte string that signing and verifying
 * both hash, so a peer in any language that implements JCS computes the same signature.
 *
 * - Object members sorted by their names' UTF-16 code units (what Array#sort does by default),
 *   no whitespace.
 * - Numbers as ECMAScript Number#toString (RFC 8785 section 3.2.2.3): -0 becomes 0, 1e21 stays
 *   1e+21; NaN and the infinities are not JSON and are refused.
 * - Strings as ECMAScript JSON.stringify quotes them (RFC 8785 section 3.2.2.2 is defined by that
 *   very algorithm): the short escapes, other controls as \u00XX, lone surrogates as \uDXXX,
 *   everything else literal. The native routine is both exact and the fastest way to do it.
 *
 * The input must already be plain JSON (see `jsonProblem`): a value JSON.stringify would drop or
 * rewrite (undefined, a Date) is refused, never silently signed as something else.
 */
export function canonicalJson(value: unknown): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      if (!Number.isFinite(value)) throw notCanonical(`${value} is not a finite number`);
      return String(value);
    case "boolean":
      return value ? "true" : "false";
    case "object":
      if (value === null) return "null";
      return Array.isArray(value) ? canonicalArray(value) : canonicalObject(value as Record<string, unknown>);
    default:
      throw notCanonical(`a ${typeof value} is not JSON`);
  }
}

function canonicalArray(items: unknown[]): string {
  let out = "[";
  for (let i = 0; i < items.length; i++) {
    if (i > 0) out += ",";
    out += canonicalJson(items[i]);
  }
  return `${out}]`;
}

/**
 * The canonical JSON of `obj` as if it had no member `omit`: what a signature covers (the whole
 * message but its `signature`), without copying the message to drop the key.
 */
export function canonicalJsonWithout(obj: Record<string, unknown>, omit: string): string {
  return canonicalObject(obj, omit);
}

function canonicalObject(obj: Record<string, unknown>, omit?: string): string {
  const keys = Object.keys(obj).sort();
  let out = "{";
  let first = true;
  for (const key of keys) {
    if (key === omit) continue;
    if (!first) out += ",";
    first = false;
    out += `${JSON.stringify(key)}:${canonicalJson(obj[key])}`;
  }
  return `${out}}`;
}

function notCanonical(why: string): TriadError {
  return new TriadError("ERR_INVALID_JSON", `cannot canonicalise: ${why}`);
}
