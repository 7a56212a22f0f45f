import { isTerminalStatus } from "../../core/state/status.js";
import type {
  AttemptOutcome,
  CommitReceipt,
  CommitVerdict,
  TaskLedger,
  TaskRecord,
} from "../ledger/task-ledger.js";
import type { AttemptOutcomeWire, ResultAck, TaskDict } from "../protocol.js";
import { refuseUnknownSpawnDependencies } from "../workflow/spawn-dependencies.js";
import type { AttemptHolders } from "./attempt-holders.js";
import { committedTask } from "./committed-task.js";
import type { DispatchQueue } from "./dispatch-queue.js";
import type { DistributorEvents, DistributorStats } from "./distributor-events.js";
import type { WorkerRegistry } from "./worker-registry.js";

export type ResultCommitsOptions = {
  ledger: TaskLedger;
  holders: AttemptHolders;
  registry: WorkerRegistry;
  stats: DistributorStats;
  events?: DistributorEvents;
  /** Runs before a batch of outcomes that carry progress is committed: writes it (src/agents/live/). */
  beforeCommit?: (outcomes: AttemptOutcomeWire[]) => Promise<void>;
  /** A checkpoint of this task being stored now (its `checkpoint` message's handler), if one is. */
  checkpointStoring?: (taskId: string) => Promise<void> | undefined;
  /** Whether the distributor holds its shared-state lease (without it, nothing is committed). */
  owns: () => boolean;
  /** The dict of a task the distributor holds, if any. */
  held: (taskId: string) => TaskDict | undefined;
  /** The attempt (taskId, fence) is over: its task-type slot goes back (src/agents/limits/). */
  release: (taskId: string, fence: number, taskType?: string) => void;
  /** The distributor's queue: a task to retry goes back to it. */
  queue: DispatchQueue;
  /** Holds a task as its record says (after a stale commit of a task still held). */
  adopt: (record: TaskRecord | null) => void;
  /** The distributor holds the task no more (ended, or waiting for input). */
  forget: (taskId: string) => void;
  /** A task ended: its end goes to the coordinator that placed it (`spawned`: its committed attempt spawned tasks; null task: nothing to send). */
  report: (taskId: string, task: TaskDict | null, spawned: boolean) => void;
  /** A batch was committed: the pump has room to fill. */
  committed: () => void;
  /** Sends an acknowledgement to a worker (riding on the next execute_tasks when there is one soon). */
  ack: (workerId: string, ack: ResultAck) => void;
};

/**
 * The distributor's commit batching: results that workers send wait for the next paced turn,
 * then every worker's go through the fenced ledger together (started in one tick, so the ledger
 * makes one script call), each task goes where its verdict says (queued again, dropped while it
 * waits for input, reported ended), and each worker is acknowledged what it sent. Owns the
 * results not yet committed; the distributor core owns the tasks it holds.
 */
export class ResultCommits {
  /** Results received and not yet committed: all workers' go to Redis in one script call per linger. */
  private pending: Array<{
    workerId: string;
    results: AttemptOutcomeWire[];
    done: (acks: ResultAck[]) => void;
  }> = [];

  /** When this process's commits began (epoch ms): an end recorded before is a former process's. */
  private readonly since = Date.now();

  constructor(private readonly o: ResultCommitsOptions) {}

  /** Whether each id names a recorded task (what a spawned task's outside dependencies must be). */
  private readonly knownTasks = async (ids: string[]): Promise<boolean[]> =>
    (await Promise.all(ids.map((id) => this.o.ledger.status(id)))).map((s) => s !== null);

  /** True when results wait to be committed. */
  get waiting(): boolean {
    return this.pending.length > 0;
  }

  /**
   * Holds a worker's results for the next commitPending; resolves with their acknowledgements.
   * The worker is done with these attempts: they leave room on it from now (Attempts.reported).
   */
  add(workerId: string, results: AttemptOutcomeWire[]): Promise<ResultAck[]> {
    this.reported(workerId, results, true);
    return new Promise((done) => {
      this.pending.push({ workerId, results, done });
    });
  }

  /** Drops what waits, unacknowledged: the workers re-send it. */
  dropAll(): void {
    for (const { workerId, results, done } of this.pending.splice(0)) {
      this.uncommitted(workerId, results);
      done([]);
    }
  }

