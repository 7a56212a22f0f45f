import { TriadError } from "../errors.js";
import type { JsonValue } from "../json.js";

/**
 * A handler's or graph's output as JSON, the way JSON.stringify would write it (undefined
 * fields left out, Dates and anything with toJSON() through toJSON), except that what
 * JSON.stringify would silently corrupt is refused with ERR_RESULT_NOT_JSON and the path:
 * NaN and Infinity (they would become null), Maps and Sets (they would become {}),
 * functions, symbols, BigInts and cycles.
 */
export function toJsonResult(value: unknown, what = "result"): JsonValue {
  return convert(value, what, new Set());
}

function convert(value: unknown, path: string, seen: Set<object>): JsonValue {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      if (!Number.isFinite(value)) throw notJson(path, `${value} is not a finite number`);
      return value;
    case "undefined":
      return null; // only reached for array items and the top level, where JSON.stringify writes null
    case "function":
    case "symbol":
    case "bigint":
      throw notJson(path, `a ${typeof value} is not JSON`);
  }
  if (value === null) return null;
  const obj = value as object & { toJSON?: unknown };
  if (typeof obj.toJSON === "function") return convert((obj.toJSON as () => unknown)(), path, seen);
  if (obj instanceof Map || obj instanceof Set) {
    throw notJson(path, `a ${obj.constructor.name} is not JSON (convert it to an object or array)`);
  }
  if (seen.has(obj)) throw notJson(path, "the value contains a cycle");
  seen.add(obj);
  let out: JsonValue;
  if (Array.isArray(obj)) {
    out = obj.map((item, i) => convert(item, `${path}[${i}]`, seen));
  } else {
    const record: Record<string, JsonValue> = {};
    for (const [k, v] of Object.entries(obj)) {
      if (v !== undefined) record[k] = convert(v, `${path}.${k}`, seen);
    }
    out = record;
  }
  seen.delete(obj);
  return out;
}

/** Not retryable: the same graph given the same task would give the same kind of value again. */
function notJson(path: string, why: string): TriadError {
  return new TriadError("ERR_RESULT_NOT_JSON", `${path}: ${why}`, { path, retryable: false });
}
