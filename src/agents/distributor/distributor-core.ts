import { TriadError } from "../../core/errors.js";
import type { JsonValue } from "../../core/json.js";
import { timerDelay } from "../../core/timers.js";
import { quietOr } from "../event-loop-load.js";
import type { TaskRecord } from "../ledger/task-ledger.js";
import { DispatchLimits } from "../limits/dispatch-limits.js";
import { Outbox } from "../outbox.js";
import { Pacer } from "../pacer.js";
import type {
  AttemptOutcomeWire,
  DistributorHeartbeat,
  ResultAck,
  TaskDict,
  WorkerHeartbeat,
} from "../protocol.js";
import { inSubmissionOrder } from "../schedule-controls/task-schedule.js";
import { monitorStallWatch, type StallWatch } from "../stall-watch.js";
import { adoptAssigned, adoptRecord } from "./adopt-record.js";
import { AttemptHolders } from "./attempt-holders.js";
import { sendWorkerItems, type WorkerItem, workerPayload } from "./attempt-job.js";
import { DispatchPlanner, type Planned } from "./dispatch-plan.js";
import { DispatchQueue } from "./dispatch-queue.js";
import type { DistributorStats } from "./distributor-events.js";
import type { DistributorCoreOptions } from "./distributor-options.js";
import { HandBackAsks } from "./hand-back-asks.js";
import { HeldTasks } from "./held-tasks.js";
import { LeaseKeeper } from "./lease-keeper.js";
import { PlanDispatch } from "./plan-dispatch.js";
import { PumpPasses } from "./pump-passes.js";
import { ResultCommits } from "./result-commits.js";
import { TerminalReports } from "./terminal-reports.js";
import { type AttemptBack, type WorkerEntry, WorkerRegistry } from "./worker-registry.js";

export type { DistributorEvents, DistributorStats } from "./distributor-events.js";

/** Tasks (or acks) per message to a worker, and terminal tasks per message to the coordinator, at most. */
const MAX_MESSAGE_BATCH = 200;

/**
 * The distributor's engine, free of transport: holds the tasks the coordinator handed it,
 * dispatches them to workers within their capacity, commits outcomes through the fenced
 * ledger, and takes attempts back from workers that go silent. It acts only while it holds
 * its shared-state lease; Redis, not memory, says which tasks are its own (reconcile).
 */
export class DistributorCore {
  readonly registry: WorkerRegistry;
  /** The monitor's own stalls, credited to the workers' silence (see StallWatch). */
  private readonly stall: StallWatch;
  /** Who may report on an attempt: the worker it was dispatched to. */
  readonly holders: AttemptHolders;
  readonly queue = new DispatchQueue();
  readonly lease: LeaseKeeper;
  readonly stats: DistributorStats = {
    dispatched: 0,
    completed: 0,
    failed: 0,
    retried: 0,
    staleRejected: 0,
    foreignRejected: 0,
    reassigned: 0,
    workersDead: 0,
  };
  /** Every task this distributor holds (queued or in flight), by id. */
  private readonly held = new HeldTasks();
  /**
   * Held tasks placed here by a coordinator other than the one this distributor heartbeats, by id:
   * their end is reported to that coordinator (several coordinators: the one that placed a task
   * is, as a rule, the one its waiters wait on, and it takes the report without reading the ledger).
   */
  private readonly placedBy = new Map<string, string>();
  private readonly toCoordinator: TerminalReports;
  private readonly toWorkers: Outbox<WorkerItem>;
  private timers: NodeJS.Timeout[] = [];
  /** Commits and dispatches, together: what a linger piled up goes to Redis in one write. */
  private readonly pacer: Pacer;
  /** The pump's passes, one at a time (./pump-passes.ts). */
  private readonly pumps: PumpPasses;
  /** Results received and not yet committed, and their commit (./result-commits.ts). */
  private readonly commits: ResultCommits;
  /** Which planned attempts the per-task-type limits let start now (src/agents/limits/). */
  private readonly limits: DispatchLimits<Planned>;
  /** Planned attempts started in the store and sent to their workers (./plan-dispatch.ts). */
  private readonly starts: PlanDispatch;
  private wakeTimer: NodeJS.Timeout | undefined;
  /** A graceful stop is under way (drain): nothing more is dispatched. */
  private draining = false;
  /** Tasks of a type no live worker here runs, asked about (./hand-back-asks.ts). */
  private readonly handBacks: HandBackAsks | undefined;
  private stopping = false;

