import { isStoreUnavailable, isTriadError, TriadError } from "../../core/errors.js";

/**
 * What submitting one task of a batch did: recorded (`created`), found already recorded
 * (`created: false`: the task id is the idempotency key, nothing changed), or not recorded
 * (`error`; when the store was unavailable the same id may simply be sent again).
 */
export type SubmitOutcome =
  | { task_id: string; created: boolean }
  | { task_id: string; error: { code: string; message: string } };

/** A later task of one request whose id an earlier one of it has: it is not submitted (SPEC: ERR_DUPLICATE_TASK_ID). */
export const DUPLICATE_TASK_ID = "ERR_DUPLICATE_TASK_ID";

/**
 * The tasks of one request whose id an earlier task of it already has: index -> the index of
 * the first with that id. The first is submitted; each later one is answered as a duplicate.
 */
export function repeatedIds(taskIds: readonly string[]): Map<number, number> {
  const first = new Map<string, number>();
  const repeated = new Map<number, number>();
  taskIds.forEach((id, i) => {
    const earlier = first.get(id);
    if (earlier === undefined) first.set(id, i);
    else repeated.set(i, earlier);
  });
  return repeated;
}

/** The outcome of a task whose id the task at index `first` of the same request has. */
export function duplicateOutcome(
  taskId: string,
  first: number,
): { task_id: string; error: { code: string; message: string } } {
  return {
    task_id: taskId,
    error: {
      code: DUPLICATE_TASK_ID,
      message: `task id ${JSON.stringify(taskId)} is also the id of task [${first}] of this request: only the first was submitted`,
    },
  };
}

/**
 * `outcomesOfFirsts` (one per task of `taskIds` that is not a later duplicate, in order) spread
 * back over every task of the request, each later duplicate answered as one.
 */
export function withDuplicates<T>(
  taskIds: readonly string[],
  repeated: Map<number, number>,
  outcomesOfFirsts: readonly T[],
  duplicate: (taskId: string, first: number) => T,
): T[] {
  if (repeated.size === 0) return outcomesOfFirsts as T[];
  let k = 0;
  return taskIds.map((id, i) => {
    const first = repeated.get(i);
    return first === undefined ? outcomesOfFirsts[k++]! : duplicate(id, first);
  });
}

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
  const failed = failures.length;
  const unavailable = failures.every(isStoreUnavailable);
  const why = errorBody(first).message;
  return new TriadError(
    isTriadError(first) ? first.code : "ERR_INTERNAL",
    `${failed} of ${outcomes.length} tasks were not recorded (${why}); the others were. ` +
      (unavailable ? "Send the same task ids again: each is recorded once." : ""),
    { ...(isTriadError(first) ? first.details : {}), outcomes },
  );
}
