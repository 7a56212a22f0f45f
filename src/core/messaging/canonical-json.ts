import { TriadError } from "../errors.js";
import { isPlainJson } from "../json.js";
import { isPlainObject, MAX_JSON_DEPTH } from "./plain-json.js";

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
 *   everything else literal. A string with none of those is written between quotes as it is.
 *
 * The input must be plain JSON, as `jsonProblem` defines it: a value JSON.stringify would drop or
 * rewrite (undefined, a Date) or nesting deeper than MAX_JSON_DEPTH is refused (ERR_INVALID_JSON),
 * never silently signed as something else. The check is made in the same walk.
 */
export function canonicalJson(value: unknown): string {
  return canonical(value, 0);
}

/**
 * The canonical JSON of `obj` without its member `omit` (a message without its signature). The
 * members' values are checked as `jsonProblem` checks them, in the same walk: plain objects
 * only, finite numbers, at most MAX_JSON_DEPTH levels below `obj`'s members.
 */
export function canonicalJsonWithout(obj: Record<string, unknown>, omit: string): string {
  return canonicalObject(obj, -1, omit);
}

function canonical(value: unknown, depth: number): string {
  // A value whose members are all in sorted order already (as JSON.parse leaves a canonical text,
  // and as this project builds its messages) is what JSON.stringify writes, natively and far
  // faster: RFC 8785 takes ECMAScript's Number#toString and JSON.stringify's quoting as its own.
  // Anything else (an unsorted object, an undefined member, a hole, a Date) goes member by
  // member, which sorts, and refuses what is not JSON.
  if (typeof value === "object" && value !== null && isPlainJson(value, MAX_JSON_DEPTH - 1, depth, true)) {
    return JSON.stringify(value);
  }
  switch (typeof value) {
    case "string":
      return quote(value);
    case "number":
      if (!Number.isFinite(value)) throw notCanonical(`${value} is not a finite number`);
      return String(value);
    case "boolean":
      return value ? "true" : "false";
    case "object":
      if (value === null) return "null";
      if (depth >= MAX_JSON_DEPTH) throw notCanonical(`nested deeper than ${MAX_JSON_DEPTH} levels`);
      if (Array.isArray(value)) return canonicalArray(value, depth);
      if (!isPlainObject(value)) throw notCanonical("an object that is not plain JSON");
      return canonicalObject(value, depth);
    default:
      throw notCanonical(`a ${typeof value} is not JSON`);
  }
}

function canonicalArray(items: unknown[], depth: number): string {
  let out = "[";
  for (let i = 0; i < items.length; i++) {
    if (i > 0) out += ",";
    out += canonical(items[i], depth + 1);
  }
  return `${out}]`;
}

function canonicalObject(obj: Record<string, unknown>, depth: number, omit?: string): string {
  const keys = Object.keys(obj);
  if (!isSorted(keys)) keys.sort();
  let out = "{";
  let first = true;
  for (const key of keys) {
    if (key === omit) continue;
    if (!first) out += ",";
    first = false;
    out += memberPrefix(key) + canonical(obj[key], depth + 1);
  }
  return `${out}}`;
}

function isSorted(keys: string[]): boolean {
  for (let i = 1; i < keys.length; i++) if (!(keys[i - 1]! < keys[i]!)) return false;
  return true;
}

// Nothing in such a string needs escaping: no quote, backslash, control character or surrogate
// (a surrogate pair is fine too, but JSON.stringify tells a pair from a lone half; let it).
const VERBATIM = /^[\u0020\u0021\u0023-\u005b\u005d-\ud7ff\ue000-\uffff]*$/;

function quote(text: string): string {
  return VERBATIM.test(text) ? `"${text}"` : JSON.stringify(text);
}

// Member names repeat across messages ("metadata", "request_id", ...): quote each once. Only
// short names are kept, and only so many, since names come from the outside too.
const prefixes = new Map<string, string>();

function memberPrefix(key: string): string {
  let prefix = prefixes.get(key);
  if (prefix === undefined) {
    prefix = `${quote(key)}:`;
    if (key.length <= 64 && prefixes.size < 4096) prefixes.set(key, prefix);
  }
  return prefix;
}

function notCanonical(why: string): TriadError {
  return new TriadError("ERR_INVALID_JSON", `cannot canonicalise: ${why}`);
}
