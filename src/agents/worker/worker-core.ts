import type { BaseCheckpointSaver } from "@langchain/langgraph/web";
import { isTriadError } from "../../core/errors.js";
import { jsonCopy } from "../../core/json.js";
import { timestampNow } from "../../core/messaging/timestamp.js";
import { quietOr } from "../event-loop-load.js";
import { AttemptCancel, canceledError } from "../live/attempt-cancel.js";
import { ProgressCoalescer } from "../live/progress-coalescer.js";
import { executionTraced, traceExecution } from "../observe/execute-span.js";
import { Outbox } from "../outbox.js";
import {
  type AgentPayload,
  type AttemptCancelWire,
  type AttemptOutcomeWire,
  type DispatchedTask,
  refusalsOf,
  type TaskDict,
  type TaskTrace,
  type WorkerHeartbeat,
} from "../protocol.js";
import { queueByPriority } from "../schedule-controls/task-schedule.js";
import { sendSplitting } from "../split-send.js";
import {
  type HandlerTask,
  isGraphHandler,
  type RunOutcome,
  runAttempt,
  type TaskHandler,
} from "./task-runner.js";

export type WorkerCoreOptions = {
  capacity: number;
  /** Resend results not yet acknowledged this often. */
  resendMs: number;
  /** Under load, results go out at most once per this many ms, batched (at once when idle). */
  batchLingerMs?: number;
  /** Tasks accepted beyond capacity wait here; more than this are refused to the distributor. */
  maxBacklog: number;
  handlerFor: (taskType: string) => TaskHandler | undefined;
  /** Builds what a handler sees from the task dict (the agent gives a Task instance). */
  toHandlerTask: (dict: TaskDict) => HandlerTask;
  send: (payload: AgentPayload) => Promise<void>;
  /** A job's dependencies with the results it left out fetched from the distributor (dependency-fetch.ts). */
  fetchDependencies?: (job: DispatchedTask) => Promise<NonNullable<DispatchedTask["dependencies"]>>;
  /** The checkpointer a graph task runs under (a relay to the distributor), if any. */
  checkpointerFor?: (job: DispatchedTask) => BaseCheckpointSaver | undefined;
  onOutcome?: (outcome: AttemptOutcomeWire) => void;
  /** Attempts were handed back (not run here), or the drain began: a heartbeat should go now, to say so. */
  onReturned?: () => void;
  /** An outcome could not be sent (it is replaced by a failure that says why). */
  onUnsendable?: (taskId: string, reason: string) => void;
  /** ctx.progress values of an attempt leave at most this often (default 250 ms; src/agents/live/). */
  progressIntervalMs?: number;
};

/** What a shutdown's drain still waits for: attempts running, outcomes not acknowledged. */
export type DrainLeft = { running: number; unacked: number };

export type DrainWatch = {
  /** Whether the distributor still answers; when it does not, its unacknowledged outcomes are given up. */
  answering?: () => boolean;
  /** Told what the drain waits for, when it starts waiting and every DRAIN_REPORT_MS after. */
  waiting?: (left: DrainLeft) => void;
};

/**
 * How a drain ended: `drained` when everything ran and was acknowledged; else `givenUp` outcomes
 * were dropped for a distributor that no longer answers, or the time ran out with `left` left.
 */
export type DrainEnd = { drained: boolean; givenUp: number; left: DrainLeft };

/** While a drain waits, how often it says what for. */
const DRAIN_REPORT_MS = 5000;

type Running = { fence: number; startedAt: number; cancel: AttemptCancel };
/**
 * An outcome not yet acknowledged. `queued`: it waits in the outbox, not yet handed to a send
 * (the distributor does not answer, say): a resend then pushes no second copy of it.
 */
type Unacked = { outcome: AttemptOutcomeWire; sentAt: number; queued: boolean };

/** Heartbeats that tell of an attempt handed back. */
const RETURNED_TOLD = 3;
/** Results per task_results message at most. */
const MAX_RESULTS_BATCH = 500;
const DISTRIBUTOR = "distributor";

