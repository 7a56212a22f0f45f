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
  reason?: string;
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

const TERMINAL_EVENTS = new Set<TaskEvent["event"]>(["committed", "abandoned"]);

/**
 * The recent life of tasks at the coordinator, for the dashboard's task page: bounded in tasks
 * (the oldest are forgotten first) and in events per task (the oldest after the first go), so
 * a million tasks leave memory flat. Recording is a map lookup and a push: it is on every
 * task's path.
 */
export class TaskHistory {
  private readonly tasks: BoundedMap<string, RecordedEvent[]>;

  constructor(
    readonly taskLimit = 10_000,
    readonly eventLimit = 32,
  ) {
    this.tasks = new BoundedMap(taskLimit);
  }

  add(taskId: string, event: RecordedEvent): void {
    const events = this.tasks.get(taskId);
    if (events === undefined) {
      this.tasks.set(taskId, [event]);
      return;
    }
    events.push(event);
    if (events.length > this.eventLimit) events.splice(1, 1);
  }

  /** The task's events, oldest first (copies), or [] when it is not (or no longer) known. */
  get(taskId: string): TaskEvent[] {
    return (this.tasks.get(taskId) ?? []).map(({ t, ...rest }) => ({
      ...rest,
      at: new Date(t).toISOString(),
    }));
  }

  /** The task's terminal event as recorded (to complete it later), if there is one. */
  terminal(taskId: string): RecordedEvent | undefined {
    return this.tasks.get(taskId)?.find((e) => TERMINAL_EVENTS.has(e.event));
  }

  get size(): number {
    return this.tasks.size;
  }
}
