import type { Span } from "@opentelemetry/api";
import type { A2AMessage } from "../../core/messaging/index.js";
import type { RedisClient } from "../../core/store/index.js";
import type { CoordinatorCoreOptions } from "../coordinator/coordinator-core.js";
import type { AgentPayload, DistributorReport, PayloadOf, TaskDict, TaskTrace } from "../protocol.js";
import { BoundedMap } from "./bounded-map.js";
import type { MessageObserver } from "./message-observer.js";
import { countStoreCalls, type StoreCallCounts } from "./store-calls.js";
import { type RecordedEvent, TaskHistory } from "./task-history.js";
import { ATTR, endTaskSpan, SpanKind, startTaskSpan, submitTraced, traceparentOf } from "./trace-context.js";

/** What the coordinator saw happen, as it happens (the dashboard's live feed listens). */
export type TaskActivity =
  | { type: "submitted"; task_id: string; task_type: string }
  | { type: "reassigned"; task_id: string; from: string }
  | { type: "abandoned"; task_id: string; reason: string }
  | { type: "distributor_dead"; distributor: string; tasks: number }
  | {
      type: "terminal";
      task: TaskDict;
      /** Submit to terminal on this coordinator's monotonic clock; null when submitted elsewhere. */
      latency_ms: number | null;
      retries: NonNullable<TaskTrace["retries"]>;
    };

export type TypeCounts = { submitted: number; completed: number; failed: number; abandoned: number };

/** What a distributor last reported, and when, on both clocks (see heartbeatAgeMs). */
export type DistributorHeard = {
  report: DistributorReport | undefined;
  /** Its message's timestamp, epoch ms on the distributor's clock. */
  sentAt: number;
  /** performance.now() here when it arrived. */
  receivedAt: number;
};

type OpenTask = { t0: number; traceparent: string | undefined; accepted: boolean };
/**
 * A task_terminal message, shared by every task it carried (their traces are looked up by id),
 * or by the tasks of one of its via_groups (`via`: the messages their last attempt travelled in).
 */
type Arrival = {
  request_id: string;
  sender: string;
  traces: Record<string, TaskTrace> | undefined;
  via: string[] | undefined;
};

/** Open tasks remembered for latency and trace context; beyond it, the oldest lose theirs. */
const OPEN_LIMIT = 200_000;
/** Distinct task types counted one by one; the rest are counted as OTHER_TYPE. */
const TYPE_LIMIT = 100;
export const OTHER_TYPE = "(other)";
const NONE: NonNullable<TaskTrace["retries"]> = [];

/**
 * Follows tasks through the coordinator: a `triad.submit` span per task (the root of its trace,
 * or a child of the caller's active span), the trace context sent on with each assignment, a
 * bounded history per task (what was sent and received about it, by request_id), counts by task
 * type, submit-to-terminal latency, and what the distributors report on their heartbeats.
 */
export class CoordinatorObserver implements MessageObserver {
  readonly history: TaskHistory;
  readonly counts = new Map<string, TypeCounts>();
  readonly storeCalls: StoreCallCounts;
  /** Heartbeats received from distributors. */
  heartbeats = 0;
  private readonly distributors = new Map<string, DistributorHeard>();
  private readonly open = new BoundedMap<string, OpenTask>(OPEN_LIMIT);
  /** Terminal news that arrived in a task_terminal message, until the core says the task is done. */
  private readonly arriving: BoundedMap<string, Arrival>;
  private readonly listeners = new Set<(activity: TaskActivity) => void>();

  constructor(private readonly o: { agentId: string; store: RedisClient; historyLimit?: number }) {
    this.history = new TaskHistory(o.historyLimit ?? 10_000);
    this.arriving = new BoundedMap(o.historyLimit ?? 10_000);
    this.storeCalls = countStoreCalls(o.store);
  }

