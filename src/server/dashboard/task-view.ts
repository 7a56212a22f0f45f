import { reassignedEvents } from "../../agents/coordinator/reassignments.js";
import type { CoordinatorAgent } from "../../agents/index.js";
import type { TaskEvent } from "../../agents/observe/task-history.js";
import { parseTraceparent } from "../../agents/observe/trace-context.js";
import type { TaskDict } from "../../agents/protocol.js";
import { inTimeOrder, type TimelineStep, timeline } from "./timeline.js";

/** One A2A message behind a task: request_id, and the request_id of the message that caused it for this task. */
export type ChainLink = {
  kind: "assign_tasks" | "execute_tasks" | "task_results" | "task_terminal";
  from: string | null;
  to: string | null;
  request_id: string | null;
  parent_request_id: string | null;
  at: string | null;
};

export type TaskView = {
  task: TaskDict | null;
  /** What the ledger adds to the task dict (null once the record expired). */
  record: { fence: number; distributor: string | null; failures: number; max_retries: number } | null;
  timeline: TimelineStep[];
  chain: ChainLink[];
  /** The task's trace id, when an OpenTelemetry SDK traced it. */
  trace_id: string | null;
};

/** The task page: the task, its history as the coordinator saw it, and the messages behind it. */
export async function taskView(coordinator: CoordinatorAgent, taskId: string): Promise<TaskView | null> {
  const [task, record] = await Promise.all([
    coordinator.core.getTask(taskId),
    coordinator.ledger.get(taskId),
  ]);
  // Its reassignments as the store recorded them (whichever coordinator took it off a dead
  // distributor); this coordinator's own only when the record keeps none (an earlier release's).
  const seen = coordinator.observer.history.get(taskId);
  const moved = reassignedEvents(record?.reassigned);
  const events = moved === null ? seen : [...seen.filter((e) => e.event !== "reassigned"), ...moved];
  if (task === null && record === null && events.length === 0) return null;
  const dict = (task ?? record?.task ?? null) as TaskDict | null;
  const traceparent = events.find((e) => e.traceparent)?.traceparent;
  return {
    task: dict,
    record: record && {
      fence: record.fence,
      distributor: record.distributor,
      failures: record.failures,
      max_retries: record.maxRetries,
    },
    timeline: timeline(events, dict),
    chain: messageChain(coordinator.agentId, events),
    trace_id: parseTraceparent(traceparent)?.traceId ?? null,
  };
}

/**
 * The messages that carried the task, each linked to the one that caused it for this task.
 * Messages carry batches of tasks, so a message's own metadata.parent_request_id cannot name
 * one cause per task; the chain is rebuilt per task from what the coordinator sent (assign_tasks)
 * and what came back beside the terminal task (the request_ids of its attempts' messages).
 * Walked in time order (inTimeOrder), not in the order recorded: the retries come with the end,
 * after a later reassignment was recorded, and the store's reassignments (another coordinator's)
 * after everything this one saw.
 */
export function messageChain(coordinatorId: string, events: TaskEvent[]): ChainLink[] {
  const links: ChainLink[] = [];
  let cause: string | null = null;
  let distributor: string | null = null;
  const link = (l: Omit<ChainLink, "parent_request_id">) => {
    links.push({ ...l, parent_request_id: cause });
    if (l.request_id) cause = l.request_id;
  };
  for (const e of inTimeOrder(events)) {
    if (e.event === "assigned") {
      cause = null; // a (re)assignment starts the task's path again
      distributor = e.distributor ?? null;
      link({
        kind: "assign_tasks",
        from: coordinatorId,
        to: distributor,
        request_id: e.request_id ?? null,
        at: e.at,
      });
    } else if (e.event === "retried" || e.event === "committed") {
      const by = e.distributor ?? distributor;
      const worker = e.worker ?? null;
      const [execute, results] = e.via ?? [];
      if (execute !== undefined) {
        link({ kind: "execute_tasks", from: by, to: worker, request_id: execute || null, at: null });
      }
      if (results !== undefined) {
        link({ kind: "task_results", from: worker, to: by, request_id: results || null, at: null });
      }
      if (e.event === "committed" && e.request_id) {
        link({ kind: "task_terminal", from: by, to: coordinatorId, request_id: e.request_id, at: e.at });
      }
    }
  }
  return links;
}
