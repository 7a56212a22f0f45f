import type { JsonObject, JsonValue } from "../../../core/json.js";
import { badPayload } from "./handler-error.js";

const OPERATIONS = {
  sum: (v: number[]) => v.reduce((a, b) => a + b, 0),
  product: (v: number[]) => v.reduce((a, b) => a * b, 1),
  mean: (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length,
  min: (v: number[]) => Math.min(...v),
  max: (v: number[]) => Math.max(...v),
} as const;

type Operation = keyof typeof OPERATIONS;

/**
 * `compute`: payload `{ operation, values }` with operation one of sum, mean, min, max,
 * product; result `{ result }`. An empty payload is the sum of no values, 0 (the seed's
 * example submits `payload: {}`).
 */
export function compute(payload: JsonObject): JsonValue {
  const operation = (payload.operation ?? "sum") as JsonValue;
  const values = (payload.values ?? []) as JsonValue;
  if (typeof operation !== "string" || !(operation in OPERATIONS)) {
    throw badPayload(
      "compute",
      `operation must be one of ${Object.keys(OPERATIONS).join(", ")} (got ${JSON.stringify(operation)})`,
    );
  }
  if (!Array.isArray(values) || !values.every((v) => typeof v === "number" && Number.isFinite(v))) {
    throw badPayload("compute", "values must be an array of finite numbers");
  }
  const nums = values as number[];
  if (nums.length === 0 && operation !== "sum" && operation !== "product") {
    throw badPayload("compute", `${operation} of no values is undefined`);
  }
  return { result: OPERATIONS[operation as Operation](nums) };
}
