import type { A2AMessage } from "../../core/messaging/index.js";
import type { RedisClient } from "../../core/store/index.js";
import type { DistributorEvents, DistributorStats } from "../distributor/distributor-core.js";
import type { CommitVerdict } from "../ledger/task-ledger.js";
import {
  type AgentPayload,
  type AttemptOutcomeWire,
  type DistributorReport,
  type PayloadOf,
  refusalsOf,
  type TaskDict,
  type TaskTrace,
  type ViaGroup,
} from "../protocol.js";
import { BoundedMap } from "./bounded-map.js";
import type { MessageObserver } from "./message-observer.js";
import { countStoreCalls, type StoreCallCounts } from "./store-calls.js";
import { ATTR, recordTaskSpan, SpanKind } from "./trace-context.js";

type Retries = NonNullable<TaskTrace["retries"]>;

/** The attempt whose result came in: who ran it and the messages that carried it. */
type Result = {
  fence: number;
  worker: string;
  executeVia: string;
  resultsVia: string;
  /** Epoch ms the result arrived (the commit span's start). */
  at: number;
  /** The worker's execute span (the commit span's parent). */
  traceparent: string | undefined;
};

/** One task's path through this distributor. */
type TaskPath = {
  /** The last span on the task's path: the parent of its next step. */
  parent: string | undefined;
  /** Epoch ms since the task has waited to be dispatched (the dispatch span's start). */
  readySince: number;
  /** The assign_tasks message that brought it. */
  assignVia: string | undefined;
  dispatched: { fence: number; executeVia: string } | undefined;
  result: Result | undefined;
  /** Made at the first retry (most tasks have none). */
  retries: Retries | undefined;
  /** Set once committed terminal: what goes to the coordinator beside the task. */
  terminal: TaskTrace | undefined;
};

/** Tasks followed at once at most (a distributor holds far fewer); beyond it, the oldest lose their path. */
const PATH_LIMIT = 100_000;
/** Workers whose refusal counts are kept (a distributor has a few dozen at most; a churn of ids cannot grow it). */
const WORKERS_REMEMBERED = 1024;
/** Retries told per task at most, and the length of each error told. */
const RETRIES_TOLD = 8;
const ERROR_CHARS = 300;

/**
 * Follows tasks through a distributor: a `triad.dispatch` span from the moment a task was ready
 * to the moment it went to a worker (its context rides in the execute_tasks item), a
 * `triad.commit` span for each result (the child of the worker's `triad.execute`), and, beside
 * each terminal task sent to the coordinator, the request_ids of the messages of its last
 * attempt and of its retries. Its counters ride on the heartbeat (`report`).
 */
export class DistributorObserver implements MessageObserver {
  private readonly paths = new BoundedMap<string, TaskPath>(PATH_LIMIT);
  private readonly storeCalls: StoreCallCounts;
  private workerHeartbeats = 0;
  /** Each worker's refusals, as its latest heartbeat said (bounded like the workers it hears from). */
  private readonly workerRejected = new BoundedMap<string, Record<string, number>>(WORKERS_REMEMBERED);

  constructor(
    private readonly o: {
      agentId: string;
      store: RedisClient;
      stats: () => DistributorStats;
      rejected: () => Record<string, number>;
    },
  ) {
    this.storeCalls = countStoreCalls(o.store);
  }

  /** The core's events, each also seen here; `inner` (the agent's own) still gets every one. */
  coreEvents(inner: DistributorEvents = {}): DistributorEvents {
    return {
      ...inner,
      committed: (task, verdict) => {
        this.finish(task, verdict);
        inner.committed?.(task, verdict);
      },
      retried: (taskId, task) => {
        this.onRetried(taskId, task);
        inner.retried?.(taskId, task);
      },
      staleResult: (outcome, workerId) => {
        this.onStale(outcome, workerId);
        inner.staleResult?.(outcome, workerId);
      },
    };
  }

  received(message: A2AMessage, payload: AgentPayload): void {
    if (payload.kind === "worker_status") {
      this.workerHeartbeats++;
      if (payload.rejected !== undefined) this.workerRejected.set(message.sender, payload.rejected);
    } else if (payload.kind === "assign_tasks") this.onAssigned(message, payload);
    else if (payload.kind === "task_results") this.onResults(message, payload);
  }

  sending(_recipient: string, payload: AgentPayload): AgentPayload {
    if (payload.kind === "execute_tasks") return this.dispatching(payload);
    if (payload.kind === "task_terminal") return this.reporting(payload);
    if (payload.kind === "distributor_status") return { ...payload, report: this.report() };
    return payload;
  }

