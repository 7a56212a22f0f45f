import type { JsonValue } from "../../core/json.js";
import { isTerminalStatus } from "../../core/state/status.js";
import { type InputAnswer, InputKeeper } from "../input/input-keeper.js";
import type { NewTask, TaskRecord } from "../ledger/task-ledger.js";
import type { DistributorHeartbeat, TaskDict } from "../protocol.js";
import { ScheduleControls } from "../schedule-controls/schedule-controls.js";
import { delayUntil, inSubmissionOrder, scheduleKeysOf } from "../schedule-controls/task-schedule.js";
import { monitorStallWatch, type StallWatch } from "../stall-watch.js";
import { retryPolicyFor } from "../timing.js";
import { type CancelOutcome, spawnsUnrecorded, WorkflowKeeper } from "../workflow/workflow-keeper.js";
import { type ClusterSeam, SOLE } from "./cluster-seam.js";
import type { CoordinatorCoreOptions, CoordinatorStats } from "./coordinator-options.js";
import { DeadDistributors } from "./dead-distributors.js";
import { DistributorDirectory, type DistributorEntry } from "./distributor-directory.js";
import { DistributorRoster } from "./distributor-roster.js";
import { Placement } from "./placement.js";
import { backoffOf } from "./reassignments.js";
import { TaskEnds } from "./task-ends.js";
import { catchUpWaiters } from "./task-waiters.js";
import { type HandBackAnswer, TypeHandBack } from "./type-hand-back.js";
import { UnplacedSweep } from "./unplaced-sweep.js";

export type { CoordinatorCoreOptions, CoordinatorStats } from "./coordinator-options.js";

/**
 * The coordinator's engine, free of transport: records tasks before it says yes, places them
 * on the least-loaded healthy distributor, moves the tasks of a distributor that goes silent,
 * abandons what cannot be placed in time, and tells waiters when a task is finished.
 */
export class CoordinatorCore {
  readonly directory = new DistributorDirectory();
  readonly stats: CoordinatorStats = {
    submitted: 0,
    duplicates: 0,
    completed: 0,
    failed: 0,
    abandoned: 0,
    reassigned: 0,
    distributorsDead: 0,
  };
  /** Accepted tasks on their way to a distributor, and those waiting for one (placement.ts). */
  private readonly placement: Placement;
  /** What it knows of task ends: open tasks and where, recent finished ones, waiters (task-ends.ts). */
  private readonly ends: TaskEnds;
  private timer: NodeJS.Timeout | undefined;
  /** Dependencies and spawned tasks (src/agents/workflow/). */
  readonly workflow: WorkflowKeeper;
  /** Human input: giving it, and the waits that run out (src/agents/input/). */
  readonly input: InputKeeper;
  /** run_at and expires_at: the due sweep (src/agents/schedule-controls/). */
  readonly schedule: ScheduleControls;
  private readonly cluster: ClusterSeam;
  private readonly roster: DistributorRoster;
  /** Tasks a distributor hands back, none of its live workers running their type (type-hand-back.ts). */
  private readonly handBacks: TypeHandBack;
  /** Open tasks on no distributor that nothing will place (a lost step): found and placed (unplaced-sweep.ts). */
  readonly unplacedSweep: UnplacedSweep;
  private stopped = false;
  /** Dead distributors' tasks, moved off them (dead-distributors.ts). */
  private readonly dead: DeadDistributors;
  /** The monitor's own stalls, credited to the distributors' silence and the placement deadlines. */
  private stall: StallWatch | undefined;

