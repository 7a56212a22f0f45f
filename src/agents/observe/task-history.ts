import type { TaskDict, TaskTrace } from "../protocol.js";
import { BoundedMap } from "./bounded-map.js";

type EventFields = {
  event: "submitted" | "assigned" | "reassigned" | "retried" | "committed" | "abandoned" | "input_given";
  task_type?: string;
  /** assigned: where to; reassigned: taken off; committed: who committed it. */
  distributor?: string;
  worker?: string | null;
  attempt?: number;
  status?: string;
  error?: string | null;
  /**
   * reassigned, abandoned: why; committed failed: "not_retryable" when its last attempt said
   * another try cannot help (an UnrecoverableError), so it failed with retries left.
   */
  reason?: string;
  /**
   * reassigned: when the attempt it ended (`attempt`, on `worker`) had started, as the ledger
   * recorded it (the distributor's clock); absent when the task had not started there.
   */
  started_at?: string;
  /** input_given: the value given, as JSON (the first 200 characters). */
  input?: string;
  /** The request_id of the A2A message the coordinator sent (assigned) or received (committed). */
  request_id?: string;
  /** request_ids of the attempt's [execute_tasks, task_results] messages (retried, committed). */
  via?: string[];
  /** W3C trace context (submitted: the task's trace; committed: its commit span). */
  traceparent?: string;
};

/** One step in a task's life as the coordinator saw it; `at` is ISO 8601 (display only). */
export type TaskEvent = EventFields & { at: string };

/** As recorded: the time in epoch ms, made a string only when someone reads it. */
export type RecordedEvent = EventFields & { t: number };

/**
 * A task_terminal message, shared by every task it carried (their traces are looked up by id),
 * or by the tasks of one of its via_groups (`via`: the messages their last attempt travelled in).
 */
export type Arrival = {
  request_id: string;
  sender: string;
  traces: Record<string, TaskTrace> | undefined;
  via: string[] | undefined;
};

/**
 * Everything the coordinator keeps of one task, in one object: what its latency and trace need
 * while it is open, and its history. The steps every task takes (submitted, assigned, committed)
 * are members, made into events only when someone reads them; the rest (reassigned, retried,
 * abandoned, input given, a second assignment) are events in order. So following a task costs
 * one object and no event objects (an assigned event is one object shared by its message).
 */
export class TaskTrail {
  /** performance.now() when it was submitted here (its latency's start); NaN when it was not. */
  t0 = Number.NaN;
  /** Its submit span's context, when the submit was traced. */
  traceparent: string | undefined = undefined;
  /** Recorded by a submit here (a duplicate's trail is let go). */
  accepted = false;
  /** Epoch ms of its submitted event; 0: none. */
  submittedAt = 0;
  taskType: string | undefined = undefined;
  /** Its first assignment: one event shared by every task of the assign_tasks message. */
  assigned: RecordedEvent | undefined = undefined;
  /** Every other event, in the order recorded, after the members above. */
  events: RecordedEvent[] | undefined = undefined;
  /** The task_terminal message that told of its end (shared by the tasks it carried). */
  arrival: Arrival | undefined = undefined;
  /** What the message told beside this task (its retries, its commit span), if anything. */
  trace: TaskTrace | undefined = undefined;
  /** Epoch ms it was committed completed or failed (its committed event, made when read); 0: not. */
  endedAt = 0;
  endStatus = "";
  endWorker: string | null = null;
  endAttempt = 0;
  endError: string | null = null;
}

const TERMINAL_EVENTS = new Set<TaskEvent["event"]>(["committed", "abandoned"]);

/** Tasks followed from their submit here until they end, at most (their latency's start, their trace). */
const OPEN_LIMIT = 200_000;

/**
 * The recent life of tasks at the coordinator, for the dashboard's task page, and the open
 * tasks it follows: bounded in tasks (the oldest ended ones are forgotten first; `taskLimit`
 * of them are kept) and in events per task (the oldest after the first go), so a million tasks
 * leave memory flat. Recording is a map lookup and a member's write: it is on every task's path.
 */
export class TaskHistory {
  /** Trails of tasks submitted here and not ended yet. */
  private readonly open: BoundedMap<string, TaskTrail>;
  /** Trails of the rest: ended here, or never submitted here. */
  private readonly done: BoundedMap<string, TaskTrail>;

  constructor(
    readonly taskLimit = 10_000,
    readonly eventLimit = 32,
    openLimit = OPEN_LIMIT,
  ) {
    this.open = new BoundedMap(openLimit);
    this.done = new BoundedMap(taskLimit);
  }

  /** The trail of an open task submitted here, if it is followed. */
  openTrail(taskId: string): TaskTrail | undefined {
    return this.open.get(taskId);
  }

  /**
   * Follows a task being submitted here from now on (a fresh trail, over any older one of the
   * id's, which shows again should this one be let go); undefined when it already is followed.
   */
  follow(taskId: string, traceparent: string | undefined, accepted = false): TaskTrail | undefined {
    if (this.open.has(taskId)) return undefined;
    const trail = new TaskTrail();
    trail.t0 = performance.now();
    trail.traceparent = traceparent;
    trail.accepted = accepted;
    this.open.add(taskId, trail);
    return trail;
  }

  /** Stops following a task whose submit recorded nothing here (its trail is forgotten). */
  letGo(taskId: string): void {
    this.open.delete(taskId);
  }

