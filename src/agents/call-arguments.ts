import { TriadError } from "../core/errors.js";
import { checkKnownKeys } from "../core/known-keys.js";
import { shownValue } from "../core/option-kinds.js";

/**
 * Checks of the arguments of the agents' calls beside the task itself (submit, wait and the
 * task's own schema check theirs): a wrong one was taken as it was — a reason of 5 became the
 * error "5", `provideInput(id, v, 5)` was `{}`, `registerWorker(5)` a worker "5" — refused with
 * ERR_INVALID_ARGUMENT.
 */

function invalid(message: string, details?: Record<string, unknown>): never {
  throw new TriadError("ERR_INVALID_ARGUMENT", message, details);
}

const INPUT_OPTIONS = { question: "number" } as const;

/** provideInput's options: `{ question? }` (its value is checked where it is used). */
export function checkInputOptions(options: unknown): { question?: number } {
  if (typeof options !== "object" || options === null || Array.isArray(options))
    invalid(`provideInput: options must be an object (got ${shownValue(options)})`, { argument: "options" });
  checkKnownKeys("provideInput", options, INPUT_OPTIONS, "options.");
  return options as { question?: number };
}

/** What an id must be, as an argument here or an agent's option (see checkedId): a non-empty string. */
export function isNonEmptyString(value: unknown): value is string {
  return typeof value === "string" && value.length > 0;
}

/** An id argument (`registerWorker: workerId`): a non-empty string. */
export function checkIdArgument(call: string, name: string, value: unknown): string {
  if (!isNonEmptyString(value))
    invalid(`${call}: ${name} must be a non-empty string (got ${shownValue(value)})`, { argument: name });
  return value;
}

/**
 * registerDistributor's id (a non-empty string), url (a string when given) and options
 * (`maxBodyBytes`: a positive integer when given).
 */
export function checkDistributorRegistration(
  distributorId: unknown,
  url: unknown,
  options: unknown = {},
): void {
  checkIdArgument("registerDistributor", "distributorId", distributorId);
  if (url !== undefined && typeof url !== "string")
    invalid(`registerDistributor: url must be a string (got ${shownValue(url)})`, { argument: "url" });
  checkRegistrationOptions("registerDistributor", options);
}

/** registerWorker's id (a non-empty string) and options (`maxBodyBytes`: a positive integer when given). */
export function checkWorkerRegistration(workerId: unknown, options: unknown = {}): void {
  checkIdArgument("registerWorker", "workerId", workerId);
  checkRegistrationOptions("registerWorker", options);
}

function checkRegistrationOptions(call: string, options: unknown): void {
  if (typeof options !== "object" || options === null || Array.isArray(options))
    invalid(`${call}: options must be an object (got ${shownValue(options)})`, { argument: "options" });
  for (const key of Object.keys(options))
    if (key !== "maxBodyBytes")
      invalid(`${call}: unknown option ${key}; the known one is maxBodyBytes`, { argument: key });
  const limit = (options as { maxBodyBytes?: unknown }).maxBodyBytes;
  if (limit !== undefined && !(Number.isSafeInteger(limit) && (limit as number) > 0))
    invalid(`${call}: maxBodyBytes must be a positive integer (bytes; got ${shownValue(limit)})`, {
      argument: "maxBodyBytes",
    });
}

/** The longest reason a cancel may give: it becomes the task's error, and is shown wherever the task is. */
export const MAX_CANCEL_REASON_CHARS = 1000;

/**
 * A cancel's reason is the error the task ends with: a non-empty string, not too long. Anything
 * else is refused before the task is touched: an empty one left the abandoned task with no error
 * at all, and an object ended it with "[object Object]".
 */
export function checkCancelReason(reason: unknown): asserts reason is string {
  if (typeof reason !== "string" || reason.trim().length === 0) {
    const got = typeof reason === "string" ? "an empty string" : shownValue(reason);
    invalid(
      `cancelTask's reason must be a non-empty string (the task's error; got ${got}); leave it out for "canceled by client"`,
    );
  }
  if (reason.length > MAX_CANCEL_REASON_CHARS)
    invalid(`cancelTask's reason is ${reason.length} characters; at most ${MAX_CANCEL_REASON_CHARS}`);
}

/** waitForTask's: a task id, and a timeout of 0 (answer now) or more milliseconds (Infinity: no end). */
export function checkWaitArguments(taskId: unknown, timeoutMs: unknown): void {
  if (!isNonEmptyString(taskId))
    invalid(
      `waitForTask: taskId must be a non-empty string (got ${typeof taskId === "string" ? '""' : String(taskId)})`,
    );
  if (typeof timeoutMs !== "number" || !(timeoutMs >= 0))
    invalid(
      `waitForTask: timeoutMs must be a number of milliseconds >= 0 (got ${typeof timeoutMs === "string" ? JSON.stringify(timeoutMs) : String(timeoutMs)})`,
    );
}
