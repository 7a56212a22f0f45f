import type { JsonObject, JsonValue } from "../../../core/json.js";
import { badPayload } from "./handler-error.js";

// Loops, not Math.min(...values): a spread passes every value as an argument, and 200,000 of
// them overflow the stack.
const OPERATIONS = new Map<string, (v: number[]) => number>([
  ["sum", (v) => v.reduce((a, b) => a + b, 0)],
  ["product", (v) => v.reduce((a, b) => a * b, 1)],
  ["mean", (v) => v.reduce((a, b) => a + b, 0) / v.length],
  ["min", (v) => v.reduce((a, b) => Math.min(a, b))],
  ["max", (v) => v.reduce((a, b) => Math.max(a, b))],
]);

/**
 * `compute`: payload `{ operation, values }` with operation one of sum, mean, min, max,
 * product; result `{ result }`. An empty payload is the sum of no values, 0 (the seed's
 * example submits `payload: {}`).
 */
export function compute(payload: JsonObject): JsonValue {
  const operation = (payload.operation ?? "sum") as JsonValue;
  const values = (payload.values ?? []) as JsonValue;
  // A Map: "constructor" or "toString" is not an operation, whatever Object.prototype holds.
  const run = typeof operation === "string" ? OPERATIONS.get(operation) : undefined;
  if (run === undefined) {
    throw badPayload(
      "compute",
      `operation must be one of ${[...OPERATIONS.keys()].join(", ")} (got ${JSON.stringify(operation)})`,
    );
  }
  if (!Array.isArray(values) || !values.every((v) => typeof v === "number" && Number.isFinite(v))) {
    throw badPayload("compute", "values must be an array of finite numbers");
  }
  const nums = values as number[];
  if (nums.length === 0 && operation !== "sum" && operation !== "product") {
    throw badPayload("compute", `${operation} of no values is undefined`);
  }
  const result = run(nums);
  // JSON has no Infinity: a result past the largest number would not be a result.
  if (!Number.isFinite(result))
    throw badPayload("compute", `the ${operation} overflows: it is not a finite number`);
  return { result };
}
