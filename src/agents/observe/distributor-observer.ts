import type { A2AMessage } from "../../core/messaging/index.js";
import type { RedisClient } from "../../core/store/index.js";
import type { DistributorEvents, DistributorStats } from "../distributor/distributor-events.js";
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
import { ATTR, recordTaskSpan, SpanKind, traced } from "./trace-context.js";

type Retries = NonNullable<TaskTrace["retries"]>;

/**
 * One task's path through this distributor, in one object (members, not an object per step: it
 * is made for every task).
 */
type TaskPath = {
  /** The last span on the task's path: the parent of its next step. */
  parent: string | undefined;
  /** Epoch ms since the task has waited to be dispatched (the dispatch span's start). */
  readySince: number;
  /** The assign_tasks message that brought it. */
  assignVia: string | undefined;
  /** The fence it was last dispatched with (-1: not dispatched), and the execute_tasks message. */
  fence: number;
  executeVia: string;
  /** The worker it was last dispatched to, and the attempt number the task had then. */
  worker: string;
  attempt: number;
  /** The fence of the last attempt told as retried (-1: none): one taken back untold is not. */
  retriedFence: number;
  /** The fence of an attempt its worker handed back unrun (-1: none): it was not silent. */
  returnedFence: number;
  /** The attempt whose result came in (resultFence -1: none): who ran it, the messages that carried it. */
  resultFence: number;
  resultWorker: string;
  resultExecuteVia: string;
  resultsVia: string;
  /** Epoch ms the result arrived (the commit span's start). */
  resultAt: number;
  /** The worker's execute span (the commit span's parent). */
  resultTrace: string | undefined;
  /** The result is a failure that said another try cannot help (its `retryable: false`). */
  resultFinal: boolean;
  /** Made at the first retry (most tasks have none). */
  retries: Retries | undefined;
  /** Committed terminal: its commit span's context, if any (what goes to the coordinator with the via pair). */
  ended: boolean;
  endTrace: string | undefined;
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
  /** Whether a trace context ever came or was made here (spans to follow even with no SDK). */
  private carriesTraces = false;
  /** The jobs' paths of each execute_tasks payload being sent (from sending() to sent()). */
  private readonly dispatched = new WeakMap<AgentPayload, TaskPath[]>();
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
        // Its commit span now, if it makes one; else reporting() finishes it (one lookup less).
        if (this.carriesTraces || traced(undefined)) this.finish(task, verdict);
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

  /**
   * A worker's heartbeat the distributor took. Called by the distributor, not on receipt: one from
   * a second process under the worker's id is not taken, and its counts must not replace the worker's.
   */
  heartbeatTaken(workerId: string, payload: PayloadOf<"worker_status">): void {
    this.workerHeartbeats++;
    if (payload.rejected !== undefined) this.workerRejected.set(workerId, payload.rejected);
    // Handed back unrun (stopping, or no room): told so when it is dispatched again, not as a death.
    for (const r of payload.returned ?? []) {
      const path = this.paths.get(r.task_id);
      if (path !== undefined && path.fence === r.fence) path.returnedFence = r.fence;
    }
  }

  received(message: A2AMessage, payload: AgentPayload): void {
    if (payload.kind === "assign_tasks") {
      // Where it came from and since when only make its dispatch span: none to make, no path yet.
      if (payload.traces !== undefined || traced(undefined)) this.onAssigned(message, payload);
    } else if (payload.kind === "task_results") this.onResults(message, payload);
  }

  sending(recipient: string, payload: AgentPayload): AgentPayload {
    if (payload.kind === "execute_tasks") return this.dispatching(recipient, payload);
    if (payload.kind === "task_terminal") return this.reporting(payload);
    if (payload.kind === "distributor_status") return { ...payload, report: this.report() };
    return payload;
  }

  sent(message: A2AMessage, payload: AgentPayload): void {
    if (payload.kind !== "execute_tasks") return;
    const { request_id } = message.metadata;
    // The paths of the jobs just sent, as dispatching() found them (no lookup a job again).
    const paths = this.dispatched.get(payload);
    payload.tasks.forEach((job, i) => {
      const path = paths?.[i] ?? this.paths.get(job.task.task_id);
      if (path?.fence === job.fence) path.executeVia = request_id;
    });
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

  private path(taskId: string, now = Date.now()): TaskPath {
    let path = this.paths.get(taskId);
    if (path === undefined) {
      path = {
        parent: undefined,
        readySince: now,
        assignVia: undefined,
        fence: -1,
        executeVia: "",
        worker: "",
        attempt: 0,
        retriedFence: -1,
        returnedFence: -1,
        resultFence: -1,
        resultWorker: "",
        resultExecuteVia: "",
        resultsVia: "",
        resultAt: 0,
        resultTrace: undefined,
        resultFinal: false,
        retries: undefined,
        ended: false,
        endTrace: undefined,
      };
      this.paths.add(taskId, path);
    }
    return path;
  }

  private onAssigned(message: A2AMessage, payload: PayloadOf<"assign_tasks">): void {
    const now = Date.now();
    const traces = payload.traces;
    for (const task of payload.tasks) {
      const path = this.path(task.task_id, now);
      if (traces && Object.hasOwn(traces, task.task_id)) {
        path.parent = traces[task.task_id]?.traceparent ?? path.parent;
        if (path.parent !== undefined) this.carriesTraces = true;
      }
      path.readySince = now;
      path.assignVia = message.metadata.request_id;
    }
  }

  private dispatching(worker: string, payload: PayloadOf<"execute_tasks">): AgentPayload {
    const now = Date.now();
    const paths: TaskPath[] = [];
    // A new list only once a job gets a trace to carry (with no SDK, none does: the payload goes as is).
    let carried = false;
    const tasks = payload.tasks.map((job) => {
      const path = this.path(job.task.task_id, now);
      paths.push(path);
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
      if (path.fence > 0 && job.fence !== path.fence) this.dispatchedAgain(path);
      path.fence = job.fence;
      path.executeVia = "";
      path.worker = worker;
      path.attempt = job.task.attempts;
      path.readySince = now;
      if (traceparent === undefined) return job;
      carried = true;
      this.carriesTraces = true;
      path.parent = traceparent;
      return { ...job, trace: { traceparent } };
    });
    const sending = carried ? { ...payload, tasks } : payload;
    this.dispatched.set(sending, paths);
    return sending;
  }

  private onResults(message: A2AMessage, payload: PayloadOf<"task_results">): void {
    const now = Date.now();
    const resultsVia = message.metadata.request_id;
    for (const r of payload.results) {
      const path = this.path(r.task_id, now);
      // A result of an older attempt is refused by its fence; it must not stand for the current one.
      if (path.fence !== -1 && path.fence !== r.fence) continue;
      path.resultFence = r.fence;
      path.resultWorker = message.sender;
      path.resultExecuteVia = path.executeVia;
      path.resultsVia = resultsVia;
      path.resultAt = now;
      path.resultTrace = r.trace?.traceparent;
      path.resultFinal = r.status === "failed" && r.retryable === false;
      if (path.resultTrace !== undefined) this.carriesTraces = true;
    }
  }

  /** The commit span of the task's current result, ended now. */
  private commitSpan(
    task: TaskDict | null,
    taskId: string,
    verdict: CommitVerdict,
    error: string | null | undefined,
    path: TaskPath | undefined,
  ) {
    const result = path !== undefined && path.resultFence !== -1 ? path : undefined;
    return recordTaskSpan("triad.commit", {
      parent: result?.resultTrace ?? path?.parent,
      startTime: result?.resultAt,
      error: verdict === "failed" || verdict === "retry" ? (error ?? "failed") : null,
      attributes: () => ({
        [ATTR.taskId]: taskId,
        ...(task ? taskAttributes(task, this.o.agentId) : {}),
        [ATTR.verdict]: verdict,
        ...(result
          ? {
              [ATTR.fence]: result.resultFence,
              [ATTR.workerId]: result.resultWorker,
              [ATTR.requestId]: result.resultsVia,
            }
          : {}),
      }),
    });
  }

  private onRetried(taskId: string, task: TaskDict | null): void {
    const path = this.path(taskId);
    const traceparent = this.commitSpan(task, taskId, "retry", task?.error, path);
    const result = path.resultFence !== -1;
    path.retries ??= [];
    path.retries.push({
      attempt: task?.attempts ?? (result ? path.resultFence : 0),
      worker: result ? path.resultWorker : null,
      error: (task?.error ?? "failed").slice(0, ERROR_CHARS),
      ...(result ? { via: [path.resultExecuteVia, path.resultsVia] } : {}),
      at: new Date().toISOString(),
    });
    if (path.retries.length > RETRIES_TOLD) path.retries.shift();
    path.retriedFence = path.fence;
    path.parent = traceparent ?? path.parent;
    path.readySince = Date.now();
    path.resultFence = -1;
  }

  /**
   * The task goes out under a new fence. Its previous attempt neither ended here (no result) nor
   * was told as retried: it was taken back — its worker went silent, declared dead, or handed it
   * back unrun — and runs again. No coordinator event says so (the task stayed on this distributor), so it is told
   * with the task's end among its retries, as a failed attempt retried is.
   */
  private dispatchedAgain(path: TaskPath): void {
    if (path.retriedFence === path.fence || path.resultFence === path.fence) return;
    const why =
      path.returnedFence === path.fence
        ? `worker ${path.worker} handed the attempt back unrun (stopping, or no room): run again`
        : `worker ${path.worker} went silent (declared dead): its attempt was taken back and run again`;
    path.retries ??= [];
    path.retries.push({
      attempt: path.attempt,
      worker: path.worker || null,
      error: why.slice(0, ERROR_CHARS),
      ...(path.executeVia ? { via: [path.executeVia, ""] } : {}),
      at: new Date().toISOString(),
    });
    if (path.retries.length > RETRIES_TOLD) path.retries.shift();
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

  /** Once per task, when it is committed terminal: its commit span (the trace that goes to the coordinator). */
  private finish(task: TaskDict, verdict: CommitVerdict, path = this.paths.get(task.task_id)): void {
    if (path === undefined || path.ended) return;
    path.ended = true;
    path.endTrace = this.commitSpan(task, task.task_id, verdict, task.error, path);
  }

  /**
   * Beside the tasks: the messages each one's last attempt travelled in, once per pair of them
   * (`via_groups`: a batch's tasks mostly share one), and a trace by task id for those with more
   * to tell (retries, a traceparent, a failure that was not retryable).
   */
  private reporting(payload: PayloadOf<"task_terminal">): AgentPayload {
    const traces: Array<[string, TaskTrace]> = [];
    const groups = new ViaGroups();
    for (const task of payload.tasks) {
      const id = task.task_id;
      const path = this.paths.get(id);
      if (path === undefined) continue;
      this.finish(task, task.status === "completed" ? "completed" : "failed", path);
      this.paths.delete(id);
      const result = path.resultFence !== -1;
      // Failed for good because its last attempt said another try cannot help (the history says so).
      const final = result && path.resultFinal && task.status === "failed";
      if (path.retries?.length || path.endTrace || final) {
        // Members in sorted order (canonical JSON), only those there are.
        const trace: TaskTrace = {};
        if (path.retries?.length) trace.retries = path.retries;
        if (final) trace.retryable = false;
        if (path.endTrace) trace.traceparent = path.endTrace;
        if (result) trace.via = [path.resultExecuteVia, path.resultsVia];
        traces.push([id, trace]);
      } else if (result) groups.add(path.resultExecuteVia, path.resultsVia, id);
    }
    if (traces.length === 0 && groups.list === undefined) return payload;
    // Members in sorted order (kind, spawns, tasks, traces, via_groups), as canonical JSON writes them.
    const out: PayloadOf<"task_terminal"> =
      payload.spawns === undefined
        ? { kind: payload.kind, tasks: payload.tasks }
        : { kind: payload.kind, spawns: payload.spawns, tasks: payload.tasks };
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

  add(execute: string, results: string, taskId: string): void {
    let group = this.last;
    if (group === undefined || group.via[0] !== execute || group.via[1] !== results) {
      group = this.find(execute, results);
      this.last = group;
    }
    group.tasks.push(taskId);
  }

  private find(execute: string, results: string): ViaGroup {
    if (this.list === undefined) {
      const group = { via: [execute, results], tasks: [] };
      this.list = [group];
      return group;
    }
    if (this.byPair === undefined) {
      this.byPair = new Map();
      for (const g of this.list) this.byPair.set(g.via.join("\n"), g);
    }
    const key = `${execute}\n${results}`;
    let group = this.byPair.get(key);
    if (group === undefined) {
      group = { via: [execute, results], tasks: [] };
      this.list.push(group);
      this.byPair.set(key, group);
    }
    return group;
  }
}
