import { TriadError } from "./errors.js";

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** An object literal's kind of object: its prototype is Object's, or null. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * True when `value` is JSON as JSON.parse makes it: strings, finite numbers, booleans, null,
 * arrays, and objects whose prototype is Object's (or null), nested at most `maxDepth` levels.
 * A boolean walk with no allocation, for hot paths; `assertJson` says what is wrong instead.
 * With `sortedMembers`, also only when every object has its members in sorted order (UTF-16 code
 * units) and nothing has a toJSON method: then JSON.stringify(value) is its RFC 8785 canonical form.
 */
export function isPlainJson(value: unknown, maxDepth = 64, depth = 0, sortedMembers = false): boolean {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value);
    case "object": {
      if (value === null) return true;
      if (depth > maxDepth) return false;
      // JSON.stringify would call a toJSON it finds (even an inherited one); a member walk does not.
      if (sortedMembers && typeof (value as { toJSON?: unknown }).toJSON === "function") return false;
      if (Array.isArray(value)) {
        for (const item of value) if (!isPlainJson(item, maxDepth, depth + 1, sortedMembers)) return false;
        return true;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return false;
      let previous: string | undefined;
      for (const key in value) {
        if (sortedMembers) {
          if (previous !== undefined && !(previous < key)) return false;
          previous = key;
        }
        const member = (value as Record<string, unknown>)[key];
        if (!isPlainJson(member, maxDepth, depth + 1, sortedMembers)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

/**
 * What `JSON.parse(JSON.stringify(value))` answers, made without the text in between (about six
 * times faster on the plain JSON agents of one process hand each other). The same rules: members
 * that are undefined, functions or symbols are left out (null in arrays), numbers that are not
 * finite become null, a BigInt throws; a value with a toJSON method, or an object that is not
 * plain (a Date, a class instance, a Map), is copied through JSON itself.
 */
export function jsonCopy(value: unknown): unknown {
  if (typeof value !== "object" || value === null) return copyScalar(value);
  if (Array.isArray(value)) {
    const n = value.length;
    const out = new Array<unknown>(n);
    for (let i = 0; i < n; i++) {
      const item: unknown = value[i];
      out[i] = leftOut(item) ? null : jsonCopy(item);
    }
    return out;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (
    (proto !== Object.prototype && proto !== null) ||
    typeof (value as { toJSON?: unknown }).toJSON === "function"
  ) {
    return JSON.parse(JSON.stringify(value)) as unknown;
  }
  const out: Record<string, unknown> = {};
  // for-in in Object.keys' order, without its array; own members only, as JSON.stringify reads them.
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const member = (value as Record<string, unknown>)[key];
    if (leftOut(member)) continue;
    // Assigned, "__proto__" would set the copy's prototype; JSON.parse makes it an own member.
    if (key === "__proto__") {
      Object.defineProperty(out, key, {
        value: jsonCopy(member),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else out[key] = jsonCopy(member);
  }
  return out;
}

/** Freezes `value` and every object and array in it (already frozen ones are not walked again). */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== "object" || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  return value;
}

function leftOut(member: unknown): boolean {
  return member === undefined || typeof member === "function" || typeof member === "symbol";
}

function copyScalar(value: unknown): unknown {
  // JSON writes -0 as 0, and has no NaN or Infinity.
  if (typeof value === "number") return Number.isFinite(value) ? value + 0 : null;
  if (typeof value === "bigint") throw new TypeError("Do not know how to serialize a BigInt");
  return value;
}

/**
 * How many containers deep `value` nests: 0 for a scalar, 1 for `{}` or `[1]`, 2 for `{"a":[]}`.
 * The walk stops as soon as it passes `limit` (and answers limit + 1), so a value of any depth
 * — 10,000 levels straight from JSON.parse, or a cycle — costs at most `limit` levels of work
 * down each branch. Iterative, with its own stack: no recursion to overflow. Members are read as
 * own enumerable properties (Object.keys), as JSON.stringify reads them.
 */
export function jsonDepth(value: unknown, limit = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== "object" || value === null) return 0;
  let deepest = 0;
  const stack: Array<{ value: object; depth: number }> = [{ value, depth: 1 }];
  while (stack.length > 0) {
    const { value: node, depth } = stack.pop()!;
    if (depth > deepest) {
      deepest = depth;
      if (deepest > limit) return limit + 1;
    }
    const members = Array.isArray(node) ? node : Object.values(node);
    for (const member of members) {
      if (typeof member === "object" && member !== null) stack.push({ value: member, depth: depth + 1 });
    }
  }
  return deepest;
}

/**
 * Where `value` (parsed JSON) has a member named `__proto__` (JSON.parse makes it an own
 * member; a schema's parse leaves it out and a copy by assignment makes it the prototype, so it
 * would be lost without a word): its path (`payload.a.__proto__`, `[2].__proto__`), or null.
 */
export function protoMemberPath(value: unknown): string | null {
  // Each node keeps its parent link, not its path: a path is made only for the member found
  // (paths made as the walk goes cost quadratic memory on JSON nested thousands deep).
  type Step = { node: unknown; key: string | number | null; up: Step | null };
  const stack: Step[] = [{ node: value, key: null, up: null }];
  while (stack.length > 0) {
    const step = stack.pop()!;
    const node = step.node;
    if (typeof node !== "object" || node === null) continue;
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) stack.push({ node: node[i], key: i, up: step });
      continue;
    }
    if (Object.hasOwn(node, "__proto__")) return pathOf({ key: "__proto__", up: step });
    for (const [key, member] of Object.entries(node)) stack.push({ node: member, key, up: step });
  }
  return null;
}

function pathOf(step: { key: string | number | null; up: unknown }): string {
  const keys: Array<string | number> = [];
  for (let s = step as { key: string | number | null; up: unknown } | null; s !== null; s = s.up as typeof s)
    if (s.key !== null) keys.unshift(s.key);
  return keys.map((k, i) => (typeof k === "number" ? `[${k}]` : i === 0 ? k : `.${k}`)).join("");
}

/**
 * Checks that `value` survives JSON.stringify -> JSON.parse unchanged, and returns it typed.
 * JSON.stringify silently drops undefined and functions and turns NaN into null; a store that
 * accepted those would hand back something other than what it was given, so they are refused.
 * Objects with a toJSON() (Task, Date) are checked through what toJSON returns.
 */
export function assertJson(value: unknown, what = "value"): JsonValue {
  checkJson(value, what, new Set());
  return value as JsonValue;
}

function checkJson(value: unknown, path: string, seen: Set<object>): void {
  switch (typeof value) {
    case "string":
    case "boolean":
      return;
    case "number":
      if (!Number.isFinite(value)) {
        throw invalid(path, `${value} is not a finite number`);
      }
      return;
    case "undefined":
      throw invalid(path, "undefined is not JSON");
    case "function":
      throw invalid(path, "a function is not JSON");
    case "symbol":
      throw invalid(path, "a symbol is not JSON");
    case "bigint":
      throw invalid(path, "a BigInt is not JSON (convert it to a string or number first)");
  }
  if (value === null) return;
  const obj = value as { toJSON?: unknown };
  if (typeof obj.toJSON === "function") {
    checkJson((obj.toJSON as () => unknown)(), path, seen);
    return;
  }
  // JSON.stringify writes these as {}, their entries lost without a word.
  if (obj instanceof Map || obj instanceof Set) {
    throw invalid(path, `a ${obj.constructor.name} is not JSON (convert it to an object or array)`);
  }
  if (seen.has(obj)) throw invalid(path, "the value contains a cycle");
  seen.add(obj);
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      checkJson(item, `${path}[${i}]`, seen);
    });
  } else {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      checkJson(v, `${path}.${k}`, seen);
    }
  }
  seen.delete(obj);
}

function invalid(path: string, why: string): TriadError {
  return new TriadError("ERR_INVALID_JSON", `${path}: ${why}`, { path });
}

/** Stored form of a value: always JSON, so a string and a number never come back confused. */
export function encodeJson(value: unknown, what = "value"): string {
  return JSON.stringify(assertJson(value, what));
}

/** Parses what the store holds; a raw string that is not JSON (written by another program) is returned as is. */
export function decodeJson(raw: string): JsonValue {
  try {
    return JSON.parse(raw) as JsonValue;
  } catch {
    return raw;
  }
}