  constructor(private readonly o: CoordinatorCoreOptions) {
    this.cluster = o.cluster ?? SOLE;
    this.ends = new TaskEnds({
      ...o,
      cluster: this.cluster,
      directory: this.directory,
      stats: this.stats,
      workflow: () => this.workflow,
      stopped: () => this.stopped,
    });
    // A distributor whose workers of a type died is that type's runner as long as it remembers them.
    this.directory.rememberRunnersMs = () => o.timing.deadRetentionMs;
    this.roster = new DistributorRoster({ ...o, directory: this.directory });
    // Kept in the store on each change, for a coordinator that starts while a type's only runner is dead.
    this.directory.typesChanged = (id, types) => void this.roster.saveTypes(id, types).catch(() => {});
    this.schedule = new ScheduleControls({
      store: o.store,
      ledger: o.ledger,
      place: (task) => this.placement.later(task, true),
      expired: (task) => {
        this.placement.drop(task.task_id);
        this.ends.finished(task);
      },
    });
    this.input = new InputKeeper({
      store: o.store,
      ledger: o.ledger,
      place: (task) => this.placement.later(task, true),
      ended: (task) => this.ends.finished(task),
    });
    this.workflow = new WorkflowKeeper({
      ledger: o.ledger,
      store: o.store,
      ready: (task, delayed) => (delayed ? this.schedule.arm(task) : this.placement.later(task, true)),
      ended: (task) => this.ends.finished(task),
      submit: (tasks) => this.submitEach(tasks),
      abandon: (taskId, reason) => this.abandon(taskId, reason),
      cascadeEnded: (record) => this.abandoned(record.task.task_id, record.task.error ?? "", record),
    });
    this.placement = new Placement({
      ledger: o.ledger,
      directory: this.directory,
      cluster: this.cluster,
      timing: o.timing,
      placementTimeoutMs: o.placementTimeoutMs,
      send: o.send,
      ...(o.url ? { url: o.url } : {}),
      holdsBack: (task) => this.schedule.holdsBack(task),
      lone: () => this.ends.knownOpen.size <= 1,
      sent: (taskId, distributorId) => this.ends.placedOn(taskId, distributorId),
      unsendable: (taskId, reason) => void this.unsendable(taskId, reason),
    });
    this.dead = new DeadDistributors({
      ledger: o.ledger,
      cluster: this.cluster,
      directory: this.directory,
      placement: this.placement,
      stats: this.stats,
      ...(o.events ? { events: o.events } : {}),
    });
    this.unplacedSweep = new UnplacedSweep({
      store: o.store,
      ledger: o.ledger,
      owned: () => this.cluster.owned(),
      held: (taskId) => this.placement.has(taskId),
      adopt: (taskId) => this.adoptIfUnplaced(taskId),
      found: (taskIds) => this.o.events?.unplacedFound?.(taskIds),
    });
    this.handBacks = new TypeHandBack({
      ...o,
      directory: this.directory,
      cluster: this.cluster,
      moved: (task, to) => {
        this.ends.placedOn(task.task_id, to);
        this.placement.send(to, task);
      },
    });
  }

  start(): void {
    this.stopped = false;
    this.stall ??= monitorStallWatch(this.o.timing);
    this.stall.reset();
    this.timer ??= setInterval(() => {
      void this.monitorDistributors().catch(() => {});
    }, this.o.timing.monitorIntervalMs).unref();
    this.schedule.start();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    this.placement.close();
    this.handBacks.close();
    this.schedule.stop();
    this.ends.waiters.closeAll();
  }

  /**
   * After a restart, or on becoming the owner of `shards` (all when unset): distributors from the
   * registry (given one timeout to speak), then the shards' open tasks: unplaced ones, and those
   * of a distributor already declared dead, are placed; the rest are watched.
   */
  async restore(shards?: number[]): Promise<void> {
    await this.roster.restore();
    const ids = await this.o.ledger.openTaskIds(shards);
    const records = await this.o.ledger.getMany(ids);
    for (const record of inSubmissionOrder(records)) {
      if (record === null || isTerminalStatus(record.task.status)) continue;
      this.ends.rememberOpen(record.task.task_id, record.distributor);
      const holder = record.distributor === null ? undefined : this.directory.get(record.distributor);
      if (record.distributor !== null && holder !== undefined && holder.status !== "dead") continue;
      if (record.task.waiting_on?.length || this.placement.has(record.task.task_id)) continue;
      if (record.task.status === "input_required") continue; // placed again once given input
      if (this.schedule.heldInStore(record)) continue; // in the delayed index: the due sweep places it
      if (record.distributor !== null && holder === undefined) this.directory.unheard(record.distributor);
      else
        this.placement.hold(record.task, this.o.timing.heartbeatTimeoutMs, {
          from: record.distributor, // null: seen on no distributor (fresh)
          notBefore: backoffOf(record),
        });
    }
    this.placement.schedule();
    if (shards === undefined) await this.workflow.rewatchWaiting().catch(() => {});
  }

  // --- accepting work ----------------------------------------------------------------------