  constructor(private readonly o: DistributorCoreOptions) {
    // One task in hand (held: queued or running): nothing to batch it with, whatever the load.
    const quiet = quietOr(() => this.held.size <= 1);
    const batching = { lingerMs: o.timing.batchLingerMs, maxBatch: MAX_MESSAGE_BATCH, quiet };
    this.toCoordinator = new TerminalReports({
      send: o.send,
      home: () => this.o.coordinatorId,
      unsendable: (taskId, reason) => this.o.events?.unsendable?.(taskId, reason),
      batching,
    });
    this.toWorkers = new Outbox((to, items) => this.sendToWorker(to, items), batching);
    this.pacer = new Pacer(() => this.work(), o.timing.batchLingerMs, quiet);
    // A pass the store does not answer within a lease's time holds up the next no longer.
    this.pumps = new PumpPasses(
      () => this.pump(),
      () => this.pacer.schedule(),
      o.timing.leaseTtlMs,
      { overdue: () => this.o.events?.passOverdue?.(o.timing.leaseTtlMs) },
    );
    this.registry = new WorkerRegistry(o.defaultWorkerCapacity);
    this.stall = monitorStallWatch(o.timing);
    this.holders = new AttemptHolders({
      distributorId: o.distributorId,
      registry: this.registry,
      ledger: o.ledger,
    });
    this.lease = new LeaseKeeper(
      o.store,
      `shared-state:${o.distributorId}`,
      o.distributorId,
      o.timing.leaseTtlMs,
    );
    this.starts = new PlanDispatch({
      ...o,
      timeoutMs: () => o.taskTimeoutMs, // read at each dispatch: it may change on a running distributor
      limits: () => this.limits,
      schedulePump: () => this.schedulePump(),
      takeBack: (taskId, fence) => this.takeBack(taskId, fence),
      takeBackAll: (back) => this.takeBackAll(back),
      unsendable: (workerId, taskId, reason) => this.unsendable(workerId, taskId, reason),
      report: (taskId, task, spawned) => this.toCoordinator.ended(this.placedBy, taskId, task, spawned),
      queue: this.queue,
      held: this.held,
      stats: this.stats,
      toWorkers: this.toWorkers,
    });
    this.limits = new DispatchLimits<Planned>(o.limits, this.queue, {
      dispatch: (plan, slots) => this.starts.dispatch(plan, slots),
      // Still queued in its place, its type waiting: the room it was planned on goes to other tasks.
      refused: ({ task, worker }) => {
        worker.inFlight.delete(task.task_id);
        this.schedulePump();
      },
    });
    this.commits = new ResultCommits({
      ledger: o.ledger,
      events: o.events,
      beforeCommit: o.beforeCommit,
      checkpointStoring: o.checkpointStoring,
      holders: this.holders,
      registry: this.registry,
      stats: this.stats,
      owns: () => this.lease.owns,
      held: (taskId) => this.held.get(taskId),
      release: (taskId, fence, taskType) => this.limits.release(taskId, fence, taskType),
      queue: this.queue,
      adopt: (record) => this.adopt(record),
      forget: (taskId) => this.held.delete(taskId),
      report: (taskId, task, spawned) => this.toCoordinator.ended(this.placedBy, taskId, task, spawned),
      committed: () => this.schedulePump(),
      ack: (workerId, ack) => this.toWorkers.push(workerId, { ack }),
    });
    const [home, pump] = [() => this.o.coordinatorId, () => this.schedulePump()];
    const held = { queue: this.queue, held: this.held, placedBy: this.placedBy, home, pump };
    this.handBacks = o.handBack && new HandBackAsks(o.handBack, held);
  }

  get id(): string {
    return this.o.distributorId;
  }

  get load(): number {
    return this.held.size;
  }

  get capacity(): number {
    return this.registry.capacity();
  }

