import type { Logger } from "../../core/logger.js";
import type { AttemptCancelWire } from "../protocol.js";
import type { DistributorEvents } from "./distributor-events.js";

export type AgentEventsOptions = {
  log: Logger;
  /** The events the agent's user asked for (DistributorAgentOptions.events): each still told. */
  events?: DistributorEvents;
  /** Tells a worker to cancel attempts (best effort). */
  cancelOnWorker: (workerId: string, tasks: AttemptCancelWire[]) => void;
  /** Refuses, as unauthorized, what a sender may not say (A2AClient.refuseUnauthorized). */
  refuse: (refused: { sender: string; requestId: string | null; detail: string }) => void;
};

/**
 * What the distributor agent does as its core tells of an event, before its user's listener
 * hears it: the events an operator must see are logged, a result from a worker that does not
 * run the attempt is refused as unauthorized, and an attempt dropped by reconcile is canceled
 * on its worker.
 */
export function agentEvents(o: AgentEventsOptions): DistributorEvents {
  const { log, events } = o;
  return {
    ...events,
    attemptDropped: (workerId, taskId, fence) => {
      o.cancelOnWorker(workerId, [{ task_id: taskId, fence: fence + 1 }]);
      events?.attemptDropped?.(workerId, taskId, fence);
    },
    staleResult: (outcome, workerId) => {
      log.warn({ task: outcome.task_id, fence: outcome.fence, worker: workerId }, "refused a stale result");
      events?.staleResult?.(outcome, workerId);
    },
    foreignResult: (outcome, workerId, holder) => {
      const detail = `result of task ${outcome.task_id} (fence ${outcome.fence}) from ${workerId}, which does not run it (${holder === null ? "not ours" : `${holder} does`})`;
      o.refuse({ sender: workerId, requestId: null, detail });
      events?.foreignResult?.(outcome, workerId, holder);
    },
    workerDead: (workerId, tasks) => {
      log.warn({ worker: workerId, tasks }, "worker declared dead; taking its tasks back");
      events?.workerDead?.(workerId, tasks);
    },
    incompleteJob: (taskId, reason) => {
      log.warn({ task: taskId, reason }, "attempt held back: what it carries could not be read");
      events?.incompleteJob?.(taskId, reason);
    },
    passOverdue: (boundMs) => {
      log.warn({ boundMs }, "a dispatch pass got no answer from the store in time; dispatching on");
      events?.passOverdue?.(boundMs);
    },
    unsendable: (taskId, reason) => {
      log.warn({ task: taskId, reason }, "task cannot be sent");
      events?.unsendable?.(taskId, reason);
    },
  };
}