  /** The task's trail, made (among the ended ones) when there is none. */
  trail(taskId: string): TaskTrail {
    let trail = this.open.get(taskId) ?? this.done.get(taskId);
    if (trail === undefined) {
      trail = new TaskTrail();
      this.done.add(taskId, trail);
    }
    return trail;
  }

  /** The task ended: its trail (made if there is none) moves among the ended ones. */
  ending(taskId: string): TaskTrail {
    const trail = this.open.get(taskId);
    if (trail === undefined) return this.trail(taskId);
    this.open.delete(taskId);
    this.done.set(taskId, trail);
    return trail;
  }

  /** Records the submitted event. */
  submitted(trail: TaskTrail, t: number, taskType: string): void {
    if (
      trail.submittedAt !== 0 ||
      trail.assigned !== undefined ||
      trail.events !== undefined ||
      trail.endedAt !== 0
    ) {
      this.push(trail, {
        event: "submitted",
        t,
        task_type: taskType,
        ...(trail.traceparent ? { traceparent: trail.traceparent } : {}),
      });
      return;
    }
    trail.submittedAt = t;
    trail.taskType = taskType;
  }

  /** Records an assignment: `event` is shared by every task of its message (it is never changed). */
  assigned(trail: TaskTrail, event: RecordedEvent): void {
    if (trail.assigned === undefined && trail.events === undefined && trail.endedAt === 0)
      trail.assigned = event;
    else this.push(trail, event);
  }

  /** Records that the task was committed completed or failed, as `task` says (its committed event). */
  committed(trail: TaskTrail, t: number, task: TaskDict): void {
    trail.endedAt = t;
    trail.endStatus = task.status;
    trail.endWorker = task.assigned_to;
    trail.endAttempt = task.attempts;
    trail.endError = task.error;
  }

  add(taskId: string, event: RecordedEvent): void {
    this.push(this.trail(taskId), event);
  }

  private push(trail: TaskTrail, event: RecordedEvent): void {
    const events = trail.events;
    if (events === undefined) {
      trail.events = [event];
      return;
    }
    events.push(event);
    // The first event of the task stays (the submitted one, most often), the oldest after it go.
    const first = trail.submittedAt !== 0 || trail.assigned !== undefined;
    if (events.length + (trail.submittedAt !== 0 ? 1 : 0) + (trail.assigned ? 1 : 0) > this.eventLimit)
      events.splice(first ? 0 : 1, 1);
  }

  /** The task's events, oldest first (copies), or [] when it is not (or no longer) known. */
  get(taskId: string): TaskEvent[] {
    const trail = this.open.get(taskId) ?? this.done.get(taskId);
    return trail === undefined
      ? []
      : recorded(trail).map(({ t, ...rest }) => ({ ...rest, at: new Date(t).toISOString() }));
  }

  /** The task's terminal event as recorded, if there is one. */
  terminal(taskId: string): RecordedEvent | undefined {
    const trail = this.open.get(taskId) ?? this.done.get(taskId);
    return trail === undefined ? undefined : terminalOf(trail);
  }

  /** Tasks remembered (open and ended). */
  get size(): number {
    return this.open.size + this.done.size;
  }

  /** Open tasks followed. */
  get followed(): number {
    return this.open.size;
  }
}

/** Whether the trail has a terminal event (committed, or abandoned among its events). */
export function terminalOf(trail: TaskTrail): RecordedEvent | undefined {
  if (trail.endedAt !== 0) return committedEvent(trail);
  return trail.events?.find((e) => TERMINAL_EVENTS.has(e.event));
}

function recorded(trail: TaskTrail): RecordedEvent[] {
  const events: RecordedEvent[] = [];
  if (trail.submittedAt !== 0) {
    events.push({
      event: "submitted",
      t: trail.submittedAt,
      task_type: trail.taskType,
      ...(trail.traceparent ? { traceparent: trail.traceparent } : {}),
    });
  }
  if (trail.assigned !== undefined) events.push(trail.assigned);
  if (trail.events !== undefined) events.push(...trail.events);
  if (trail.endedAt !== 0) events.push(committedEvent(trail));
  return events;
}

function committedEvent(trail: TaskTrail): RecordedEvent {
  const event: RecordedEvent = {
    event: "committed",
    t: trail.endedAt,
    status: trail.endStatus,
    worker: trail.endWorker,
    attempt: trail.endAttempt,
    error: trail.endError,
  };
  if (trail.arrival !== undefined) committedBy(event, trail.arrival, trail.trace);
  return event;
}

/** The trace the distributor sent beside task `id` in the message, if any. */
export function traceOf(arrival: Arrival, id: string): TaskTrace | undefined {
  const { traces } = arrival;
  return traces !== undefined && Object.hasOwn(traces, id) ? traces[id] : undefined;
}

/** Completes a terminal event with the message that told of it (`trace`: told beside the task). */
export function committedBy(event: RecordedEvent, arrival: Arrival, trace: TaskTrace | undefined): void {
  event.request_id = arrival.request_id;
  event.distributor = arrival.sender;
  const via = trace?.via ?? arrival.via;
  if (via) event.via = via;
  if (trace?.traceparent) event.traceparent = trace.traceparent;
  if (trace?.retryable === false && event.event === "committed" && event.status === "failed")
    event.reason = "not_retryable";
}
