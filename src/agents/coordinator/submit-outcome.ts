import { isStoreUnavailable, isTriadError, TriadError } from "../../core/errors.js";

/**
 * What submitting one task of a batch did: recorded (`created`), found already recorded
 * (`created: false`: the task id is the idempotency key, nothing changed), or not recorded
 * (`error`; when the store was unavailable the same id may simply be sent again).
 */
export type SubmitOutcome =
  | { task_id: string; created: boolean }
  | { task_id: string; error: { code: string; message: string } };

/** One outcome per task, from the settled submits of `taskIds` (in the same order). */
export function submitOutcomes(
  taskIds: string[],
  settled: PromiseSettledResult<boolean>[],
): { outcomes: SubmitOutcome[]; failures: unknown[] } {
  const failures: unknown[] = [];
  const outcomes = settled.map((r, i): SubmitOutcome => {
    if (r.status === "fulfilled") return { task_id: taskIds[i]!, created: r.value };
    failures.push(r.reason);
    return { task_id: taskIds[i]!, error: errorBody(r.reason) };
  });
  return { outcomes, failures };
}

/** The code and message a client is told for a task that was not recorded. */
export function errorBody(err: unknown): { code: string; message: string } {
  return isTriadError(err)
    ? { code: err.code, message: err.message }
    : { code: "ERR_INTERNAL", message: "internal error" };
}

/**
 * The error of a batch recorded in part: the first failure's code and status (503 with
 * Retry-After when the store was unavailable), and in `details.outcomes` what happened to each
 * task, so that the caller sends again exactly the ones not recorded — or all of them: those
 * already recorded are recognised by their id and not recorded twice.
 */
export function partialSubmitError(outcomes: SubmitOutcome[], failures: unknown[]): TriadError {
  const first = failures[0];
  const failed = outcomes.filter((o) => "error" in o).length;
  const unavailable = failures.every(isStoreUnavailable);
  const why = errorBody(first).message;
  return new TriadError(
    isTriadError(first) ? first.code : "ERR_INTERNAL",
    `${failed} of ${outcomes.length} tasks were not recorded (${why}); the others were. ` +
      (unavailable ? "Send the same task ids again: each is recorded once." : ""),
    { ...(isTriadError(first) ? first.details : {}), outcomes },
  );
}
