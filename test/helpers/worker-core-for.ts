import type { AgentPayload, AttemptOutcomeWire, DispatchedTask } from "../../src/agents/protocol.js";
import type { TaskHandler } from "../../src/agents/worker/task-runner.js";
import { WorkerCore } from "../../src/agents/worker/worker-core.js";

/** Attempt `fence` of task `id` (type `taskType`, 10 s timeout) as a distributor sends it to worker "w". */
export function dispatched(id: string, taskType: string, fence = 1): DispatchedTask {
  return {
    fence,
    timeout_ms: 10_000,
    task: {
      task_id: id,
      task_type: taskType,
      payload: {},
      status: "in_progress",
      result: null,
      error: null,
      attempts: fence,
      assigned_to: "w",
      created_at: new Date().toISOString(),
      started_at: null,
      completed_at: null,
    },
  };
}

/**
 * A started WorkerCore of the worker unit tests (a backlog of 10): `handler` runs every task
 * type, and the outcomes it sends are kept in `sent`, in order. Each send is answered at once,
 * or as `answer` says (a promise that settles when the distributor answers).
 */
export function workerCoreFor(o: {
  capacity: number;
  resendMs: number;
  handler: TaskHandler;
  answer?: (p: AgentPayload) => Promise<void> | undefined;
}): { core: WorkerCore; sent: AttemptOutcomeWire[] } {
  const sent: AttemptOutcomeWire[] = [];
  const core = new WorkerCore({
    capacity: o.capacity,
    resendMs: o.resendMs,
    maxBacklog: 10,
    handlerFor: () => o.handler,
    toHandlerTask: (d) => ({ taskId: d.task_id, taskType: d.task_type, payload: d.payload }),
    send: (p) => {
      if (p.kind === "task_results") sent.push(...p.results);
      return o.answer?.(p) ?? Promise.resolve();
    },
  });
  core.start();
  return { core, sent };
}