/**
 * The worker's engine, free of transport: runs dispatched attempts within the concurrency
 * limit and delivers each outcome until the distributor acknowledges it (at-least-once; the
 * distributor's fenced commit makes it count once).
 */
export class WorkerCore {
  private readonly running = new Map<string, Running>();
  private readonly backlog: DispatchedTask[] = [];
  /** Outcomes not yet acknowledged, in the order they were last sent. */
  private readonly unacked = new Map<string, Unacked>();
  private readonly results: Outbox<AttemptOutcomeWire>;
  /** Failures that stand in for outcomes no message could carry. */
  private readonly replacements = new WeakSet<AttemptOutcomeWire>();
  private resendTimer: NodeJS.Timeout | undefined;
  private accepting = true;
  private stopped = false;
  /** Attempts handed back, told on the next RETURNED_TOLD heartbeats (a lost one is not the last word). */
  private returned: Array<{ task_id: string; fence: number; told: number }> = [];
  /** Handlers' progress, coalesced: the latest value per attempt, sent at most every interval. */
  private readonly progress: ProgressCoalescer;
  done = 0;

  constructor(private readonly options: WorkerCoreOptions) {
    this.results = new Outbox((_to, results) => this.sendResults(results), {
      lingerMs: options.batchLingerMs ?? 0,
      maxBatch: MAX_RESULTS_BATCH,
      // One attempt in hand: its outcome has nothing to wait for, whatever the process's load.
      quiet: quietOr(() => this.running.size + this.backlog.length <= 1),
    });
    this.progress = new ProgressCoalescer({
      send: (updates) => options.send({ kind: "task_progress", updates }),
      ...(options.progressIntervalMs !== undefined ? { intervalMs: options.progressIntervalMs } : {}),
    });
  }

  start(): void {
    this.resendTimer ??= setInterval(() => this.resend(), this.options.resendMs).unref();
  }

  /**
   * Stops at once: nothing more is sent or started, and each attempt still running is let go
   * (AttemptCancel.leave): its timer is cleared, so no timeout fires into its handler after the
   * stop, and the handler is not told, as when the process exits (the distributor runs the task
   * again). What is queued stays listed on the last heartbeat, for the distributor to move.
   */
  stop(): void {
    clearInterval(this.resendTimer);
    this.resendTimer = undefined;
    this.accepting = false;
    this.stopped = true;
    this.results.close();
    this.progress.stop();
    for (const running of this.running.values()) running.cancel.leave();
  }

  get load(): number {
    return this.running.size;
  }

  get backlogSize(): number {
    return this.backlog.length;
  }

  get pendingResults(): number {
    return this.unacked.size;
  }

  accept(jobs: DispatchedTask[]): void {
    const refused: DispatchedTask[] = [];
    for (const job of jobs) {
      const id = job.task.task_id;
      const done = this.unacked.get(id);
      // A re-sent dispatch of an attempt already finished: deliver the outcome again.
      if (done !== undefined && done.outcome.fence === job.fence) {
        this.post(done);
        continue;
      }
      if (this.running.get(id)?.fence === job.fence) continue;
      if (!this.accepting || this.backlog.length >= this.options.maxBacklog) {
        // Not the task's failure: handed back, to run elsewhere or here later.
        refused.push(job);
        continue;
      }
      queueByPriority(this.backlog, job);
    }
    if (refused.length > 0) this.handBack(refused);
    this.pump();
  }

  /** Attempts this worker will not run: told to the distributor on the next heartbeats, the first now. */
  private handBack(jobs: DispatchedTask[]): void {
    for (const job of jobs) this.returned.push({ task_id: job.task.task_id, fence: job.fence, told: 0 });
    this.options.onReturned?.();
  }

  private pump(): void {
    if (this.stopped) return;
    // An attempt whose handler answers at once is over when execute() returns: the loop goes on.
    while (this.running.size < this.options.capacity && this.backlog.length > 0) {
      this.execute(this.backlog.shift()!);
    }
  }

