import type { JsonObject, JsonValue } from "../../../core/json.js";
import { badPayload } from "./handler-error.js";

/** `echo` (and `generic`, the seed's generic task): the result is the payload. */
export function echo(payload: JsonObject): JsonValue {
  return payload;
}

/** `sleep`: payload `{ ms }`, waits that long (at most ten minutes), result `{ slept_ms }`. */
export function sleep(payload: JsonObject, signal: AbortSignal): Promise<JsonValue> {
  const ms = payload.ms ?? 0;
  if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0 || ms > 600_000) {
    throw badPayload("sleep", `ms must be a number of milliseconds in 0..600000 (got ${JSON.stringify(ms)})`);
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve({ slept_ms: ms }), ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
