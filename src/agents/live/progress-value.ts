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
  const bytes = Buffer.byteLength(JSON.stringify(value));
  if (bytes > MAX_PROGRESS_BYTES) {
    throw new TriadError(
      "ERR_INVALID_PROGRESS",
      `ctx.progress takes at most ${MAX_PROGRESS_BYTES} bytes of JSON; this value is ${bytes}`,
    );
  }
  return value as JsonValue;
}

function describe(value: unknown): string {
  if (value === undefined) return "undefined";
  if (typeof value === "object" && value !== null) return value.constructor?.name ?? "an object";
  return typeof value;
}