  /** Calls `listener` with every activity from now on; returns the function that stops it. */
  on(listener: (activity: TaskActivity) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** What each distributor last reported. */
  heard(): ReadonlyMap<string, DistributorHeard> {
    return this.distributors;
  }

  /** Tasks followed now, for their latency: submitted here and not yet ended (or let go). */
  get followed(): number {
    return this.open.size;
  }

  /** Whether a submit now would make or carry a span (an SDK, or a span active in the caller's context). */
  get tracesSubmits(): boolean {
    return submitTraced();
  }

  /**
   * A task about to be submitted with no span to make or carry (see tracesSubmits): remembered for
   * its latency only. Nothing wraps the submit: the core says when it recorded nothing
   * (`notRecorded`: a duplicate, a failed submit), and the task is let go then.
   */
  submitting(taskId: string): void {
    this.follow(taskId);
  }

  /** Remembers a task being submitted here for its latency; false when it already is (a duplicate). */
  private follow(taskId: string, traceparent?: string): boolean {
    if (this.open.has(taskId)) return false;
    this.open.set(taskId, { t0: performance.now(), traceparent, accepted: false });
    return true;
  }

  /**
   * A task followed since an untraced submit that the core did not record (a duplicate, a failed
   * submit) is let go; one another submit recorded meanwhile is accepted and stays. (A traced
   * submit's entry carries its span's context and is let go by traceSubmit, which also marks the
   * span a duplicate.)
   */
  private notRecorded(taskId: string): void {
    const entry = this.open.get(taskId);
    if (entry !== undefined && !entry.accepted && entry.traceparent === undefined) this.open.delete(taskId);
  }

  /**
   * Runs `submit` (which records `tasks`) inside one `triad.submit` span per task, whose context
   * the assignment carries on to the distributor. (Promise chains, not async/await: this is on the
   * path a lone caller waits on, and every promise costs there.)
   */
  traceSubmit<T>(tasks: TaskDict[], submit: () => Promise<T>): Promise<T> {
    if (!submitTraced()) {
      for (const task of tasks) this.follow(task.task_id);
      return started(submit);
    }
    const mine: boolean[] = [];
    const spans = tasks.map((task, i) => {
      const span = startTaskSpan("triad.submit", {
        fallback: "active",
        kind: SpanKind.PRODUCER,
        attributes: () => ({
          [ATTR.taskId]: task.task_id,
          [ATTR.taskType]: task.task_type,
          [ATTR.agentId]: this.o.agentId,
        }),
      });
      mine[i] = this.follow(task.task_id, traceparentOf(span));
      return span;
    });
    // A task recorded here is `accepted` (the core's submitted event); one of ours still there and
    // not accepted was a duplicate. (One already gone finished before submit() returned.)
    const unaccepted = (i: number) => {
      const entry = this.open.get(tasks[i]!.task_id);
      return mine[i] === true && entry !== undefined && !entry.accepted;
    };
    return started(submit).then(
      (result) => this.submitted(tasks, spans, unaccepted, result),
      (err: unknown) => {
        const error = err instanceof Error ? err.message : String(err);
        spans.forEach((span, i) => {
          if (unaccepted(i)) this.open.delete(tasks[i]!.task_id);
          endTaskSpan(span, error);
        });
        throw err;
      },
    );
  }

  private submitted<T>(tasks: TaskDict[], spans: Span[], unaccepted: (i: number) => boolean, result: T): T {
    spans.forEach((span, i) => {
      const duplicate = unaccepted(i);
      if (duplicate) this.open.delete(tasks[i]!.task_id);
      endTaskSpan(span, null, () => ({ [ATTR.duplicate]: duplicate }));
    });
    return result;
  }

  /** The core's events, each also seen here; `inner` (the agent's own) still gets every one. */
  coreEvents(inner: CoordinatorCoreOptions["events"] = {}): NonNullable<CoordinatorCoreOptions["events"]> {
    return {
      ...inner,
      submitted: (task) => {
        this.onSubmitted(task);
        inner.submitted?.(task);
      },
      reassigned: (taskId, from) => {
        this.history.add(taskId, { event: "reassigned", t: Date.now(), distributor: from });
        this.emit({ type: "reassigned", task_id: taskId, from });
        inner.reassigned?.(taskId, from);
      },
      abandoned: (taskId, reason) => {
        this.history.add(taskId, { event: "abandoned", t: Date.now(), reason });
        this.emit({ type: "abandoned", task_id: taskId, reason });
        inner.abandoned?.(taskId, reason);
      },
      terminal: (task) => {
        this.onTerminal(task);
        inner.terminal?.(task);
      },
      notRecorded: (task) => {
        this.notRecorded(task.task_id);
        inner.notRecorded?.(task);
      },
      inputGiven: (taskId, value) => {
        this.history.add(taskId, {
          event: "input_given",
          t: Date.now(),
          input: JSON.stringify(value).slice(0, 200),
        });
        inner.inputGiven?.(taskId, value);
      },
      distributorDead: (id, tasks) => {
        this.emit({ type: "distributor_dead", distributor: id, tasks });
        inner.distributorDead?.(id, tasks);
      },
    };
  }

  sending(_recipient: string, payload: AgentPayload): AgentPayload {
    if (payload.kind !== "assign_tasks") return payload;
    const traces: Array<[string, TaskTrace]> = [];
    for (const task of payload.tasks) {
      const traceparent = this.open.get(task.task_id)?.traceparent;
      if (traceparent !== undefined) traces.push([task.task_id, { traceparent }]);
    }
    // From entries: a task id "__proto__" becomes a member, not the map's prototype.
    return traces.length > 0 ? { ...payload, traces: Object.fromEntries(traces) } : payload;
  }

  sent(message: A2AMessage, payload: AgentPayload): void {
    if (payload.kind !== "assign_tasks") return;
    const { request_id } = message.metadata;
    const t = Date.now();
    for (const task of payload.tasks) {
      this.history.add(task.task_id, { event: "assigned", t, distributor: message.recipient, request_id });
    }
  }

  received(message: A2AMessage, payload: AgentPayload): void {
    if (payload.kind === "distributor_status") {
      this.heartbeats++;
      this.distributors.set(message.sender, {
        report: payload.report,
        sentAt: Date.parse(message.metadata.timestamp),
        receivedAt: performance.now(),
      });
    } else if (payload.kind === "task_terminal") {
      this.onTerminalMessage(message, payload);
    }
  }

  private onTerminalMessage(message: A2AMessage, payload: PayloadOf<"task_terminal">): void {
    const whole: Arrival = {
      request_id: message.metadata.request_id,
      sender: message.sender,
      traces: payload.traces,
      via: undefined,
    };
    let grouped: Map<string, Arrival> | undefined;
    for (const group of payload.via_groups ?? []) {
      const arrival = { ...whole, via: group.via };
      grouped ??= new Map();
      for (const id of group.tasks) grouped.set(id, arrival);
    }
    for (const task of payload.tasks) {
      const arrival = grouped?.get(task.task_id) ?? whole;
      // Already finished (read from the ledger first): the message still tells how it got there.
      const done = this.history.terminal(task.task_id);
      if (done !== undefined && done.request_id === undefined) committedBy(done, arrival, task.task_id);
      else this.arriving.set(task.task_id, arrival);
    }
  }

  private onSubmitted(task: TaskDict): void {
    const open = this.open.get(task.task_id);
    if (open) open.accepted = true;
    else this.open.set(task.task_id, { t0: performance.now(), traceparent: undefined, accepted: true });
    this.countsOf(task.task_type).submitted++;
    this.history.add(task.task_id, {
      event: "submitted",
      t: Date.now(),
      task_type: task.task_type,
      ...(open?.traceparent ? { traceparent: open.traceparent } : {}),
    });
    if (this.listeners.size > 0)
      this.emit({ type: "submitted", task_id: task.task_id, task_type: task.task_type });
  }

  private onTerminal(task: TaskDict): void {
    const id = task.task_id;
    const open = this.open.get(id);
    this.open.delete(id);
    const arrival = this.arriving.get(id);
    this.arriving.delete(id);
    const status = task.status as "completed" | "failed" | "abandoned";
    this.countsOf(task.task_type)[status]++;
    const retries = arrival && traceOf(arrival, id)?.retries;
    for (const r of retries ?? NONE) {
      this.history.add(id, {
        event: "retried",
        t: (r.at && Date.parse(r.at)) || Date.now(),
        attempt: r.attempt,
        worker: r.worker,
        error: r.error,
        ...(r.via ? { via: r.via } : {}),
      });
    }
    if (status !== "abandoned" || this.history.terminal(id) === undefined) {
      const event: RecordedEvent = {
        event: status === "abandoned" ? "abandoned" : "committed",
        t: Date.now(),
        status,
        worker: task.assigned_to,
        attempt: task.attempts,
        error: task.error,
      };
      if (arrival) committedBy(event, arrival, id);
      this.history.add(id, event);
    }
    if (this.listeners.size === 0) return;
    const latency = open ? performance.now() - open.t0 : null;
    this.emit({ type: "terminal", task, latency_ms: latency, retries: retries ?? [] });
  }

  private countsOf(taskType: string): TypeCounts {
    let counts = this.counts.get(taskType);
    if (counts === undefined) {
      const key = this.counts.size >= TYPE_LIMIT ? OTHER_TYPE : taskType;
      counts = this.counts.get(key) ?? { submitted: 0, completed: 0, failed: 0, abandoned: 0 };
      this.counts.set(key, counts);
    }
    return counts;
  }

  private emit(activity: TaskActivity): void {
    for (const listener of this.listeners) {
      try {
        listener(activity);
      } catch {
        // A listener's bug (the dashboard's, say) must not reach the coordinator.
      }
    }
  }
}

/** `submit()`'s promise; one that throws instead gives a rejected one. */
function started<T>(submit: () => Promise<T>): Promise<T> {
  try {
    return submit();
  } catch (err) {
    return Promise.reject(err);
  }
}

/** The trace the distributor sent beside task `id` in the message, if any. */
function traceOf(arrival: Arrival, id: string): TaskTrace | undefined {
  const { traces } = arrival;
  return traces !== undefined && Object.hasOwn(traces, id) ? traces[id] : undefined;
}

/** Completes a terminal event with the message that told of it (in place: no temporaries per task). */
function committedBy(event: RecordedEvent, arrival: Arrival, id: string): void {
  event.request_id = arrival.request_id;
  event.distributor = arrival.sender;
  const trace = traceOf(arrival, id);
  const via = trace?.via ?? arrival.via;
  if (via) event.via = via;
  if (trace?.traceparent) event.traceparent = trace.traceparent;
}