  /**
   * Records the task in Redis, placed on the least-loaded healthy distributor in the same step
   * (unplaced when there is none yet), then tells that distributor. True once it is recorded;
   * false when the id was already known (nothing recorded: the task id is the idempotency key).
   */
  submit(task: TaskDict): Promise<boolean> {
    // A task with dependencies is recorded waiting, on no distributor: placed once they end.
    // So is a task whose run_at is ahead: the due sweep places it then.
    let record: NewTask;
    let recording: Promise<boolean>;
    let to: DistributorEntry | undefined;
    try {
      record = this.newTask(task);
      to =
        task.depends_on?.length || record.delayUntil ? undefined : this.directory.leastLoaded(task.task_type);
      recording = this.o.ledger.submit(record, to?.id ?? "");
    } catch (err) {
      this.o.events?.notRecorded?.(task);
      return Promise.reject(err);
    }
    if (to !== undefined) to.placedSinceHeartbeat++;
    return recording.then(
      (created) => this.recorded(task, to, created, record.delayUntil ?? null),
      (err: unknown) => {
        if (to !== undefined) to.placedSinceHeartbeat--;
        this.o.events?.notRecorded?.(task);
        throw err;
      },
    );
  }

  /** `delayedUntil`: when the submit recorded it delayed until (in the store's delayed index), else null. */
  private recorded(
    task: TaskDict,
    to: DistributorEntry | undefined,
    created: boolean,
    delayedUntil: number | null,
  ) {
    if (!created) {
      if (to !== undefined) to.placedSinceHeartbeat--;
      this.stats.duplicates++;
      this.o.events?.notRecorded?.(task);
      if (!this.ends.knownOpen.has(task.task_id)) void this.adoptIfUnplaced(task.task_id).catch(() => {});
      return false;
    }
    this.stats.submitted++;
    // An id whose earlier task's record is gone (retention; memory://'s bound) is a new task now.
    this.ends.recent.delete(task.task_id);
    this.o.events?.submitted?.(task);
    this.ends.rememberOpen(task.task_id, to?.id ?? null);
    this.cluster.accepted(task.task_id);
    if (task.expires_at !== undefined) this.schedule.recorded(task);
    // Answered once registered on its dependencies: waiting_on then lists only the open ones.
    if (task.depends_on?.length) return this.workflow.watch(task).then(() => true);
    if (to !== undefined) this.placement.send(to.id, task);
    // As the submit recorded it: delayed, the due sweep places it; else now, whatever our clock
    // says of its run_at by now.
    else if (delayedUntil !== null) this.schedule.arm(task);
    else this.placement.later(task, true);
    return true;
  }

  /**
   * A task sent again that this coordinator does not know open: its first submission may have
   * been recorded with no distributor while its reply was lost (a store failing over), and
   * nobody would place it. If the ledger says so, it is placed now like any unplaced task.
   */
  async adoptIfUnplaced(taskId: string): Promise<void> {
    if (this.cluster.ownerValue(taskId) === null) return;
    const record = await this.o.ledger.get(taskId);
    if (record === null || record.distributor !== null || record.task.status !== "pending") return;
    if (record.task.waiting_on?.length || this.schedule.heldInStore(record)) return;
    if (this.placement.has(taskId)) return;
    this.ends.rememberOpen(taskId, null);
    this.placement.hold(record.task, 0, { fresh: true });
    this.placement.schedule();
  }

  /** Many submits at once: one script call per shard records them all. */
  submitMany(tasks: TaskDict[]): Promise<boolean[]> {
    return Promise.all(tasks.map((task) => this.submit(task)));
  }

  /**
   * submitMany, each task told on its own: a shard's script call can fail while the others
   * record their tasks (a Redis Cluster master lost), so a batch may be recorded in part.
   */
  submitEach(tasks: TaskDict[]): Promise<PromiseSettledResult<boolean>[]> {
    return Promise.allSettled(tasks.map((task) => this.submit(task)));
  }

  private newTask(task: TaskDict): NewTask {
    const policy = retryPolicyFor(this.o.retry, task.task_type);
    const scheduled =
      task.priority !== undefined || task.run_at !== undefined || task.expires_at !== undefined;
    // One plain literal, what is absent left undefined: every task's record has one shape, and
    // no spread makes a temporary object per key (this is on every submit's path).
    return {
      taskId: task.task_id,
      taskType: task.task_type,
      payload: task.payload,
      createdAt: task.created_at,
      maxRetries: policy.maxRetries,
      backoffMs: policy.backoffMs,
      dependsOn: task.depends_on?.length ? task.depends_on : undefined,
      onDependencyFailure: task.on_dependency_failure || undefined,
      parentId: task.parent_id || undefined,
      inputTimeoutMs: task.input_timeout_ms,
      schedule: scheduled ? scheduleKeysOf(task) : undefined,
      delayUntil: scheduled ? delayUntil(task) : undefined,
    };
  }

