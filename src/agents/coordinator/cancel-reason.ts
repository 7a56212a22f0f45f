import { TriadError } from "../../core/errors.js";
import { shownValue } from "../../core/option-kinds.js";

/** The longest reason a cancel may give: it becomes the task's error, and is shown wherever the task is. */
export const MAX_CANCEL_REASON_CHARS = 1000;

/**
 * A cancel's reason is the error the task ends with: a non-empty string, not too long. Anything
 * else is refused (ERR_INVALID_ARGUMENT) before the task is touched: an empty one left the
 * abandoned task with no error at all, and an object ended it with "[object Object]".
 */
export function checkCancelReason(reason: unknown): asserts reason is string {
  if (typeof reason !== "string" || reason.trim().length === 0) {
    const got = typeof reason === "string" ? "an empty string" : shownValue(reason);
    throw new TriadError(
      "ERR_INVALID_ARGUMENT",
      `cancelTask's reason must be a non-empty string (the task's error; got ${got}); leave it out for "canceled by client"`,
    );
  }
  if (reason.length > MAX_CANCEL_REASON_CHARS) {
    throw new TriadError(
      "ERR_INVALID_ARGUMENT",
      `cancelTask's reason is ${reason.length} characters; at most ${MAX_CANCEL_REASON_CHARS}`,
    );
  }
}