  private execute(job: DispatchedTask): void {
    const id = job.task.task_id;
    const started = performance.now();
    const startedAt = timestampNow();
    const cancel = new AttemptCancel();
    this.running.set(id, { fence: job.fence, startedAt: started, cancel });
    const handler = this.options.handlerFor(job.task.task_type);
    const run = (): RunOutcome | Promise<RunOutcome> => {
      // Results left out of the job (too large for one message with it) are fetched first.
      const fetch = job.dependencies_left_out?.length ? this.options.fetchDependencies : undefined;
      if (fetch === undefined)
        // The handler's own copies (the job came without one: see DistributorAgent.handsOver).
        return runWith(job.dependencies && (jsonCopy(job.dependencies) as typeof job.dependencies));
      return fetch(job).then(runWith, (err: unknown) => fetchFailed(err));
    };
    const runWith = (dependencies: DispatchedTask["dependencies"]): RunOutcome | Promise<RunOutcome> => {
      if (cancel.canceled) return { status: "failed", error: canceledError().message };
      let task: HandlerTask;
      try {
        task = this.options.toHandlerTask(job.task);
      } catch (err) {
        return { status: "failed", error: `the task could not be read: ${(err as Error).message}` };
      }
      return runAttempt(handler, task, {
        timeoutMs: job.timeout_ms,
        attempt: job.task.attempts,
        dependencies,
        inputs: job.task.inputs && (jsonCopy(job.task.inputs) as typeof job.task.inputs),
        resumeKey: job.resume_key,
        checkpointer: isGraphHandler(handler) ? this.options.checkpointerFor?.(job) : undefined,
        cancel,
        onProgress: (value) => {
          // Only while the attempt runs here: a handler left running past its end reports to nobody.
          if (this.running.get(id)?.cancel === cancel) this.progress.report(id, job.fence, value);
        },
      });
    };
    // Without an SDK or a trace to carry on, no span: the attempt runs as is, and a handler that
    // answers at once ends it here (no promise; pump()'s loop starts the next).
    if (executionTraced(job)) {
      void traceExecution(job, () => Promise.resolve(run())).then(({ outcome, trace }) => {
        this.ended(job, started, startedAt, outcome, trace);
        this.pump();
      });
      return;
    }
    const outcome = run();
    if (!(outcome instanceof Promise)) {
      this.ended(job, started, startedAt, outcome, undefined);
      return;
    }
    void outcome.then((settled) => {
      this.ended(job, started, startedAt, settled, undefined);
      this.pump();
    });
  }

  /** The attempt's outcome goes to the distributor (and is kept until it is acknowledged). */
  private ended(
    job: DispatchedTask,
    started: number,
    startedAt: string,
    outcome: RunOutcome,
    trace: TaskTrace | undefined,
  ): void {
    const id = job.task.task_id;
    if (this.running.get(id)?.fence === job.fence) this.running.delete(id);
    const progress = this.progress.take(id, job.fence);
    this.done++;
    const duration_ms = Math.round((performance.now() - started) * 1000) / 1000;
    // Members in sorted order, as canonical JSON writes them (task_results carries this).
    const wire: AttemptOutcomeWire =
      outcome.status === "completed" && progress === undefined && outcome.spawn === undefined
        ? // The common case, one plain literal (no spreads: one shape for every outcome like it).
          {
            duration_ms,
            fence: job.fence,
            result: outcome.result,
            started_at: startedAt,
            status: "completed",
            task_id: id,
          }
        : outcome.status === "completed"
          ? {
              duration_ms,
              fence: job.fence,
              ...(progress !== undefined ? { progress } : {}),
              result: outcome.result,
              started_at: startedAt,
              ...(outcome.spawn !== undefined ? { spawn: outcome.spawn } : {}),
              status: "completed",
              task_id: id,
            }
          : outcome.status === "input_required"
            ? {
                duration_ms,
                fence: job.fence,
                input_key: outcome.key,
                input_request: outcome.request,
                ...(progress !== undefined ? { progress } : {}),
                started_at: startedAt,
                status: "input_required",
                task_id: id,
              }
            : {
                duration_ms,
                error: outcome.error,
                fence: job.fence,
                ...(progress !== undefined ? { progress } : {}),
                ...(outcome.retry === false ? { retryable: false as const } : {}),
                started_at: startedAt,
                status: "failed",
                task_id: id,
              };
    if (trace) wire.trace = trace;
    this.finish(wire);
  }

