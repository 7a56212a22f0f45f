import type { TaskEvent } from "../../agents/observe/task-history.js";
import type { TaskDict } from "../../agents/protocol.js";
import { isTerminalStatus } from "../../core/state/status.js";

export type TimelineStep =
  | TaskEvent
  | { event: "started"; at: string; worker: string | null; attempt: number };

/**
 * The events in time order (a copy). Within one millisecond the order is the causal one
 * (submitted first, the end last), then the order given: the sort is stable. Events come from
 * more than one recorder (this coordinator, the store's reassignments written by another, the
 * retries a distributor reports with the end), so the order recorded is not the order they
 * happened in.
 */
export function inTimeOrder(events: TaskEvent[]): TaskEvent[] {
  const time = (e: TaskEvent) => Date.parse(e.at) || 0;
  const rank = (e: TaskEvent) =>
    e.event === "submitted" ? 0 : e.event === "committed" || e.event === "abandoned" ? 2 : 1;
  return events
    .map((e, i) => ({ e, i }))
    .sort((a, b) => time(a.e) - time(b.e) || rank(a.e) - rank(b.e) || a.i - b.i)
    .map(({ e }) => e);
}

/** Events that end an attempt: the commit, an abandon, a failed attempt retried. */
const endsAttempt = (e: TaskEvent, attempt: number) =>
  e.event === "committed" ||
  e.event === "abandoned" ||
  (e.event === "retried" && (e.attempt ?? 0) >= attempt);

/**
 * The task page's history: the coordinator's events in time order (one clock, its own), and the
 * start of each attempt the ledger recorded, placed by cause, not by its time: an attempt a
 * reassignment ended (its distributor died) just before that reassignment, which kept its start;
 * the current (or last) attempt's after everything that led to it (submitted, assigned, earlier
 * attempts retried or reassigned, inputs given) and before what ended it. A start's time comes
 * from the distributor's clock (another process, maybe another host), so between two clocks a
 * few milliseconds apart it could read "started" before "assigned"; the time is still shown as
 * recorded. A task the store shows ended whose end this coordinator did not record (another
 * coordinator ended it, or its history here was forgotten) ends with the store's end step
 * (storeEnd): the page of every coordinator shows that it ended, and how.
 */
export function timeline(events: TaskEvent[], task: TaskDict | null): TimelineStep[] {
  const steps: TimelineStep[] = [];
  let shown = 0; // the last attempt whose start is shown
  for (const e of inTimeOrder(events)) {
    if (e.event === "reassigned" && e.started_at && e.attempt !== undefined && e.attempt > shown) {
      steps.push({ event: "started", at: e.started_at, worker: e.worker ?? null, attempt: e.attempt });
      shown = e.attempt;
    }
    steps.push(e);
  }
  if (task?.started_at && task.attempts > shown) {
    const attempt = task.attempts;
    const end = steps.findIndex((s) => s.event !== "started" && endsAttempt(s, attempt));
    steps.splice(end < 0 ? steps.length : end, 0, {
      event: "started",
      at: task.started_at,
      worker: task.assigned_to,
      attempt,
    });
  }
  const end = steps.some((s) => s.event === "committed" || s.event === "abandoned") ? null : storeEnd(task);
  if (end !== null) steps.push(end);
  return steps;
}

/**
 * The end step of a task as the store recorded it (null for an open task, or one with no end
 * time): when it ended (`completed_at`, the clock of the process that ended it), its status,
 * the last attempt and its worker, the error, and for an abandon its reason (the task's error).
 * Neither the message that told of it nor its distributor: the coordinator that took the end
 * step heard those, and its own page shows them.
 */
export function storeEnd(task: TaskDict | null): TaskEvent | null {
  if (task === null || !isTerminalStatus(task.status) || !task.completed_at) return null;
  const abandoned = task.status === "abandoned";
  return {
    event: abandoned ? "abandoned" : "committed",
    at: task.completed_at,
    status: task.status,
    worker: task.assigned_to,
    attempt: task.attempts,
    error: task.error,
    ...(abandoned && task.error ? { reason: task.error } : {}),
  };
}