  start(): void {
    const every = (ms: number, fn: () => Promise<unknown> | undefined) => {
      const timer = setInterval(() => {
        void Promise.resolve()
          .then(fn)
          .catch(() => {});
      }, ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(Math.max(50, Math.floor(this.o.timing.leaseTtlMs / 3)), () => this.keepLease());
    this.stall.reset();
    every(this.o.timing.monitorIntervalMs, () => this.monitorWorkers());
    every(this.o.reconcileIntervalMs, () => this.reconcile());
  }

  /** Takes the lease (waiting for it to be free, as after a restart with the same id) and its tasks. */
  async keepLease(): Promise<boolean> {
    const had = this.lease.owns;
    const owns = await this.lease.keep();
    if (owns && !had) await this.reconcile();
    return owns;
  }

  /**
   * A graceful stop's first step: nothing more is dispatched, whatever is queued now or later (a
   * retry, a take-back, a task reconcile adopts); the attempts running end and are committed.
   * What is left stays ours in Redis, for the coordinator to move once the stop is said.
   */
  drain(): void {
    this.draining = true;
  }

  async stop(handBack: boolean): Promise<void> {
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    clearTimeout(this.wakeTimer);
    this.pacer.cancel(true);
    this.pumps.stop(); // an explicit assignment waiting for its turn answers false
    this.commits.dropAll(); // the workers re-send them
    if (handBack) {
      // Deliver what is decided (acks, terminal news) before going; a crash would not.
      this.toWorkers.flushAll();
      this.toCoordinator.flushAll();
    }
    this.toWorkers.close();
    this.toCoordinator.close();
    if (handBack) await this.lease.release();
  }

  // --- inbound -------------------------------------------------------------------------------

  /**
   * Tasks a coordinator placed here (it has already recorded the assignment in Redis); `from`,
   * the coordinator that placed them, is told of their end.
   */
  onAssign(tasks: TaskDict[], from?: string): void {
    const elsewhere = from !== undefined && from !== this.o.coordinatorId;
    for (const task of tasks) {
      // Held already: adopted from the store before this message came (reconcile reads in no order).
      // Still queued, it takes its place in the message's order; its end goes to `from` all the same.
      const adopted = this.held.has(task.task_id);
      if (!adopted && task.status === "in_progress") {
        // Running already: adopted from its record, not queued (./adopt-record.ts).
        adoptAssigned(this.o.ledger, task.task_id, (r) => this.adopt(r, elsewhere ? from : undefined, true));
        continue;
      }
      if (elsewhere) this.placedBy.set(task.task_id, from);
      if (adopted) this.queue.toBack(task.task_id);
      else {
        this.held.take(task);
        this.queue.push(task);
      }
    }
    this.schedulePump();
  }

  onWorkerRegister(workerId: string, url: string | null | undefined, capacity?: number): WorkerEntry {
    const entry = this.registry.upsert(workerId, { url, capacity, status: "idle" });
    this.registry.registered(entry);
    entry.lastSeen = performance.now();
    this.schedulePump();
    return entry;
  }

  onWorkerHeartbeat(workerId: string, hb: WorkerHeartbeat): WorkerEntry {
    const entry = this.registry.heartbeat(workerId, hb);
    // Attempts it handed back without running them (it is stopping, or had no room): taken back
    // now, as a dead worker's are, not a heartbeat timeout later. Should the store fail,
    // reconcile adopts them from their records and the monitor takes them back.
    if (hb.returned !== undefined && this.lease.owns)
      void this.takeBackAll(this.registry.returned(entry, hb.returned)).catch(() => {});
    this.schedulePump();
    return entry;
  }

  /**
   * Commits a batch of outcomes from a worker — with every other worker's that came within a
   * batch linger, in one script call — and acknowledges them to it (riding on the next
   * execute_tasks when there is one soon). Stale outcomes are acknowledged too (the worker must
   * stop re-sending them) but not counted. Resolves with the acknowledgements.
   */
  onResults(workerId: string, results: AttemptOutcomeWire[]): Promise<ResultAck[]> {
    if (!this.lease.owns || this.stopping) return Promise.resolve([]); // the worker keeps them and tries again
    const acks = this.commits.add(workerId, results);
    // Their attempts hold no room on the worker now: the same paced turn dispatches to it.
    this.schedulePump();
    return acks;
  }

  /**
   * One paced turn: commit what results came, and dispatch to the room there is. Both start in
   * this tick, so their script calls leave in one socket write.
   */
  private work(): void {
    if (this.commits.waiting) void this.commits.commitPending();
    this.pumps.run();
  }

  private sendToWorker(workerId: string, items: WorkerItem[]): Promise<void> {
    // If this fails the attempts stay in flight, unconfirmed (the monitor takes them back; the worker
    // re-sends unacknowledged results). One no message can carry ends abandoned (./attempt-job.ts).
    return sendWorkerItems(
      items,
      (part) => this.o.send(workerId, workerPayload(part)),
      (item, why) => {
        if ("job" in item)
          void this.unsendable(workerId, item.job.task.task_id, `cannot be sent to ${workerId}: ${why}`);
      },
      this.registry.get(workerId)?.fetchesDependencies === true,
    ).catch(() => {});
  }

  private async unsendable(workerId: string, taskId: string, reason: string): Promise<void> {
    this.o.events?.unsendable?.(taskId, reason);
    this.registry.get(workerId)?.inFlight.delete(taskId);
    this.held.delete(taskId);
    if (await this.o.ledger.abandon(taskId, reason).catch(() => false)) this.stats.failed++;
  }

  // --- dispatch ------------------------------------------------------------------------------

  /**
   * Runs the pump soon: at once when it has not run for a batch linger, else one linger after
   * its last run — so a busy distributor dispatches in batches (fewer script calls, fewer
   * messages) and an idle one without delay. One pass at a time (./pump-passes.ts).
   */
  schedulePump(): void {
    if (!this.stopping) this.pumps.want();
  }

  private async pump(): Promise<void> {
    if (!this.lease.owns || this.stopping || this.draining) return;
    const workers = this.registry.alive().filter((w) => this.registry.free(w) > 0);
    const room = workers.reduce((sum, w) => sum + this.registry.free(w), 0);
    if (room === 0) this.handBacks?.ifEveryWorkerDied(this.registry);
    if (room === 0 || this.queue.size === 0) return this.armWakeUp();
    // Spread over the workers that run each task's type, one slot at a time (./dispatch-plan.ts);
    // a task whose type only busy workers run keeps its place in the queue.
    const planner = new DispatchPlanner(workers, this.registry, this.handBacks);
    this.queue.take(room, Date.now(), (task, place) => planner.add(task, place));
    await this.limits.dispatch(planner.plan);
    this.armWakeUp();
  }

  private armWakeUp(): void {
    clearTimeout(this.wakeTimer);
    const next = this.queue.nextWakeUp();
    if (next === null) return;
    this.wakeTimer = setTimeout(() => this.schedulePump(), timerDelay(Math.max(1, next - Date.now())));
    this.wakeTimer.unref();
  }

  /** The seed's explicit path: run this task on this worker now (recording it first if need be). */
  async assignTaskToWorker(task: TaskDict, workerId: string): Promise<boolean> {
    if (!this.lease.owns && !(await this.keepLease())) return false;
    const record = await this.o.ledger.get(task.task_id);
    if (record === null) {
      await this.o.ledger.submit({
        taskId: task.task_id,
        taskType: task.task_type,
        payload: task.payload,
        createdAt: task.created_at,
        maxRetries: 0,
        backoffMs: 0,
      });
    }
    if (record === null || record.distributor !== this.id) await this.o.ledger.assign(task.task_id, this.id);
    const worker =
      this.registry.get(workerId) ?? this.onWorkerRegister(workerId, null, this.o.defaultWorkerCapacity);
    const current = (await this.o.ledger.get(task.task_id))?.task ?? task;
    // In a turn of the pump's (./pump-passes.ts): not while a pass has this task out to the store.
    return this.pumps
      .alone(async () => {
        this.queue.delete(task.task_id);
        for (const w of this.registry.all()) w.inFlight.delete(task.task_id);
        this.held.take(current);
        worker.inFlight.set(task.task_id, { fence: -1, dispatchedAt: performance.now(), confirmed: false });
        // No place in the queue: a failed dispatch puts it at the front of its lane.
        await this.starts.dispatch([{ task: current, worker, place: undefined }]);
        return (worker.inFlight.get(task.task_id)?.fence ?? -1) > 0;
      })
      .catch((e: unknown) => {
        if (e instanceof TriadError && e.code === "ERR_SHUTTING_DOWN") return false;
        throw e;
      });
  }

  // --- failure detection and recovery --------------------------------------------------------

  /** One monitor tick: workers silent past the timeout are dead and their attempts come back. */
  async monitorWorkers(): Promise<void> {
    const stalled = this.stall.tick();
    if (stalled > 0) this.registry.credit(stalled);
    if (!this.lease.owns) return;
    for (const worker of this.registry.expire(this.o.timing.heartbeatTimeoutMs)) {
      this.stats.workersDead++;
      this.o.events?.workerDead?.(worker.id, worker.inFlight.size);
    }
    const back = this.registry.lost(this.o.timing.heartbeatTimeoutMs);
    this.registry.prune(this.o.timing.deadRetentionMs);
    await this.takeBackAll(back);
  }

  /** Attempts no worker holds any more, taken back (requeued under their fence) and dispatched again. */
  private async takeBackAll(back: AttemptBack[]): Promise<void> {
    if (back.length === 0) return;
    await Promise.all(back.map(({ taskId, fence }) => this.takeBack(taskId, fence)));
    this.schedulePump();
  }

  private async takeBack(taskId: string, fence: number): Promise<void> {
    if (fence > 0) await this.o.ledger.requeue(taskId, this.id, fence);
    this.limits.release(taskId, fence, this.held.get(taskId)?.task_type);
    const record = await this.o.ledger.get(taskId);
    this.stats.reassigned++;
    this.adopt(record);
  }

  /** Holds a task as its record says, if the record says it is ours and not finished (./adopt-record.ts). */
  private adopt(record: TaskRecord | null, placer?: string, pump = false): void {
    const room = { distributorId: this.id, held: this.held, queue: this.queue, registry: this.registry };
    adoptRecord(room, record);
    if (placer !== undefined && record && this.held.has(record.task.task_id))
      this.placedBy.set(record.task.task_id, placer);
    if (pump) this.schedulePump();
  }

  /**
   * Makes memory agree with Redis: adopts tasks recorded as ours, drops those moved away — not
   * those taken in while the read was out, which it may not show (they were recorded after it),
   * nor adopting those whose assignment came in the meantime.
   */
  async reconcile(): Promise<void> {
    if (!this.lease.owns) return;
    const read = await this.held.whileReading(() => this.o.ledger.distributorTaskIds(this.id));
    const ids = new Set(read.value);
    const taken = read.taken;
    for (const id of this.held.keys()) {
      if (ids.has(id) || taken.has(id)) continue;
      this.held.delete(id);
      this.queue.delete(id);
      for (const w of this.registry.all()) {
        const f = w.inFlight.get(id);
        if (f !== undefined && f.fence > 0) this.o.events?.attemptDropped?.(w.id, id, f.fence);
        w.inFlight.delete(id);
      }
    }
    // Tasks that left without an end reported here (moved away, waiting for input) leave no placer behind.
    for (const id of this.placedBy.keys()) if (!this.held.has(id)) this.placedBy.delete(id);
    this.handBacks?.prune((id) => this.held.has(id));
    const unknown = [...ids].filter((id) => !this.held.has(id));
    const records = await Promise.all(unknown.map((id) => this.o.ledger.get(id)));
    // One whose assignment came while its record was read is held, and maybe running, already:
    // adopted again, it would be queued again and run a second time.
    for (const record of inSubmissionOrder(records))
      if (record !== null && !this.held.has(record.task.task_id)) this.adopt(record);
    this.schedulePump();
  }

  heartbeat(url: string | null): DistributorHeartbeat {
    const busy = this.held.size > 0;
    return {
      kind: "distributor_status",
      status: this.lease.owns ? (busy ? "busy" : "idle") : "recovering",
      load: this.held.size,
      // Draining, it takes no new work: room reported would have the coordinator place tasks
      // here to wait, undispatched, until the stop ends and they are moved.
      capacity: this.draining ? 0 : this.capacity,
      url,
      owns_lease: this.lease.owns,
      workers: this.registry.summaries(),
      done: this.stats.completed + this.stats.failed,
    };
  }

  /** The dict of a task held here (queued or in flight), if any. */
  heldTask(taskId: string): TaskDict | undefined {
    return this.held.get(taskId);
  }

  /**
   * A held task's latest progress, so that its terminal dict shows it. The dict is replaced,
   * not changed: the one held was handed over to its worker with the attempt (and came from the
   * coordinator's assignment the same way).
   */
  progressed(taskId: string, progress: JsonValue): void {
    const task = this.held.get(taskId);
    if (task !== undefined) this.held.set(taskId, { ...task, progress });
  }

  /** In-flight and queued task dicts (for the shared state record). */
  heldTasks(limit: number): TaskDict[] {
    return this.held.first(limit);
  }
}