  /** Commits every worker's pending results: started in one tick, so the ledger makes one script call. */
  async commitPending(): Promise<void> {
    const batch = this.pending.splice(0);
    await Promise.all(
      batch.map(({ workerId, results, done }) =>
        this.commit(workerId, results).then(done, () => {
          this.uncommitted(workerId, results);
          done([]);
        }),
      ),
    );
  }

  /** Results not committed (the store failed, the lease is gone): their attempts hold room again until sent again. */
  private uncommitted(workerId: string, results: AttemptOutcomeWire[]): void {
    this.reported(workerId, results, false);
  }

  /**
   * Marks (or unmarks) the worker's attempts of these results as reported (Attempts.setReported);
   * marked, the worker's room adapts to how fast they came back (WorkerRegistry.reported).
   */
  private reported(workerId: string, results: AttemptOutcomeWire[], reported: boolean): void {
    const entry = this.o.registry.get(workerId);
    if (entry === undefined) return;
    let earliest = Number.POSITIVE_INFINITY;
    for (const r of results) {
      const flight = entry.inFlight.setReported(r.task_id, r.fence, reported);
      if (flight !== undefined && flight.dispatchedAt < earliest) earliest = flight.dispatchedAt;
    }
    if (reported && earliest !== Number.POSITIVE_INFINITY)
      this.o.registry.reported(entry, earliest, this.o.queue.size > 0);
  }

  private async commit(workerId: string, sent: AttemptOutcomeWire[]): Promise<ResultAck[]> {
    if (!this.o.owns()) {
      this.uncommitted(workerId, sent);
      return [];
    }
    // Neither committed nor acknowledged: the sender does not hold these attempts.
    const { allowed, foreign } = await this.o.holders.sort(workerId, sent);
    const results = await refuseUnknownSpawnDependencies(allowed, this.knownTasks);
    for (const { outcome, holder } of foreign) {
      this.o.stats.foreignRejected++;
      this.o.events?.foreignResult?.(outcome, workerId, holder);
    }
    const worker = this.o.registry.get(workerId);
    // A graph's last checkpoint travels just before its outcome and is stored by another handler
    // (a check that the sender runs the attempt, then a fenced write): the outcome waits for it.
    // Committed first, the commit ends the attempt, the write is refused as stale, and the
    // attempt that resumes the task (an answer to its interrupt) starts from an older one.
    const storing = this.o.checkpointStoring;
    if (storing !== undefined) {
      const pending: Array<Promise<void>> = [];
      for (const r of results) {
        const p = storing(r.task_id);
        if (p !== undefined) pending.push(p);
      }
      if (pending.length > 0) await Promise.all(pending);
    }
    // Only outcomes that carry progress wait for it (the common outcome has none: no extra hop).
    if (this.o.beforeCommit && results.some((r) => r.progress !== undefined))
      await this.o.beforeCommit(results).catch(() => {});
    const receipts = await this.o.ledger.commitAttempts(results.map(attemptOf));
    const unheld: Array<Promise<void>> = [];
    results.forEach((r, i) => {
      const receipt = receipts[i]!;
      if (worker?.inFlight.get(r.task_id)?.fence === r.fence) worker.inFlight.delete(r.task_id);
      // A resend of an outcome committed already: acknowledged again. Still held here, this
      // process's own commit lost its reply (the store's timeout): what it committed is taken now,
      // as the record says. Not held, its end was reported by whoever committed it — unless that
      // was this distributor before a restart under its id (killed between the script and its
      // reply: nobody told the coordinator): then the end is reported now.
      if (receipt.verdict === "duplicate") {
        const held = this.o.held(r.task_id);
        if (held !== undefined) {
          this.o.release(r.task_id, r.fence, held.task_type);
          unheld.push(
            this.o.ledger.get(r.task_id).then((record) => this.committedUnheard(r.task_id, record)),
          );
        } else unheld.push(this.reportEnded(r.task_id));
        return;
      }
      if (receipt.verdict !== "stale") this.o.release(r.task_id, r.fence, this.o.held(r.task_id)?.task_type);
      if (receipt.verdict === "stale") {
        this.o.stats.staleRejected++;
        this.o.events?.staleResult?.(r, workerId);
        // Fenced off while we held it: by our own take-back (queued again already), or by the
        // coordinator moving it — maybe back to us, as pending. The record says which.
        if (this.o.held(r.task_id) !== undefined)
          unheld.push(this.o.ledger.get(r.task_id).then((rec) => this.o.adopt(rec)));
        return;
      }
      const held = this.o.held(r.task_id);
      if (held !== undefined) {
        this.afterCommit(
          r.task_id,
          receipt.verdict,
          committedTask(held, r, receipt),
          receipt.notBefore,
          spawnedBy(r, receipt),
        );
        return;
      }
      // Not in memory (adopted after a restart, say): the record says what was committed.
      unheld.push(
        this.o.ledger
          .get(r.task_id)
          .then((record) =>
            this.afterCommit(
              r.task_id,
              receipt.verdict,
              record?.task ?? null,
              record?.notBefore ?? null,
              spawnedBy(r, receipt),
            ),
          ),
      );
    });
    await Promise.all(unheld);
    this.o.committed();
    const acks = results.map((r) => ({ fence: r.fence, task_id: r.task_id }));
    for (const ack of acks) this.o.ack(workerId, ack);
    return acks;
  }

