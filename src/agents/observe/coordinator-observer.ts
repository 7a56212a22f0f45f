import type { Span } from "@opentelemetry/api";
import type { A2AMessage } from "../../core/messaging/index.js";
import type { RedisClient } from "../../core/store/index.js";
import type { CoordinatorCoreOptions } from "../coordinator/coordinator-core.js";
import type { AgentPayload, DistributorReport, PayloadOf, TaskDict, TaskTrace } from "../protocol.js";
import type { MessageObserver } from "./message-observer.js";
import { countStoreCalls, type StoreCallCounts } from "./store-calls.js";
import {
  type Arrival,
  committedBy,
  type RecordedEvent,
  type TaskEvent,
  TaskHistory,
  terminalOf,
  traceOf,
} from "./task-history.js";
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
    }
  /**
   * A task held open or waited for here that ended elsewhere (another coordinator's news, a
   * waiter's read of the store): not counted here, no latency; event streams read it at once.
   */
  | { type: "ended_elsewhere"; task: TaskDict }
  /**
   * The retries of a task whose end was shown before its distributor's report came (read from the
   * ledger first: a waiter's catch-up, a cancel): the report tells them, late.
   */
  | { type: "retried"; task: TaskDict; retries: NonNullable<TaskTrace["retries"]> };

export type TypeCounts = { submitted: number; completed: number; failed: number; abandoned: number };

/** What a distributor last reported, and when, on both clocks (see heartbeatAgeMs). */
export type DistributorHeard = {
  report: DistributorReport | undefined;
  /** Its message's timestamp, epoch ms on the distributor's clock. */
  sentAt: number;
  /** performance.now() here when it arrived. */
  receivedAt: number;
};

