import { TriadError } from "../core/errors.js";
import { MAX_TIMER_MS } from "../core/timers.js";

/**
 * Checks of the options a program gives an agent's constructor, refused with ERR_INVALID_CONFIG
 * naming the option and what it got: a wrong one would otherwise be taken as it is (a worker of
 * concurrency 0 is sent nothing, and its tasks wait for ever).
 */

function shown(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** An agent id, or the id of the agent it reports to: a non-empty string. */
export function checkedId(option: string, value: unknown): string {
  if (typeof value !== "string" || value.length === 0)
    throw new TriadError("ERR_INVALID_CONFIG", `${option} must be a non-empty string (got ${shown(value)})`);
  return value;
}

/** A count (concurrency, capacity): an integer from 1 up. */
export function checkedCount(option: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1)
    throw new TriadError("ERR_INVALID_CONFIG", `${option} must be an integer >= 1 (got ${shown(value)})`);
  return value;
}

/** A time in milliseconds a timer waits: a positive integer a timer can hold. */
export function checkedMs(option: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0 || value > MAX_TIMER_MS)
    throw new TriadError(
      "ERR_INVALID_CONFIG",
      `${option} must be a positive integer of milliseconds up to ${MAX_TIMER_MS} (got ${shown(value)})`,
    );
  return value;
}
