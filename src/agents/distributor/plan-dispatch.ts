import type { TaskLedger } from "../ledger/task-ledger.js";
import type { DispatchLimits } from "../limits/dispatch-limits.js";
import type { ReservedSlots } from "../limits/limit-gate.js";
import type { Outbox } from "../outbox.js";
import type { DispatchedTask, TaskDict } from "../protocol.js";
import {
  attemptJob,
  completeJobs,
  IncompleteJobs,
  type JobSources,
  MAX_INCOMPLETE,
  type WorkerItem,
} from "./attempt-job.js";
import type { Planned } from "./dispatch-plan.js";
import type { DispatchQueue } from "./dispatch-queue.js";
import type { DistributorEvents, DistributorStats } from "./distributor-events.js";
import type { HeldTasks } from "./held-tasks.js";
import type { AttemptBack, WorkerEntry } from "./worker-registry.js";

type PlanDispatchDeps = JobSources & {
  distributorId: string;
  /**
   * The time a worker gives one attempt, asked at each dispatch: a function, not a copy, so a
   * timeout changed on a running distributor is the one its next attempts carry.
   */
  timeoutMs: () => number;
  events?: DistributorEvents;
  queue: DispatchQueue;
  held: HeldTasks;
  stats: DistributorStats;
  limits: () => DispatchLimits<Planned>;
  toWorkers: Outbox<WorkerItem>;
  schedulePump: () => void;
  takeBack: (taskId: string, fence: number) => Promise<void>;
  takeBackAll: (back: AttemptBack[]) => Promise<void>;
  unsendable: (workerId: string, taskId: string, reason: string) => Promise<void>;
  /** A task that ended here: its end goes to the coordinator that placed it (as a commit's does). */
  report: (taskId: string, task: TaskDict | null, spawned: boolean) => void;
};

/**
 * A planned batch's attempts started (one dispatch script call) and sent to their workers, each
 * with what it carries read first (distributor-core.ts's pump, and its explicit assignments).
 */
export class PlanDispatch {
  /** Tasks whose attempts could not be completed, lately (./attempt-job.ts). */
  private readonly incomplete = new IncompleteJobs();

  constructor(private readonly o: PlanDispatchDeps) {}

  async dispatch(plan: Planned[], slots?: ReservedSlots): Promise<void> {
    let starts: Awaited<ReturnType<TaskLedger["dispatchMany"]>>;
    try {
      starts = await this.o.ledger.dispatchMany(
        plan,
        this.o.distributorId,
        (p) => p.task.task_id,
        (p) => p.worker.id,
      );
    } catch {
      // Redis unreachable: put everything back where it was taken from, and try again shortly.
      // No attempt started here: the slots reserved for the plan, and their starts of the
      // rates, go back (now, or before the next slot call should the store not answer).
      for (const p of plan) p.worker.inFlight.delete(p.task.task_id);
      this.o.queue.putFirst(plan);
      setTimeout(() => this.o.schedulePump(), 200).unref();
      if (slots !== undefined) await this.o.limits().giveBack(slots, plan);
      return;
    }
    // An attempt whose slot could not be bound (see LimitGate.bind) is taken back at once.
    const fences = starts.map((v) => (typeof v === "object" ? v.fence : v));
    for (const k of slots === undefined ? [] : await this.o.limits().bind(slots, plan, fences)) {
      plan[k]!.worker.inFlight.delete(plan[k]!.task.task_id);
      void this.o.takeBack(plan[k]!.task.task_id, fences[k] as number).catch(() => {});
      starts[k] = "not-held";
    }
    const jobs: DispatchedTask[] = [];
    const tasks: TaskDict[] = [];
    const to: WorkerEntry[] = [];
    plan.forEach(({ task, worker }, k) => {
      const started = starts[k]!;
      if (typeof started !== "object") {
        // Terminal, unknown, or moved to another distributor: not ours to run.
        worker.inFlight.delete(task.task_id);
        this.o.held.delete(task.task_id);
        if (started === "expired") void this.expired(task.task_id);
        return;
      }
      const { fence } = started;
      if (worker.status === "dead") {
        // Declared dead while the script was out: taken back, not sent (were it only slow, it
        // would run the attempt beside the next one, to be refused at its commit).
        worker.inFlight.delete(task.task_id);
        void this.o.takeBackAll([{ taskId: task.task_id, fence }]).catch(() => {});
        return;
      }
      worker.inFlight.set(task.task_id, { fence, dispatchedAt: performance.now(), confirmed: false });
      this.o.stats.dispatched++;
      // Its attempt number as the store counts it, not the copy's (./attempt-job.ts).
      const job = attemptJob(task, worker.id, started, this.o.timeoutMs());
      this.o.held.set(task.task_id, job.task);
      jobs.push(job);
      tasks.push(task);
      to.push(worker);
    });
    // Its checkpoint, inputs and dependencies' outcomes, every one read before it goes: a graph
    // sent without its checkpoint would start over (its done steps run again), one sent without
    // its inputs would ask again (./attempt-job.ts).
    const incomplete = await completeJobs(jobs, tasks, this.o);
    for (let i = 0; i < jobs.length; i++) {
      const job = jobs[i]!;
      const id = job.task.task_id;
      const why = incomplete?.get(job);
      if (why === undefined) {
        this.incomplete.sent(id);
        this.o.toWorkers.push(to[i]!.id, { job });
        continue;
      }
      // Not sent: the attempt stays in flight unconfirmed, and the monitor takes it back after a
      // heartbeat timeout (as a lost dispatch), to try again — MAX_INCOMPLETE times in a row.
      this.o.events?.incompleteJob?.(id, why);
      if (this.incomplete.failed(id)) {
        const reason = `what its attempt carries could not be read ${MAX_INCOMPLETE} times in a row: ${why}`;
        void this.o.unsendable(to[i]!.id, id, reason);
      }
    }
  }

  /**
   * A task its dispatch found past its expires_at, never started: the script ended it abandoned
   * "expired" (as the coordinator's due sweep would have), and its end is reported as a
   * commit's is. The record is read for it; should the read fail, the coordinator finds the
   * end in the store by itself (as any report lost).
   */
  private async expired(taskId: string): Promise<void> {
    const record = await this.o.ledger.get(taskId).catch(() => null);
    if (record !== null) this.o.report(taskId, record.task, false);
  }
}
