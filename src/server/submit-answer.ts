import { errorBody } from "../agents/coordinator/submit-outcome.js";
import { isStoreUnavailable, isTriadError, retryAfterOf } from "../core/errors.js";
import type { JsonObject } from "../core/json.js";
import { statusOf } from "./http-util.js";

export type SubmitAnswer = { status: number; body: JsonObject; headers: Record<string, string> };

/**
 * The answer of POST /tasks from each task's settled submit. All recorded: 202 (200 when every
 * id was already recorded: nothing new, the tasks as they stand). Some not recorded: the status
 * of the failure (503 with Retry-After when the store was unavailable) and, for an array, each
 * task's own outcome — its task dict, or `{ task_id, error }` — since the tasks of the shards
 * that answered are recorded. Sending the whole batch again records each task exactly once.
 */
export function submitAnswer(
  taskIds: string[],
  settled: PromiseSettledResult<{ task: JsonObject; created: boolean }>[],
  many: boolean,
): SubmitAnswer {
  const failures = settled.flatMap((r) => (r.status === "rejected" ? [r.reason as unknown] : []));
  if (failures.length === 0) {
    const done = settled.map(
      (r) => (r as PromiseFulfilledResult<{ task: JsonObject; created: boolean }>).value,
    );
    const status = done.some((d) => d.created) ? 202 : 200;
    return { status, body: many ? { tasks: done.map((d) => d.task) } : done[0]!.task, headers: {} };
  }
  const worst = failures.find((f) => !isStoreUnavailable(f)) ?? failures[0];
  const status = isTriadError(worst) ? statusOf(worst, 400) : 500;
  const after = failures.map(retryAfterOf).find((s) => s !== undefined);
  const headers: Record<string, string> = after === undefined ? {} : { "retry-after": String(after) };
  const error = errorBody(worst);
  if (!many) return { status, body: { error }, headers };
  const tasks = settled.map((r, i) =>
    r.status === "fulfilled" ? r.value.task : { task_id: taskIds[i]!, error: errorBody(r.reason) },
  );
  const message =
    `${failures.length} of ${settled.length} tasks were not recorded (${error.message}); the others were` +
    (failures.every(isStoreUnavailable) ? ". Send the same tasks again: each is recorded once." : "");
  return { status, body: { error: { code: error.code, message }, tasks }, headers };
}