  /** The seed's explicit path: place this task on this distributor. */
  async assignTaskToDistributor(task: TaskDict, distributorId: string): Promise<boolean> {
    let created: boolean;
    try {
      created = await this.o.ledger.submit(this.newTask(task));
    } catch (err) {
      this.o.events?.notRecorded?.(task);
      throw err;
    }
    if (created) {
      this.stats.submitted++;
      this.o.events?.submitted?.(task);
      this.ends.rememberOpen(task.task_id);
    } else this.o.events?.notRecorded?.(task);
    this.placement.drop(task.task_id);
    const assigned = await this.o.ledger.assign(task.task_id, distributorId);
    if (!assigned) return false;
    this.directory.upsert(distributorId, undefined).placedSinceHeartbeat++;
    this.ends.placedOn(task.task_id, distributorId);
    this.placement.send(distributorId, task);
    return true;
  }

  // --- what distributors tell us -------------------------------------------------------------

  /** A registration (`limit`: the body limit it stated); null: a heartbeat of one listed dead, no registration. */
  async onRegister(distributorId: string, url: string | null, limit?: number | null): Promise<void> {
    if (limit !== null) this.directory.registered(distributorId, url, limit);
    await this.roster.add(distributorId, url);
    this.placement.schedule();
  }

  onHeartbeat(distributorId: string, hb: DistributorHeartbeat, sentAt?: number): void {
    const isNew = (this.directory.get(distributorId)?.status ?? "dead") === "dead"; // or back from the dead
    if (this.directory.heartbeat(distributorId, hb, sentAt) === undefined) return; // older than one taken
    if (isNew) void this.onRegister(distributorId, hb.url, null).catch(() => {});
    if (hb.stopping === true) void this.roster.stopped(distributorId, hb.url).catch(() => {}); // for every coordinator
    if (this.placement.size > 0) this.placement.schedule();
    this.handBacks.heard();
  }

  /** Distributors were heard of through another coordinator's view: hand-back answers that wait try again. */
  heardElsewhere(): void {
    this.handBacks.heard();
  }

  /** Moves `from`'s tasks that another distributor runs (type-hand-back.ts); resolves with their ids. */
  handBack(from: string, tasks: TaskDict[]): Promise<HandBackAnswer> {
    return this.handBacks.answer(from, tasks);
  }

  /**
   * Gives input to a task waiting for it (input_required): the first answer to a request wins,
   * and the task runs again on any worker with ctx.inputs / the graph resumed. Refuses a value
   * that is not JSON (ERR_INVALID_INPUT).
   */
  async provideInput(taskId: string, value: JsonValue, question?: number): Promise<InputAnswer> {
    const answer = await this.input.provide(taskId, value, question);
    if (answer.given) this.o.events?.inputGiven?.(taskId, value);
    return answer;
  }

  /**
   * Ends an open task `abandoned` with `reason`. The ledger moves the task's fence in the same
   * step, so the result of an attempt still running is refused when it comes (the handler itself
   * runs on: execution is at-least-once, and a canceled attempt may have run). Resolves with the
   * task's record afterwards (CancelOutcome); null for a task the ledger does not know. A task
   * already finished is left as it is (its open spawned tasks are not).
   */
  async cancel(taskId: string, reason: string): Promise<CancelOutcome | null> {
    // Marked first, in the store: should this process die before the cascade below is done,
    // the next tick (any coordinator's) ends this task and walks on from it.
    const marked = await this.workflow.markCanceled(taskId, reason);
    let canceled = await this.abandon(taskId, reason);
    // Its open spawned tasks end too, even when it had already finished; its dependents only if
    // this cancel ended it (cascade-walk-1.lua).
    const below = (await this.workflow.cascadeCancel(taskId, reason)).filter((id) => id !== taskId).length;
    const task = await this.getTask(taskId);
    if (task === null) return null;
    // A cascade sweep (any coordinator's tick) may have ended it between the mark and the abandon,
    // with the mark's reason: this call's mark, so this call canceled it all the same.
    if (!canceled && marked && task.status === "abandoned" && task.error === reason) canceled = true;
    return { canceled, task, below };
  }

