import type { JsonValue } from "../../core/json.js";
import { withInputs } from "../input/task-inputs.js";
import type { TaskLedger } from "../ledger/task-ledger.js";
import type { AgentPayload, DispatchedTask, ResultAck, TaskDict } from "../protocol.js";
import { sendSplitting } from "../split-send.js";
import { leaveOutResults } from "../workflow/dependency-fetch.js";

/** Where what an attempt carries besides its task comes from. */
export type JobSources = {
  ledger: TaskLedger;
  checkpointFor?: (taskId: string, fence: number) => Promise<JsonValue | null>;
  dependenciesFor?: (task: TaskDict) => Promise<DispatchedTask["dependencies"]>;
};

/**
 * What one attempt carries to its worker: the task as dispatched (in progress, its attempt count
 * as the dispatch script wrote it, assigned to that worker), its fence and timeout, and — fetched
 * before it is sent — a graph task's last checkpoint, the task's inputs, and its dependencies'
 * outcomes. The count is the store's, not the copy's plus one: a copy read before a stalled
 * holder started the task again (then moved here) is behind, and the handler was told one attempt
 * too few (retries were decided from the store's count all along).
 */
export function attemptJob(
  task: TaskDict,
  workerId: string,
  started: { fence: number; attempts: number },
  timeoutMs: number,
): DispatchedTask {
  // Members in sorted order, as canonical JSON writes them (the task's own stay where they are).
  return {
    fence: started.fence,
    task: { ...task, status: "in_progress", attempts: started.attempts, assigned_to: workerId },
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

/** Times in a row a task's attempt may go unsent because what it carries could not be read. */
export const MAX_INCOMPLETE = 5;

/**
 * Starts the fetches of every job (jobFetches: `jobs[i]` is attempt of `tasks[i]`) and resolves
 * once all have settled, with the jobs that could not be completed and why (undefined: none).
 * Each job is sent only whole: one failed read must not let another go before its own ended.
 */
export async function completeJobs(
  jobs: DispatchedTask[],
  tasks: TaskDict[],
  o: JobSources,
): Promise<Map<DispatchedTask, string> | undefined> {
  let incomplete: Map<DispatchedTask, string> | undefined;
  let fetching: Array<Promise<void>> | undefined;
  jobs.forEach((job, i) => {
    const fetches = jobFetches(job, tasks[i]!, o);
    if (fetches.length === 0) return;
    fetching ??= [];
    fetching.push(
      Promise.all(fetches).then(
        () => {},
        (err: unknown) => {
          incomplete ??= new Map();
          incomplete.set(job, (err as Error)?.message ?? String(err));
        },
      ),
    );
  });
  if (fetching !== undefined) await Promise.all(fetching);
  return incomplete;
}

/**
 * How many times in a row each task's attempt could not be completed (a store timeout, or a
 * checkpoint that cannot be read at all): past MAX_INCOMPLETE the task is given up on rather
 * than taken back for ever. Holds only tasks that are failing so (at most `limit`).
 */
export class IncompleteJobs {
  private readonly times = new Map<string, number>();
  constructor(private readonly limit = 10_000) {}

  /** One more time for `taskId`: true when it is past MAX_INCOMPLETE (and forgotten). */
  failed(taskId: string): boolean {
    const n = (this.times.get(taskId) ?? 0) + 1;
    this.times.delete(taskId);
    if (n >= MAX_INCOMPLETE) return true;
    this.times.set(taskId, n);
    if (this.times.size > this.limit) this.times.delete(this.times.keys().next().value!);
    return false;
  }

  /** `taskId`'s attempt went whole. */
  sent(taskId: string): void {
    if (this.times.size > 0) this.times.delete(taskId);
  }
}

/** What goes to a worker: attempts to run, and acknowledgements of its results. */
export type WorkerItem = { job: DispatchedTask } | { ack: ResultAck };

/** One message to a worker: attempts to run (acks riding along), or acknowledgements alone. */
export function workerPayload(items: WorkerItem[]): AgentPayload {
  const tasks: DispatchedTask[] = [];
  const acks: ResultAck[] = [];
  for (const item of items) {
    if ("job" in item) tasks.push(item.job);
    else acks.push(item.ack);
  }
  return tasks.length > 0
    ? { kind: "execute_tasks", ...(acks.length > 0 ? { acks } : {}), tasks }
    : { kind: "results_ack", acks };
}

/**
 * Sends `items` to a worker as sendSplitting does. An attempt that no message can carry with
 * its dependencies' results goes without them to a worker that `fetches` them (leaveOutResults:
 * it fetches them before its handler runs); only one that cannot go even so is handed to `refuse`.
 */
export function sendWorkerItems(
  items: WorkerItem[],
  send: (items: WorkerItem[]) => Promise<void>,
  refuse: (item: WorkerItem, reason: string) => void,
  fetches: boolean,
): Promise<void> {
  return sendSplitting(items, send, (item, why) => {
    const lighter = fetches && "job" in item ? leaveOutResults(item.job) : null;
    if (lighter === null) return refuse(item, why);
    return sendSplitting([{ job: lighter }], send, refuse);
  });
}
