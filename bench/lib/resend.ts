/**
 * Submits that survive a slow store: a benchmark that runs for a million tasks on a loaded
 * machine meets the store's command timeout now and then (ERR_STORE_TIMEOUT), and one such
 * answer must not end the run. The task id is the idempotency key (README, "POST /tasks"): a
 * task sent again after a timeout is recorded once, whether or not the first send was.
 */

/** Codes of a store that could not answer now (src/core/errors.ts, STORE_UNAVAILABLE_CODES). */
const STORE_UNAVAILABLE = new Set([
  "ERR_STORE_UNAVAILABLE",
  "ERR_STORE_TIMEOUT",
  "ERR_NOT_CONNECTED",
  "ERR_NOT_REPLICATED",
]);

/** Tasks per submitTasks call: a batch small enough for its script to answer well within the timeout. */
export const SUBMIT_CHUNK = 1000;

/** Sends of one task or batch before the store's error ends the run. */
export const SUBMIT_TRIES = 20;

type Task = { task_id: string; task_type: string; payload: unknown };
type Outcome =
  | { task_id: string; created: boolean }
  | { task_id: string; error: { code: string; message: string } };
export type Submitter = {
  submitTask(task: Task): Promise<boolean>;
  submitTasksSettled(tasks: Task[]): Promise<Outcome[]>;
};

/** What a run's submits met: sends again after a store error. */
export type ResendCount = { resent: number };

const storeUnavailable = (err: unknown) =>
  STORE_UNAVAILABLE.has(String((err as { code?: unknown } | null)?.code ?? ""));

/**
 * Records `tasks` in submitTasks calls of at most `chunk`, each task sent again (up to
 * SUBMIT_TRIES sends) while the store answers it with an error of its own; any other error is thrown.
 */
export async function submitInChunks(
  coordinator: Submitter,
  tasks: Task[],
  count: ResendCount = { resent: 0 },
  chunk = SUBMIT_CHUNK,
): Promise<void> {
  for (let from = 0; from < tasks.length; from += chunk) {
    let left = tasks.slice(from, from + chunk);
    for (let tries = 1; left.length > 0; tries++) {
      let failed: Array<{ task: Task; error: unknown }>;
      try {
        const outcomes = await coordinator.submitTasksSettled(left);
        failed = left.flatMap((task, i) => {
          const o = outcomes[i]!;
          return "error" in o ? [{ task, error: o.error }] : [];
        });
      } catch (err) {
        failed = left.map((task) => ({ task, error: err }));
      }
      const other = failed.find((f) => !storeUnavailable(f.error));
      if (other !== undefined) throw errorOf(other.task, other.error);
      if (failed.length > 0 && tries >= SUBMIT_TRIES) throw errorOf(failed[0]!.task, failed[0]!.error);
      count.resent += failed.length;
      left = failed.map((f) => f.task);
    }
  }
}

/**
 * submitTask, sent again (up to SUBMIT_TRIES sends) while the store answers with an error of its
 * own; true when the task is recorded, by this send or an earlier one (the ids of a run are new).
 */
export async function submitOne(
  coordinator: Submitter,
  task: Task,
  count: ResendCount = { resent: 0 },
): Promise<boolean> {
  for (let tries = 1; ; tries++) {
    try {
      // Not created on a later send: the earlier one, which timed out, recorded it.
      return (await coordinator.submitTask(task)) || tries > 1;
    } catch (err) {
      if (!storeUnavailable(err) || tries >= SUBMIT_TRIES) throw err;
      count.resent++;
    }
  }
}

function errorOf(task: Task, error: unknown): Error {
  if (error instanceof Error) return error;
  const e = error as { code?: string; message?: string };
  return new Error(`task ${task.task_id}: ${e.code ?? "error"}: ${e.message ?? String(error)}`);
}
