import { TriadError } from "../errors.js";
import { isPlainJson, isPlainObject } from "../json.js";

export { isPlainObject };

/** Deeper than any real payload needs; bounds the recursion of checking, canonicalising and handling. */
export const MAX_JSON_DEPTH = 64;

/**
 * Refuses (ERR_INVALID_MESSAGE, naming what is wrong) a payload that is not plain JSON or nests
 * deeper than a signed message's canonical walk allows: the check an unsigned message gets in
 * place of that walk (A2AClient for what it builds, the router's audit for what is handed over).
 */
export function assertPlainPayload(payload: unknown): void {
  if (!isPlainJson(payload, MAX_JSON_DEPTH - 1)) {
    throw new TriadError(
      "ERR_INVALID_MESSAGE",
      jsonProblem(payload, "payload") ?? "payload is not plain JSON",
    );
  }
}

/**
 * What stops `value` from being plain JSON, as "path: why", or null when it is plain JSON:
 * strings, finite numbers, booleans, null, arrays and objects whose prototype is Object's (or
 * null). Stricter than `assertJson` on purpose: a Date or a class instance would be signed as
 * one thing and put on the wire as another (its toJSON), so it is refused rather than mangled.
 * Throws nothing of its own; a hostile object (a throwing getter, a Proxy) may, and callers
 * that take outside input catch that.
 */
export function jsonProblem(value: unknown, path: string, depth = 0): string | null {
  switch (typeof value) {
    case "string":
    case "boolean":
      return null;
    case "number":
      return Number.isFinite(value) ? null : `${path}: ${value} is not a finite number`;
    case "object":
      break;
    default:
      return `${path}: a ${typeof value} is not JSON`;
  }
  if (value === null) return null;
  if (depth >= MAX_JSON_DEPTH) return `${path}: nested deeper than ${MAX_JSON_DEPTH} levels`;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const problem = jsonProblem(value[i], `${path}[${i}]`, depth + 1);
      if (problem !== null) return problem;
    }
    return null;
  }
  if (!isPlainObject(value)) {
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
    return `${path}: ${typeof name === "string" ? `a ${name}` : "this object"} is not plain JSON (convert it first)`;
  }
  for (const key of Object.keys(value)) {
    const problem = jsonProblem((value as Record<string, unknown>)[key], `${path}.${key}`, depth + 1);
    if (problem !== null) return problem;
  }
  return null;
}