/** Distributors whose reported counters a coordinator's view carries at most (the newest reports). */
const REPORTED_LIMIT = 500;
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
  /** Heartbeats taken from distributors (not those of a second process under one id: heartbeatTaken). */
  heartbeats = 0;
  private readonly distributors = new Map<string, DistributorHeard>();
  /** Whether any submit here carried a trace context (until one does, assignments carry none). */
  private traced = false;
  private readonly listeners = new Set<(activity: TaskActivity) => void>();

  constructor(private readonly o: { agentId: string; store: RedisClient; historyLimit?: number }) {
    this.history = new TaskHistory(o.historyLimit ?? 10_000);
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

  /**
   * Each distributor's last reported retries and reassignments, with when it sent them
   * (CoordinatorView.reported): the newest `limit` (a view is written every heartbeat tick).
   */
  reportedCounts(limit = REPORTED_LIMIT): Record<string, [number, number, number]> {
    let entries = [...this.distributors].filter(([, heard]) => heard.report !== undefined);
    if (entries.length > limit) entries = entries.sort(([, a], [, b]) => b.sentAt - a.sentAt).slice(0, limit);
    const out: Record<string, [number, number, number]> = {};
    for (const [id, { sentAt, report }] of entries) out[id] = [sentAt, report!.retried, report!.reassigned];
    return out;
  }

  /** Tasks followed now, for their latency: submitted here and not yet ended (or let go). */
  get followed(): number {
    return this.history.followed;
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
    if (traceparent !== undefined) this.traced = true;
    return this.history.follow(taskId, traceparent) !== undefined;
  }

  /**
   * A task followed since an untraced submit that the core did not record (a duplicate, a failed
   * submit) is let go; one another submit recorded meanwhile is accepted and stays. (A traced
   * submit's entry carries its span's context and is let go by traceSubmit, which also marks the
   * span a duplicate.)
   */
  private notRecorded(taskId: string): void {
    const entry = this.history.openTrail(taskId);
    if (entry !== undefined && !entry.accepted && entry.traceparent === undefined) this.history.letGo(taskId);
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
      const entry = this.history.openTrail(tasks[i]!.task_id);
      return mine[i] === true && entry !== undefined && !entry.accepted;
    };
    return started(submit).then(
      (result) => this.submitted(tasks, spans, unaccepted, result),
      (err: unknown) => {
        const error = err instanceof Error ? err.message : String(err);
        spans.forEach((span, i) => {
          if (unaccepted(i)) this.history.letGo(tasks[i]!.task_id);
          endTaskSpan(span, error);
        });
        throw err;
      },
    );
  }

  private submitted<T>(tasks: TaskDict[], spans: Span[], unaccepted: (i: number) => boolean, result: T): T {
    spans.forEach((span, i) => {
      const duplicate = unaccepted(i);
      if (duplicate) this.history.letGo(tasks[i]!.task_id);
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
      reassigned: (taskId, from, task) => {
        this.history.add(taskId, {
          event: "reassigned",
          t: Date.now(),
          distributor: from,
          ...attemptEnded(task),
        });
        this.emit({ type: "reassigned", task_id: taskId, from });
        inner.reassigned?.(taskId, from, task);
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
      endedElsewhere: (task) => {
        if (this.listeners.size > 0) this.emit({ type: "ended_elsewhere", task });
        inner.endedElsewhere?.(task);
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
    if (payload.kind !== "assign_tasks" || !this.traced) return payload;
    const traces: Array<[string, TaskTrace]> = [];
    for (const task of payload.tasks) {
      const traceparent = this.history.openTrail(task.task_id)?.traceparent;
      if (traceparent !== undefined) traces.push([task.task_id, { traceparent }]);
    }
    // From entries: a task id "__proto__" becomes a member, not the map's prototype.
    return traces.length > 0 ? { ...payload, traces: Object.fromEntries(traces) } : payload;
  }

  sent(message: A2AMessage, payload: AgentPayload): void {
    if (payload.kind !== "assign_tasks") return;
    // One event for every task of the message (read only: events are copied when read).
    const event: RecordedEvent = {
      event: "assigned",
      t: Date.now(),
      distributor: message.recipient,
      request_id: message.metadata.request_id,
    };
    for (const task of payload.tasks) this.history.assigned(this.history.trail(task.task_id), event);
  }

  received(message: A2AMessage, payload: AgentPayload): void {
    if (payload.kind === "task_terminal") this.onTerminalMessage(message, payload);
  }

  /**
   * A distributor's heartbeat the coordinator took, with its report. Called by the coordinator,
   * not on receipt: one from a second process under the distributor's id (waiting for the lease
   * the first holds) is not taken, and its report must not replace the holder's.
   */
  heartbeatTaken(message: A2AMessage, payload: PayloadOf<"distributor_status">): void {
    this.heartbeats++;
    const sentAt = Date.parse(message.metadata.timestamp);
    // A report held up on the way, older than the one kept (one clock: the distributor's), is not kept.
    if (sentAt < (this.distributors.get(message.sender)?.sentAt ?? Number.NEGATIVE_INFINITY)) return;
    this.distributors.set(message.sender, {
      report: payload.report,
      sentAt,
      receivedAt: performance.now(),
    });
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
      const id = task.task_id;
      const trail = this.history.trail(id);
      // Ended and told of already: the first message that told stays (as its event said it).
      if (trail.endedAt !== 0 && trail.arrival !== undefined) continue;
      const endShown = trail.endedAt !== 0 || terminalOf(trail) !== undefined;
      trail.arrival = grouped?.get(id) ?? whole;
      trail.trace = traceOf(trail.arrival, id);
      // Its end was shown without them (read from the ledger before this message came, as a
      // waiter's catch-up does under load): its retries are told now, or never.
      const retries = trail.trace?.retries;
      if (endShown && retries !== undefined && retries.length > 0) {
        this.retried(id, retries);
        if (this.listeners.size > 0) this.emit({ type: "retried", task, retries });
      }
      // Already abandoned here (read from the ledger first): the message still tells how it got
      // there. (A committed end is made from the trail when read, with the arrival as it is then.)
      const done = trail.endedAt === 0 ? terminalOf(trail) : undefined;
      if (done !== undefined && done.request_id === undefined) committedBy(done, trail.arrival, trail.trace);
    }
  }

  private onSubmitted(task: TaskDict): void {
    const id = task.task_id;
    let trail = this.history.openTrail(id);
    if (trail) trail.accepted = true;
    else trail = this.history.follow(id, undefined, true) ?? this.history.trail(id);
    this.countsOf(task.task_type).submitted++;
    this.history.submitted(trail, Date.now(), task.task_type);
    if (this.listeners.size > 0) this.emit({ type: "submitted", task_id: id, task_type: task.task_type });
  }

  private onTerminal(task: TaskDict): void {
    const id = task.task_id;
    const trail = this.history.ending(id);
    const status = task.status as "completed" | "failed" | "abandoned";
    this.countsOf(task.task_type)[status]++;
    const retries = trail.trace?.retries;
    this.retried(id, retries ?? NONE);
    if (status !== "abandoned") this.history.committed(trail, Date.now(), task);
    else if (terminalOf(trail) === undefined) {
      const event: RecordedEvent = {
        event: "abandoned",
        t: Date.now(),
        status,
        worker: task.assigned_to,
        attempt: task.attempts,
        error: task.error,
      };
      if (trail.arrival) committedBy(event, trail.arrival, trail.trace);
      this.history.add(id, event);
    }
    if (this.listeners.size === 0) return;
    const latency = Number.isNaN(trail.t0) ? null : performance.now() - trail.t0;
    this.emit({ type: "terminal", task, latency_ms: latency, retries: retries ?? [] });
  }

  /** Records the task's earlier attempts, each ended by a retry, in its history. */
  private retried(id: string, retries: NonNullable<TaskTrace["retries"]>): void {
    for (const r of retries) {
      this.history.add(id, {
        event: "retried",
        t: (r.at && Date.parse(r.at)) || Date.now(),
        attempt: r.attempt,
        worker: r.worker,
        error: r.error,
        ...(r.via ? { via: r.via } : {}),
      });
    }
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

/**
 * The attempt a reassignment ended, as the record said when it was taken off its dead
 * distributor: one that had started on a worker (in progress) is kept in the reassigned event,
 * as the ledger's started_at is the next attempt's once that one starts.
 */
function attemptEnded(task: TaskDict | undefined): Pick<TaskEvent, "attempt" | "worker" | "started_at"> {
  if (task?.status !== "in_progress" || !task.started_at || !(task.attempts > 0)) return {};
  return { attempt: task.attempts, worker: task.assigned_to || null, started_at: task.started_at };
}
