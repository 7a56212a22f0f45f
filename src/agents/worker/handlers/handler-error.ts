import { TriadError } from "../../../core/errors.js";

/**
 * A task's input was wrong: the task fails with this message, the worker carries on. Not
 * retried (`retryable: false`, as an UnrecoverableError): the same input fails the same way.
 */
export function badPayload(taskType: string, why: string): TriadError {
  return new TriadError("ERR_INVALID_PAYLOAD", `${taskType}: ${why}`, { retryable: false });
}
