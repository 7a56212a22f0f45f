import type { BaseCheckpointSaver } from "@langchain/langgraph";
import type {
  AgentPayload,
  AttemptOutcomeWire,
  DispatchedTask,
  TaskDict,
  WorkerHeartbeat,
} from "../protocol.js";
import { type HandlerTask, isGraphHandler, runTask, type TaskHandler } from "./task-runner.js";

export type WorkerCoreOptions = {
  capacity: number;
  /** Resend results not yet acknowledged this often. */
  resendMs: number;
  /** Tasks accepted beyond capacity wait here; more than this are refused to the distributor. */
  maxBacklog: number;
  handlerFor: (taskType: string) => TaskHandler | undefined;
  /** Builds what a handler sees from the task dict (the agent gives a Task instance). */
  toHandlerTask: (dict: TaskDict) => HandlerTask;
  send: (payload: AgentPayload) => Promise<void>;
  /** The checkpointer a graph task runs under (a relay to the distributor), if any. */
  checkpointerFor?: (job: DispatchedTask) => BaseCheckpointSaver | undefined;
  onOutcome?: (outcome: AttemptOutcomeWire) => void;
};

type Running = { fence: number; startedAt: number };

/**
 * The worker's engine, free of transport: runs dispatched attempts within the concurrency
 * limit and delivers each outcome until the distributor acknowledges it (at-least-once; the
 * distributor's fenced commit makes it count once).
 */
export class WorkerCore {
  private readonly running = new Map<string, Running>();
  private readonly backlog: DispatchedTask[] = [];
  private readonly unacked = new Map<string, AttemptOutcomeWire>();
  private flushScheduled = false;
  private resendTimer: NodeJS.Timeout | undefined;
  private accepting = true;
  done = 0;

  constructor(private readonly options: WorkerCoreOptions) {}

  start(): void {
    this.resendTimer ??= setInterval(() => this.flush(true), this.options.resendMs).unref();
  }

  stop(): void {
    clearInterval(this.resendTimer);
    this.resendTimer = undefined;
    this.accepting = false;
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
    for (const job of jobs) {
      const id = job.task.task_id;
      const done = this.unacked.get(id);
      // A re-sent dispatch of an attempt already finished: deliver the outcome again.
      if (done !== undefined && done.fence === job.fence) {
        this.scheduleFlush();
        continue;
      }
      if (this.running.get(id)?.fence === job.fence) continue;
      if (!this.accepting || this.backlog.length >= this.options.maxBacklog) {
        this.finish({
          task_id: id,
          fence: job.fence,
          status: "failed",
          error: "worker is shutting down or overloaded",
        });
        continue;
      }
      this.backlog.push(job);
    }
    this.pump();
  }

  private pump(): void {
    while (this.running.size < this.options.capacity && this.backlog.length > 0) {
      const job = this.backlog.shift()!;
      void this.execute(job);
    }
  }

  private async execute(job: DispatchedTask): Promise<void> {
    const id = job.task.task_id;
    const started = performance.now();
    const startedAt = new Date().toISOString();
    this.running.set(id, { fence: job.fence, startedAt: started });
    const handler = this.options.handlerFor(job.task.task_type);
    const outcome = await runTask(handler, this.options.toHandlerTask(job.task), {
      timeoutMs: job.timeout_ms,
      attempt: job.task.attempts,
      checkpointer: isGraphHandler(handler) ? this.options.checkpointerFor?.(job) : undefined,
    });
    if (this.running.get(id)?.fence === job.fence) this.running.delete(id);
    this.done++;
    this.finish({
      task_id: id,
      fence: job.fence,
      ...outcome,
      started_at: startedAt,
      duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
    });
    this.pump();
  }

  private finish(outcome: AttemptOutcomeWire): void {
    this.unacked.set(outcome.task_id, outcome);
    this.options.onOutcome?.(outcome);
    this.scheduleFlush();
  }

  acknowledge(acks: Array<{ task_id: string; fence: number }>): void {
    for (const ack of acks) {
      if (this.unacked.get(ack.task_id)?.fence === ack.fence) this.unacked.delete(ack.task_id);
    }
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush(false);
    });
  }

  /** Sends outcomes not yet acknowledged, in batches; `all` on the resend timer, else the new ones. */
  private sentOnce = new WeakSet<AttemptOutcomeWire>();
  private flush(all: boolean): void {
    const batch: AttemptOutcomeWire[] = [];
    for (const outcome of this.unacked.values()) {
      if (!all && this.sentOnce.has(outcome)) continue;
      this.sentOnce.add(outcome);
      batch.push(outcome);
      if (batch.length === 500) this.sendResults(batch.splice(0));
    }
    if (batch.length) this.sendResults(batch);
  }

  private sendResults(results: AttemptOutcomeWire[]): void {
    // A failed send is not lost: the outcome stays unacknowledged and goes out again on the resend timer.
    this.options.send({ kind: "task_results", results }).catch(() => {});
  }

  heartbeat(url: string | null, taskTypes: string[]): WorkerHeartbeat {
    return {
      kind: "worker_status",
      status: this.running.size > 0 ? "busy" : "idle",
      load: this.running.size + this.backlog.length,
      capacity: this.options.capacity,
      url,
      running: [...this.running].map(([task_id, r]) => ({ task_id, fence: r.fence })),
      done: this.done,
      task_types: taskTypes,
    };
  }

  /** Waits until running tasks finish and their outcomes are acknowledged, or the time is up. */
  async drain(timeoutMs: number): Promise<boolean> {
    this.accepting = false;
    // Not started yet: hand them back by not running them; the distributor takes them back
    // when this worker stops heartbeating.
    this.backlog.length = 0;
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      if (this.running.size === 0 && this.backlog.length === 0 && this.unacked.size === 0) return true;
      if (this.unacked.size > 0) this.flush(true);
      await new Promise((r) => setTimeout(r, 50));
    }
    return false;
  }
}