  private finish(outcome: AttemptOutcomeWire): void {
    const entry: Unacked = { outcome, sentAt: 0, queued: false };
    this.unacked.delete(outcome.task_id);
    this.unacked.set(outcome.task_id, entry);
    this.options.onOutcome?.(outcome);
    this.post(entry, true);
  }

  /**
   * Cancels the attempts of these tasks whose fence is below the one given (the task was canceled,
   * which moved its fence on): a running one's ctx.signal fires with "canceled by client" and the
   * attempt ends at once (its outcome is refused by its fence); a queued one is not started.
   */
  cancel(tasks: AttemptCancelWire[]): number {
    let canceled = 0;
    for (const { task_id, fence } of tasks) {
      const running = this.running.get(task_id);
      if (running !== undefined && running.fence < fence && !running.cancel.canceled) {
        running.cancel.cancel(canceledError());
        canceled++;
      }
      const queued = this.backlog.findIndex((job) => job.task.task_id === task_id && job.fence < fence);
      if (queued >= 0) {
        const [job] = this.backlog.splice(queued, 1);
        this.finish({ task_id, fence: job!.fence, status: "failed", error: canceledError().message });
        canceled++;
      }
    }
    return canceled;
  }

  acknowledge(acks: Array<{ task_id: string; fence: number }>): void {
    for (const ack of acks) {
      if (this.unacked.get(ack.task_id)?.outcome.fence === ack.fence) this.unacked.delete(ack.task_id);
    }
  }

  /**
   * Queues an outcome for the distributor (batched), and moves it to the back of the resend order
   * (`last`: it was just put there; moving it again would only leave a hole in the map).
   */
  private post(entry: Unacked, last = false): void {
    entry.sentAt = performance.now();
    const id = entry.outcome.task_id;
    if (!last && this.unacked.get(id) === entry) {
      this.unacked.delete(id);
      this.unacked.set(id, entry);
    }
    // Still waiting in the outbox (the sends before it unanswered): that copy goes, no second.
    if (entry.queued) return;
    entry.queued = true;
    this.results.push(DISTRIBUTOR, entry.outcome);
  }

  /** Sends again what was sent at least `resendMs` ago and is still not acknowledged. */
  private resend(): void {
    const before = performance.now() - this.options.resendMs;
    const due: Unacked[] = [];
    for (const entry of this.unacked.values()) {
      if (entry.sentAt > before) break; // in the order they were sent: the rest are younger
      due.push(entry);
    }
    for (const entry of due) this.post(entry);
  }

  private sendResults(results: AttemptOutcomeWire[]): Promise<void> {
    for (const outcome of results) {
      const entry = this.unacked.get(outcome.task_id);
      if (entry?.outcome === outcome) entry.queued = false;
    }
    // A failed send is not lost: the outcome stays unacknowledged and goes out again on the resend
    // timer. An outcome no message can carry (an enormous error, say) becomes a failure that says so.
    return sendSplitting(
      results,
      (part) => this.options.send({ kind: "task_results", results: part }),
      (outcome, why) => this.unsendable(outcome, why),
    ).catch(() => {});
  }

