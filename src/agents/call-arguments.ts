import { TriadError } from "../core/errors.js";
import { checkKnownKeys } from "../core/known-keys.js";
import { shownValue } from "../core/option-kinds.js";

/**
 * Checks of the arguments of the agents' calls beside the task itself (submit, wait and the
 * task's own schema check theirs): a wrong one was taken as it was — a reason of 5 became the
 * error "5", `provideInput(id, v, 5)` was `{}`, `registerWorker(5)` a worker "5" — refused with
 * ERR_INVALID_ARGUMENT.
 */

function invalid(message: string, details: Record<string, unknown>): never {
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

/** An id argument (`registerWorker: workerId`): a non-empty string. */
export function checkIdArgument(call: string, name: string, value: unknown): string {
  if (typeof value !== "string" || value.length === 0)
    invalid(`${call}: ${name} must be a non-empty string (got ${shownValue(value)})`, { argument: name });
  return value;
}

/** registerDistributor's id (a non-empty string) and url (a string when given). */
export function checkDistributorRegistration(distributorId: unknown, url: unknown): void {
  checkIdArgument("registerDistributor", "distributorId", distributorId);
  if (url !== undefined && typeof url !== "string")
    invalid(`registerDistributor: url must be a string (got ${shownValue(url)})`, { argument: "url" });
}
