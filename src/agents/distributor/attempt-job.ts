import type { JsonValue } from "../../core/json.js";
import { withInputs } from "../input/task-inputs.js";
import type { TaskLedger } from "../ledger/task-ledger.js";
import type { DispatchedTask, TaskDict } from "../protocol.js";

/** Where what an attempt carries besides its task comes from. */
export type JobSources = {
  ledger: TaskLedger;
  checkpointFor?: (taskId: string, fence: number) => Promise<JsonValue | null>;
  dependenciesFor?: (task: TaskDict) => Promise<DispatchedTask["dependencies"]>;
};

/**
 * What one attempt carries to its worker: the task as dispatched (in progress, one attempt
 * more, assigned to that worker), its fence and timeout, and — fetched before it is sent — a
 * graph task's last checkpoint, the task's inputs, and its dependencies' outcomes.
 */
export function attemptJob(
  task: TaskDict,
  workerId: string,
  fence: number,
  timeoutMs: number,
): DispatchedTask {
  // Members in sorted order, as canonical JSON writes them (the task's own stay where they are).
  return {
    fence,
    task: { ...task, status: "in_progress", attempts: task.attempts + 1, assigned_to: workerId },
    timeout_ms: timeoutMs,
  };
}

/** Starts the fetches that complete `job` (attempt `job.fence` of `task`); send it once they settle. */
export function jobFetches(job: DispatchedTask, task: TaskDict, o: JobSources): Array<Promise<void>> {
  const fetches: Array<Promise<void>> = [];
  // A later attempt of a graph task resumes from its last checkpoint.
  if (job.fence > 1 && o.checkpointFor) {
    fetches.push(
      o.checkpointFor(task.task_id, job.fence).then((ckpt) => {
        if (ckpt !== null) job.checkpoint = ckpt;
      }),
    );
  }
  if (task.inputs?.length) fetches.push(withInputs(o.ledger, job));
  if (task.depends_on?.length && o.dependenciesFor) {
    fetches.push(
      o.dependenciesFor(task).then((outcomes) => {
        job.dependencies = outcomes;
      }),
    );
  }
  return fetches;
}