  /**
   * Tasks that distributor `from` reports finished, taken only from the distributor that holds
   * each (TaskEnds.onTerminal).
   */
  onTerminal(from: string, tasks: TaskDict[], spawns?: string[]): void {
    this.ends.onTerminal(from, tasks, spawns);
  }

  /** Tasks another coordinator saw end: those waited for or held open here are read and answered. */
  endedElsewhere(taskIds: string[]): Promise<void> {
    return this.ends.endedElsewhere(taskIds);
  }

  // --- reading ---------------------------------------------------------------------------

  getTask(taskId: string): Promise<TaskDict | null> {
    return this.ends.getTask(taskId);
  }

  /** The task as the ledger has it (null when unknown), a parent's end shown only once its spawned tasks exist. */
  readTask(taskId: string): Promise<TaskDict | null> {
    return this.ends.readTask(taskId);
  }

  recentTasks(): TaskDict[] {
    return this.ends.recentTasks();
  }

  /** Resolves with the terminal task dict, or null when `timeoutMs` passes first (TaskEnds.waitForTask). */
  waitForTask(taskId: string, timeoutMs = 30_000): Promise<TaskDict | null> {
    return this.ends.waitForTask(taskId, timeoutMs);
  }

  // --- failure detection ---------------------------------------------------------------------

  /** One monitor tick: dead distributors' tasks move, unplaceable tasks end, waiters catch up. */
  async monitorDistributors(): Promise<void> {
    const stalled = this.stall?.tick() ?? 0;
    if (stalled > 0) {
      this.directory.credit(stalled);
      this.placement.credit(stalled);
    }
    for (const dead of this.directory.expire(this.o.timing.heartbeatTimeoutMs)) {
      this.stats.distributorsDead++;
      this.dead.declared(dead.id);
    }
    await this.dead.tick();
    const now = performance.now();
    for (const { task, fresh, from } of this.placement.expiredTasks(now)) {
      const id = task.task_id;
      const owner = this.cluster.ownerValue(id);
      if (owner === null) {
        this.cluster.handOff(id); // its shard's owner decides (a lapsed renewal: this one again)
        continue;
      }
      const reason = `no healthy distributor could take the task within ${this.o.placementTimeoutMs} ms`;
      // An abandon the store failed (it may not have run) leaves the task held, not lost: it was
      // out of the placement set already, pending on no distributor, and nothing placed it again
      // (nor tried the expired tasks after it, this tick).
      await this.abandon(id, reason, owner).catch(() => this.placement.hold(task, 0, { fresh, from }));
    }
    if (this.placement.size > 0) this.placement.schedule();
    await this.roster.saveUnsaved().catch(() => {});
    await this.roster.forgetLongDead().catch(() => {});
    await this.roster.tick().catch(() => {});
    await this.workflow.tick().catch(() => {});
    await this.input.tick().catch(() => {});
    await this.unplacedSweep.tick().catch(() => {});
    await catchUpWaiters(now, {
      waiters: this.ends.waiters,
      ledger: this.o.ledger,
      timing: this.o.timing,
      alone: () => this.cluster.alone(),
      finished: (record, here) => this.ends.finished(record.task, here, spawnsUnrecorded(record)),
    });
  }

  /** Moves a dead distributor's open tasks owned here (see DeadDistributors.moveOff). */
  moveOff(deadId: string, declared = false): Promise<number[]> {
    return this.dead.moveOff(deadId, declared);
  }

  private async unsendable(taskId: string, reason: string): Promise<void> {
    this.o.events?.unsendable?.(taskId, reason);
    await this.abandon(taskId, reason).catch(() => {});
  }

  /** Ends an open task abandoned (one ledger step, its fence moved on) and says so: true if it did. */
  private async abandon(taskId: string, reason: string, owner = ""): Promise<boolean> {
    if (!(await this.o.ledger.abandon(taskId, reason, owner))) return false;
    this.abandoned(taskId, reason, await this.o.ledger.get(taskId));
    return true;
  }

  /** An open task ended abandoned in the store (here, or by a cancel cascade's walk): says so. */
  private abandoned(taskId: string, reason: string, record: TaskRecord | null): void {
    this.placement.drop(taskId);
    this.o.events?.abandoned?.(taskId, reason);
    if (record) this.ends.finished(record.task, true, spawnsUnrecorded(record));
  }

  get waitingCount(): number {
    return this.ends.waiters.size;
  }

  get unplacedCount(): number {
    return this.placement.size;
  }
}