  sent(message: A2AMessage, payload: AgentPayload): void {
    if (payload.kind !== "execute_tasks") return;
    for (const job of payload.tasks) {
      const dispatched = this.paths.get(job.task.task_id)?.dispatched;
      if (dispatched?.fence === job.fence) dispatched.executeVia = message.metadata.request_id;
    }
  }

  report(): DistributorReport {
    const s = this.o.stats();
    return {
      retried: s.retried,
      reassigned: s.reassigned,
      stale_rejected: s.staleRejected,
      workers_dead: s.workersDead,
      worker_heartbeats: this.workerHeartbeats,
      rejected: refusalsOf(this.o.rejected()),
      ...(this.workerRejected.size > 0
        ? { worker_rejected: Object.fromEntries(this.workerRejected.entries()) }
        : {}),
      store_calls: Object.fromEntries(this.storeCalls),
    };
  }

  private path(taskId: string): TaskPath {
    let path = this.paths.get(taskId);
    if (path === undefined) {
      path = {
        parent: undefined,
        readySince: Date.now(),
        assignVia: undefined,
        dispatched: undefined,
        result: undefined,
        retries: undefined,
        terminal: undefined,
      };
      this.paths.set(taskId, path);
    }
    return path;
  }

  private onAssigned(message: A2AMessage, payload: PayloadOf<"assign_tasks">): void {
    for (const task of payload.tasks) {
      const path = this.path(task.task_id);
      const traces = payload.traces;
      if (traces && Object.hasOwn(traces, task.task_id))
        path.parent = traces[task.task_id]?.traceparent ?? path.parent;
      path.readySince = Date.now();
      path.assignVia = message.metadata.request_id;
    }
  }

  private dispatching(payload: PayloadOf<"execute_tasks">): AgentPayload {
    // A new list only once a job gets a trace to carry (with no SDK, none does: the payload goes as is).
    let traced = false;
    const tasks = payload.tasks.map((job) => {
      const path = this.path(job.task.task_id);
      const traceparent = recordTaskSpan("triad.dispatch", {
        parent: path.parent,
        startTime: path.readySince,
        kind: SpanKind.PRODUCER,
        attributes: () => ({
          ...taskAttributes(job.task, this.o.agentId),
          [ATTR.fence]: job.fence,
          [ATTR.attempt]: job.task.attempts,
          ...(job.task.assigned_to ? { [ATTR.workerId]: job.task.assigned_to } : {}),
          ...(path.assignVia ? { [ATTR.requestId]: path.assignVia } : {}),
        }),
      });
      path.dispatched = { fence: job.fence, executeVia: "" };
      path.readySince = Date.now();
      if (traceparent === undefined) return job;
      traced = true;
      path.parent = traceparent;
      return { ...job, trace: { traceparent } };
    });
    return traced ? { ...payload, tasks } : payload;
  }

  private onResults(message: A2AMessage, payload: PayloadOf<"task_results">): void {
    for (const r of payload.results) {
      const path = this.path(r.task_id);
      // A result of an older attempt is refused by its fence; it must not stand for the current one.
      if (path.dispatched !== undefined && path.dispatched.fence !== r.fence) continue;
      path.result = {
        fence: r.fence,
        worker: message.sender,
        executeVia: path.dispatched?.executeVia ?? "",
        resultsVia: message.metadata.request_id,
        at: Date.now(),
        traceparent: r.trace?.traceparent,
      };
    }
  }

  /** The commit span of the task's current result, ended now. */
  private commitSpan(task: TaskDict | null, taskId: string, verdict: CommitVerdict, error?: string | null) {
    const path = this.paths.get(taskId);
    const result = path?.result;
    return recordTaskSpan("triad.commit", {
      parent: result?.traceparent ?? path?.parent,
      startTime: result?.at,
      error: verdict === "failed" || verdict === "retry" ? (error ?? "failed") : null,
      attributes: () => ({
        [ATTR.taskId]: taskId,
        ...(task ? taskAttributes(task, this.o.agentId) : {}),
        [ATTR.verdict]: verdict,
        ...(result
          ? {
              [ATTR.fence]: result.fence,
              [ATTR.workerId]: result.worker,
              [ATTR.requestId]: result.resultsVia,
            }
          : {}),
      }),
    });
  }

