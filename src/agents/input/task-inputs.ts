import type { TaskLedger } from "../ledger/task-ledger.js";
import type { DispatchedTask, TaskDict } from "../protocol.js";

/**
 * A task that was given input runs again with every value given so far (ctx.inputs) and the key
 * of the request the last one answered (a graph resumes that interrupt). Both are read from the
 * record at dispatch, not taken from a dict that may be older than the last answer.
 */
export async function withInputs(ledger: TaskLedger, job: DispatchedTask): Promise<void> {
  const record = await ledger.get(job.task.task_id);
  if (record === null) return;
  if (record.task.inputs !== undefined) job.task.inputs = record.task.inputs;
  if (record.answeredKey) job.resume_key = record.answeredKey;
}

/** Whether a task dict has any input key. */
export function hasInputKeys(task: TaskDict): boolean {
  return task.inputs !== undefined || task.input_timeout_ms !== undefined;
}

/** The input keys a finished task's dict keeps (what it was given; absent when unused). */
export function inputKeysOf(task: TaskDict): Partial<TaskDict> {
  if (!hasInputKeys(task)) return {};
  return {
    ...(task.input_timeout_ms !== undefined ? { input_timeout_ms: task.input_timeout_ms } : {}),
    ...(task.inputs !== undefined ? { inputs: task.inputs } : {}),
  };
}
