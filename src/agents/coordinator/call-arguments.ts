import { TriadError } from "../../core/errors.js";
import { checkKnownKeys } from "../../core/known-keys.js";
import { shownValue } from "../../core/option-kinds.js";

/**
 * Checks of the arguments of the coordinator's calls beside the task itself (submit, wait and
 * the task's own schema check theirs): a wrong one was taken as it was — a reason of 5 became
 * the error "5", `provideInput(id, v, 5)` was `{}` — refused with ERR_INVALID_ARGUMENT.
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

/** registerDistributor's id (a non-empty string) and url (a string when given). */
export function checkDistributorRegistration(distributorId: unknown, url: unknown): void {
  if (typeof distributorId !== "string" || distributorId.length === 0)
    invalid(
      `registerDistributor: distributorId must be a non-empty string (got ${shownValue(distributorId)})`,
      {
        argument: "distributorId",
      },
    );
  if (url !== undefined && typeof url !== "string")
    invalid(`registerDistributor: url must be a string (got ${shownValue(url)})`, { argument: "url" });
}
