import { TriadError } from "../../core/errors.js";
import { isPlainJson, type JsonValue } from "../../core/json.js";
import { MAX_PAYLOAD_DEPTH } from "../payload-depth.js";

/** Bytes of one progress value's JSON at most: it is written to the store up to 4 times a second. */
export const MAX_PROGRESS_BYTES = 16 * 1024;

/**
 * Checks a value a handler gives ctx.progress(): plain JSON (nested at most as deep as a
 * result may be) of at most MAX_PROGRESS_BYTES. Thrown at the handler, where the bad value
 * entered; the attempt goes on if the handler catches it.
 */
export function checkProgress(value: unknown): JsonValue {
  if (value === undefined || !isPlainJson(value, MAX_PAYLOAD_DEPTH - 1)) {
    throw new TriadError(
      "ERR_INVALID_PROGRESS",
      `ctx.progress takes a JSON value (plain data nested at most ${MAX_PAYLOAD_DEPTH} levels), got ${describe(value)}`,
    );
  }
  // Handlers call this in loops: the exact size (a JSON.stringify, ~10x the rest) only when a
  // cheap upper bound says the value might be over.
  if (upperBound(value, MAX_PROGRESS_BYTES) <= MAX_PROGRESS_BYTES) return value as JsonValue;
  const bytes = Buffer.byteLength(JSON.stringify(value));
  if (bytes > MAX_PROGRESS_BYTES) {
    throw new TriadError(
      "ERR_INVALID_PROGRESS",
      `ctx.progress takes at most ${MAX_PROGRESS_BYTES} bytes of JSON; this value is ${bytes}`,
    );
  }
  return value as JsonValue;
}

/**
 * At least the UTF-8 size of the value's JSON (plain JSON, already checked): each character of a
 * string counted as 6 bytes (a \u-escape), a number as 24; stops once past `budget`.
 */
function upperBound(value: unknown, budget: number): number {
  let total = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && total <= budget) {
    const v = stack.pop();
    if (typeof v === "string") total += v.length * 6 + 2;
    else if (typeof v === "number") total += 24;
    else if (v === null || typeof v === "boolean") total += 5;
    else if (Array.isArray(v)) {
      total += 2 + v.length;
      for (const item of v) stack.push(item);
    } else {
      for (const key in v as Record<string, unknown>) {
        total += key.length * 6 + 4;
        stack.push((v as Record<string, unknown>)[key]);
      }
      total += 2;
    }
  }
  return total;
}

function describe(value: unknown): string {
  if (value === undefined) return "undefined";
  if (typeof value === "object" && value !== null) return value.constructor?.name ?? "an object";
  return typeof value;
}
