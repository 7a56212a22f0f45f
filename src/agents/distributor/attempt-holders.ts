import type { TaskLedger } from "../ledger/task-ledger.js";
import type { AttemptOutcomeWire } from "../protocol.js";
import type { WorkerRegistry } from "./worker-registry.js";

/** An outcome refused because its attempt is live on another worker (`holder`), or not ours at all (null). */
export type ForeignOutcome = { outcome: AttemptOutcomeWire; holder: string | null };

/**
 * Who may speak for an attempt: only the worker it was dispatched to. A valid signature says
 * only that the sender holds a key of the deployment, so a result (or a checkpoint) for an
 * attempt is taken only from the worker that runs it.
 *
 * The registry answers at no cost for attempts in flight here. An attempt not in memory (one
 * adopted from Redis after a restart, before reconcile has run, say) is the sender's if the
 * ledger says this distributor dispatched that fence to that worker. An attempt that is no
 * longer live (fenced off, finished, moved) is nobody's: its result goes on to the ledger, which
 * refuses it by its fence, and the worker is told to stop re-sending it, as before.
 */
export class AttemptHolders {
  constructor(private readonly o: { distributorId: string; registry: WorkerRegistry; ledger: TaskLedger }) {}

  /** Splits a worker's outcomes into those it may send (its own, and stale ones) and foreign ones. */
  async sort(
    workerId: string,
    results: AttemptOutcomeWire[],
  ): Promise<{ allowed: AttemptOutcomeWire[]; foreign: ForeignOutcome[] }> {
    const worker = this.o.registry.get(workerId);
    const allowed: AttemptOutcomeWire[] = [];
    const unsure: AttemptOutcomeWire[] = [];
    for (const r of results) (worker?.inFlight.get(r.task_id)?.fence === r.fence ? allowed : unsure).push(r);
    if (unsure.length === 0) return { allowed, foreign: [] };
    const attempts = await Promise.all(unsure.map((r) => this.liveAttempt(r.task_id, r.fence)));
    const foreign: ForeignOutcome[] = [];
    unsure.forEach((outcome, i) => {
      const attempt = attempts[i]!;
      if (!attempt.live || attempt.holder === workerId) allowed.push(outcome);
      else foreign.push({ outcome, holder: attempt.holder });
    });
    return { allowed, foreign };
  }

  /** True when `workerId` runs the attempt (`taskId`, `fence`) for this distributor. */
  async holds(workerId: string, taskId: string, fence: number): Promise<boolean> {
    if (this.o.registry.get(workerId)?.inFlight.get(taskId)?.fence === fence) return true;
    const attempt = await this.liveAttempt(taskId, fence);
    return attempt.live && attempt.holder === workerId;
  }

  /**
   * Whether the ledger has this attempt live (else any result of it is stale), and the worker
   * that runs it for us (null: it runs for another distributor).
   */
  private async liveAttempt(
    taskId: string,
    fence: number,
  ): Promise<{ live: false } | { live: true; holder: string | null }> {
    const record = await this.o.ledger.get(taskId);
    if (record === null || record.task.status !== "in_progress" || record.fence !== fence)
      return { live: false };
    const ours = record.distributor === this.o.distributorId;
    return { live: true, holder: ours ? record.task.assigned_to : null };
  }
}
