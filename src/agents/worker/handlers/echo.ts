import type { JsonObject, JsonValue } from "../../../core/json.js";
import { badPayload } from "./handler-error.js";

/** `echo` (and `generic`, the seed's generic task): the result is the payload. */
export function echo(payload: JsonObject): JsonValue {
  return payload;
}

/** A sleep at least this long reports how far it got (ctx.progress `{ slept_ms, of_ms }`) once a second. */
const SLEEP_PROGRESS_MS = 1000;

/**
 * `sleep`: payload `{ ms }`, waits that long (at most ten minutes), result `{ slept_ms }`. A
 * sleep of a second or more reports its progress once a second; a cancel (its signal) ends it.
 */
export function sleep(
  payload: JsonObject,
  signal: AbortSignal,
  progress?: (value: JsonValue) => void,
): Promise<JsonValue> {
  const ms = payload.ms ?? 0;
  if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0 || ms > 600_000) {
    throw badPayload("sleep", `ms must be a number of milliseconds in 0..600000 (got ${JSON.stringify(ms)})`);
  }
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const ticker =
      progress !== undefined && ms >= SLEEP_PROGRESS_MS
        ? setInterval(
            () => progress({ slept_ms: Math.round(performance.now() - started), of_ms: ms }),
            SLEEP_PROGRESS_MS,
          )
        : undefined;
    const timer = setTimeout(() => {
      clearInterval(ticker);
      resolve({ slept_ms: ms });
    }, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        clearInterval(ticker);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