  private onRetried(taskId: string, task: TaskDict | null): void {
    const path = this.path(taskId);
    const traceparent = this.commitSpan(task, taskId, "retry", task?.error);
    const result = path.result;
    path.retries ??= [];
    path.retries.push({
      attempt: task?.attempts ?? result?.fence ?? 0,
      worker: result?.worker ?? null,
      error: (task?.error ?? "failed").slice(0, ERROR_CHARS),
      ...(result ? { via: [result.executeVia, result.resultsVia] } : {}),
      at: new Date().toISOString(),
    });
    if (path.retries.length > RETRIES_TOLD) path.retries.shift();
    path.parent = traceparent ?? path.parent;
    path.readySince = Date.now();
    path.result = undefined;
  }

  private onStale(outcome: AttemptOutcomeWire, workerId: string): void {
    recordTaskSpan("triad.commit", {
      parent: outcome.trace?.traceparent,
      attributes: () => ({
        [ATTR.taskId]: outcome.task_id,
        [ATTR.distributorId]: this.o.agentId,
        [ATTR.verdict]: "stale",
        [ATTR.fence]: outcome.fence,
        [ATTR.workerId]: workerId,
      }),
    });
  }

  /** Once per task: its commit span, and the trace that goes to the coordinator with it. */
  private finish(task: TaskDict, verdict: CommitVerdict): TaskTrace | undefined {
    const path = this.paths.get(task.task_id);
    if (path === undefined || path.terminal !== undefined) return path?.terminal;
    const traceparent = this.commitSpan(task, task.task_id, verdict, task.error);
    const result = path.result;
    // Members in sorted order (canonical JSON), only those there are; no spread temporaries.
    const terminal: TaskTrace = {};
    if (path.retries?.length) terminal.retries = path.retries;
    if (traceparent) terminal.traceparent = traceparent;
    if (result) terminal.via = [result.executeVia, result.resultsVia];
    path.terminal = terminal;
    return terminal;
  }

  /**
   * Beside the tasks: the messages each one's last attempt travelled in, once per pair of them
   * (`via_groups`: a batch's tasks mostly share one), and a trace by task id for those with more
   * to tell (retries, a traceparent).
   */
  private reporting(payload: PayloadOf<"task_terminal">): AgentPayload {
    const traces: Array<[string, TaskTrace]> = [];
    const groups = new ViaGroups();
    for (const task of payload.tasks) {
      const verdict: CommitVerdict = task.status === "completed" ? "completed" : "failed";
      const trace = this.finish(task, verdict);
      this.paths.delete(task.task_id);
      if (trace === undefined) continue;
      if (trace.retries === undefined && trace.traceparent === undefined) {
        if (trace.via !== undefined) groups.add(trace.via, task.task_id);
        continue;
      }
      traces.push([task.task_id, trace]);
    }
    if (traces.length === 0 && groups.list === undefined) return payload;
    // Members in sorted order (kind, tasks, traces, via_groups), as canonical JSON writes them.
    const out: PayloadOf<"task_terminal"> = { kind: payload.kind, tasks: payload.tasks };
    // From entries: a task id "__proto__" becomes a member, not the map's prototype.
    if (traces.length > 0) out.traces = Object.fromEntries(traces);
    if (groups.list !== undefined) out.via_groups = groups.list;
    return out;
  }
}

function taskAttributes(task: TaskDict, distributorId: string) {
  return {
    [ATTR.taskId]: task.task_id,
    [ATTR.taskType]: task.task_type,
    [ATTR.distributorId]: distributorId,
  };
}

/** Task ids grouped by the pair of messages their last attempt travelled in. */
class ViaGroups {
  list: ViaGroup[] | undefined;
  private last: ViaGroup | undefined;
  /** The groups by their pair, once there is more than one. */
  private byPair: Map<string, ViaGroup> | undefined;

  add(via: string[], taskId: string): void {
    let group = this.last;
    if (group === undefined || !samePair(group.via, via)) {
      group = this.find(via);
      this.last = group;
    }
    group.tasks.push(taskId);
  }

  private find(via: string[]): ViaGroup {
    if (this.list === undefined) {
      const group = { via, tasks: [] };
      this.list = [group];
      return group;
    }
    if (this.byPair === undefined) {
      this.byPair = new Map();
      for (const g of this.list) this.byPair.set(g.via.join("\n"), g);
    }
    const key = via.join("\n");
    let group = this.byPair.get(key);
    if (group === undefined) {
      group = { via, tasks: [] };
      this.list.push(group);
      this.byPair.set(key, group);
    }
    return group;
  }
}

function samePair(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