  private unsendable(outcome: AttemptOutcomeWire, why: string): void {
    this.options.onUnsendable?.(outcome.task_id, why);
    if (this.unacked.get(outcome.task_id)?.outcome !== outcome) return; // acknowledged, or superseded
    if (this.replacements.has(outcome)) {
      this.unacked.delete(outcome.task_id); // not expected; but never a loop: the distributor takes it back
      return;
    }
    const { duration_ms, fence, started_at, task_id } = outcome;
    const error = `the outcome of the attempt cannot be sent: ${why.slice(0, 500)}`;
    const failed: AttemptOutcomeWire = { duration_ms, error, fence, started_at, status: "failed", task_id };
    this.replacements.add(failed);
    this.finish(failed);
  }

  heartbeat(url: string | null, taskTypes: string[], rejected: Record<string, number> = {}): WorkerHeartbeat {
    const refused = refusalsOf(rejected);
    return {
      kind: "worker_status",
      status: this.running.size > 0 ? "busy" : "idle",
      load: this.running.size + this.backlog.length,
      capacity: this.options.capacity,
      url,
      // Queued attempts too: they are held here, and must not look lost to the distributor.
      running: [
        ...[...this.running].map(([task_id, r]) => ({ task_id, fence: r.fence })),
        ...this.backlog.map((job) => ({ task_id: job.task.task_id, fence: job.fence })),
      ],
      done: this.done,
      task_types: taskTypes,
      backlog_per_slot: Math.max(1, Math.floor(this.options.maxBacklog / this.options.capacity)),
      fetches_dependencies: true,
      ...(Object.keys(refused).length > 0 ? { rejected: refused } : {}),
      ...(this.returned.length > 0 ? { returned: this.tellReturned() } : {}),
      ...(this.accepting ? {} : { stopping: true }),
    };
  }

  private tellReturned(): Array<{ task_id: string; fence: number }> {
    const told = this.returned.map(({ task_id, fence }) => ({ task_id, fence }));
    for (const r of this.returned) r.told++;
    this.returned = this.returned.filter((r) => r.told < RETURNED_TOLD);
    return told;
  }

  /**
   * Waits until running tasks finish and their outcomes are acknowledged, or the time is up.
   * `watch.waiting` hears what is left when the wait starts and every DRAIN_REPORT_MS after.
   * Once nothing runs, outcomes a distributor that no longer answers (`watch.answering`) has not
   * acknowledged are given up rather than waited on until the deadline: nobody will take them,
   * and nothing is lost — a worker never commits; the distributor's successor runs those tasks
   * again.
   */
  async drain(timeoutMs: number, watch: DrainWatch = {}): Promise<DrainEnd> {
    this.accepting = false;
    // Not started yet: handed back, for the distributor to send elsewhere at once (and the
    // heartbeat that says so says it stops, even with nothing to hand back).
    this.handBack(this.backlog.splice(0));
    const deadline = performance.now() + timeoutMs;
    let reportAt = performance.now();
    while (performance.now() < deadline) {
      if (this.running.size === 0 && this.backlog.length === 0 && this.unacked.size === 0) {
        return { drained: true, givenUp: 0, left: this.left() };
      }
      if (this.running.size === 0 && watch.answering?.() === false) {
        const givenUp = this.unacked.size;
        this.unacked.clear();
        return { drained: false, givenUp, left: this.left() };
      }
      if (performance.now() >= reportAt) {
        watch.waiting?.(this.left());
        reportAt = performance.now() + DRAIN_REPORT_MS;
      }
      if (this.unacked.size > 0) this.resend();
      await new Promise((r) => setTimeout(r, 50));
    }
    return { drained: false, givenUp: 0, left: this.left() };
  }

  private left(): DrainLeft {
    return { running: this.running.size, unacked: this.unacked.size };
  }
}

/** The outcome of an attempt whose dependencies' results could not be fetched (tried again, unless they never can be). */
function fetchFailed(err: unknown): RunOutcome {
  const code = isTriadError(err) ? `${err.code}: ` : "";
  const error = `the results of the task's dependencies could not be fetched: ${code}${(err as Error)?.message ?? String(err)}`;
  return isTriadError(err, "ERR_DEPENDENCY_TOO_LARGE")
    ? { status: "failed", error, retry: false }
    : { status: "failed", error };
}