  /**
   * Reports the end of a task whose record says it ended (a duplicate's: see commit), when a
   * former process of this distributor committed it: ended before this one started. One this
   * process committed was reported at its commit, to the coordinator that placed it; again, it
   * would go to this distributor's own coordinator, which counts it as well when that is another.
   */
  private async reportEnded(taskId: string): Promise<void> {
    const record = await this.o.ledger.get(taskId);
    if (record === null || !isTerminalStatus(record.task.status)) return;
    const endedAt = Date.parse(record.task.completed_at ?? "");
    if (endedAt >= this.since) return;
    // Spawned tasks not recorded yet (WorkflowKeeper's spawnsUnrecorded): the coordinator shows the end once they are.
    this.o.report(taskId, record.task, record.spawnJson !== null);
  }

  /**
   * A held task whose commit this process made and never heard the answer of (the resend found it
   * committed): its record says what the commit did, and that is done now as if heard then.
   */
  private committedUnheard(taskId: string, record: TaskRecord | null): void {
    const status = record?.task.status;
    if (record === null || this.o.held(taskId) === undefined) return;
    if (status === "completed" || status === "failed")
      this.afterCommit(
        taskId,
        status,
        record.task,
        null,
        status === "completed" && record.spawnJson !== null,
      );
    else if (status === "pending") this.afterCommit(taskId, "retry", record.task, record.notBefore);
    else if (status === "input_required") this.afterCommit(taskId, "input_required", record.task, null);
    else this.o.forget(taskId); // ended by the coordinator (canceled, abandoned): it knows
  }

  private afterCommit(
    taskId: string,
    verdict: CommitVerdict,
    task: TaskDict | null,
    notBefore: number | null,
    spawned = false,
  ): void {
    if (verdict === "input_required") {
      // Waiting for input holds no worker and no distributor: the coordinator places it again once given.
      this.o.forget(taskId);
      this.o.queue.delete(taskId);
      return;
    }
    if (verdict === "retry") {
      this.o.stats.retried++;
      this.o.events?.retried?.(taskId, task);
      if (task !== null && task.status === "pending") this.o.queue.push(task, notBefore ?? 0);
      return;
    }
    this.o.forget(taskId);
    if (verdict === "completed") this.o.stats.completed++;
    else this.o.stats.failed++;
    this.o.report(taskId, task, spawned);
    if (task !== null) this.o.events?.committed?.(task, verdict);
  }
}

/**
 * Whether this commit wrote spawned tasks on the record (the ledger writes an attempt's spawn
 * list only when it completes: TaskLedger's committer).
 */
function spawnedBy(r: AttemptOutcomeWire, receipt: CommitReceipt): boolean {
  return receipt.verdict === "completed" && r.spawn !== undefined && r.spawn.length > 0;
}

/** What the ledger commits of an outcome: members set one by one, no spread temporaries. */
function attemptOf(r: AttemptOutcomeWire): AttemptOutcome {
  const attempt: AttemptOutcome = { taskId: r.task_id, fence: r.fence, status: r.status };
  if (r.result !== undefined) attempt.result = r.result;
  if (r.error !== undefined) attempt.error = r.error;
  if (r.retryable === false && r.status === "failed") attempt.retry = false;
  if (r.spawn !== undefined) attempt.spawn = r.spawn;
  if (r.status === "input_required") {
    attempt.inputRequest = r.input_request ?? null;
    attempt.inputKey = r.input_key ?? "";
  }
  return attempt;
}
