import { isStoreUnavailable } from "../../core/errors.js";
import type { JsonObject } from "../../core/json.js";
import { isTerminalStatus } from "../../core/state/status.js";
import type { RedisClient } from "../../core/store/index.js";
import { DEFAULT_BACKOFF_MS, DEFAULT_MAX_RETRIES } from "../ledger/ledger-scripts.js";
import type { Notice, TaskLedger, TaskRecord } from "../ledger/task-ledger.js";
import type { TaskDict } from "../protocol.js";
import { type CascadeItem, CascadeLedger } from "./cascade-ledger.js";

export type WorkflowKeeperOptions = {
  ledger: TaskLedger;
  /** The ledger's store (the cancel cascade's frontier lives next to the records). */
  store: RedisClient;
  /**
   * A waiting task's last dependency ended: place it like any new task, whatever its run_at
   * (the store took it out of the delayed index); `delayed`: its run_at is still ahead and it
   * stays in that index, for the due sweep to place.
   */
  ready: (task: TaskDict, delayed: boolean) => void;
  /** A task ended here (abandoned by a dependency): tell waiters. */
  ended: (task: TaskDict) => void;
  /**
   * Records spawned tasks as submitted tasks (idempotent by id), each told on its own: true
   * recorded now, false the id existed already.
   */
  submit: (tasks: TaskDict[]) => Promise<PromiseSettledResult<boolean>[]>;
  /** Ends an open task abandoned with `reason`; true if this call ended it. */
  abandon: (taskId: string, reason: string) => Promise<boolean>;
  /** A cancel cascade's walk ended this open task abandoned (in the store already): tell waiters. */
  cascadeEnded?: (record: TaskRecord) => void;
  /** Spawned tasks that cannot be recorded as asked (malformed, or nested too deep), with the reason. */
  refusedSpawn?: (parentId: string, reason: string) => void;
};

/**
 * Spawn nesting at most: a spawned task's chain of parents is at most this long. The tasks a
 * task this deep spawns are recorded abandoned (a handler that spawns itself would otherwise
 * make tasks for ever).
 */
export const MAX_SPAWN_DEPTH = 32;

/**
 * What a cancel did: the task's record afterwards, whether this call ended it, and how many open
 * tasks below it (its spawned tasks and theirs, its dependents if it ended) this call ended —
 * a task already finished is not canceled, but its open spawned tasks are.
 */
export type CancelOutcome = { canceled: boolean; task: TaskDict; below: number };

/** Monitor ticks between the starts of two passes that re-register every waiting task. */
const REWATCH_EVERY_TICKS = 20;
/**
 * Waiting tasks one monitor tick re-registers at most: a pass over a large backlog of waiting
 * tasks is walked in slices, so that no tick reads every record at once (100,000 waiting tasks
 * took one tick half a second and 300 MB) and the cost per tick stays the same whatever waits.
 */
const REWATCH_BATCH = 1_000;
/** Times a registration that finds no dependency asks again (100, 200, 300 ms apart). */
const UNKNOWN_RETRIES = 3;
/** Tasks one cancel call walks itself at most; the rest of its cascade is left on the frontier, for the ticks. */
const CASCADE_LIMIT = 10_000;
/** Tasks one script call of a cascade walk visits at most (each call stays short in the store). */
const CASCADE_CALL = 500;
/** Frontier ids a monitor tick takes per shard (it walks on from them, up to CASCADE_LIMIT tasks). */
const CASCADE_BATCH = 500;

/**
 * The coordinator's side of workflows (SPEC "Workflows"). A dependency and its dependent may
 * live in different shards, so "A ended, D may run" is never one script: each waiting task
 * registers on each dependency (watch), a task that ends with dependents or spawned tasks is
 * listed in its shard's `ended` set by the very script that ends it, and this keeper settles
 * those: records the spawned tasks (ids fixed, so again is harmless), sends each dependent a
 * notice that its shard applies idempotently, then takes the task off `ended`. A crash
 * anywhere leaves the task listed, and the next sweep does it all again (DESIGN.md).
 */
export class WorkflowKeeper {
  /** Set once workflows are in use here: only then does each task end trigger a sweep. */
  private active = false;
  /** Settles under way in this process, by task id (a sweep's, or settleNow's: one at a time per task). */
  private readonly settling = new Map<string, Promise<void>>();
  private sweeping: Promise<void> | null = null;
  private sweepAgain = false;
  private ticks = 0;
  /** The current pass's waiting ids, walked REWATCH_BATCH per tick from `rewatchNext`. */
  private rewatchPass: string[] = [];
  private rewatchNext = 0;
  /** A pass is due at the next tick: none ran yet (rewatchWaiting runs one at start), or one failed. */
  private rewatchDue = true;
  /** Tasks whose registration failed here: registered again at the next tick, ahead of the pass. */
  private readonly retryWatch = new Set<string>();
  /**
   * Dependents whose notice failed here. The store may have applied it and only its answer was
   * lost (a reply later than the store's command timeout, on a loaded host): the notice made the
   * dependent ready, and a repeat answers "unchanged", so nobody would place it and it would
   * stay pending for ever. The next tick reads each and places one that waits for nothing.
   */
  private readonly lostNotices = new Set<string>();
  private readonly cascade: CascadeLedger;
  /** Tasks one walk visits at most (CASCADE_LIMIT; a test sets fewer to cut a cascade). */
  private cascadeLimit = CASCADE_LIMIT;

  constructor(private readonly o: WorkflowKeeperOptions) {
    this.cascade = new CascadeLedger(o.store, o.ledger);
  }

  /**
   * A task with dependencies was recorded: register it on each (and act on those already ended).
   * Resolves once that is done — its waiting_on then lists only its open dependencies, which is
   * what its submit answers — or failed (never rejects: it is registered again at the next tick).
   */
  watch(task: TaskDict): Promise<void> {
    this.active = true;
    return this.watchAll(task.task_id, task.depends_on ?? []).catch(() => {
      this.retryWatch.add(task.task_id);
    });
  }

  private async watchAll(taskId: string, deps: string[]): Promise<void> {
    const answers = await Promise.all(deps.map((dep) => this.watchOne(dep, taskId)));
    await Promise.all(
      answers.map((status, i) => (status === "" ? undefined : this.notify(taskId, deps[i]!, status))),
    );
  }

  /**
   * One registration. A dependency of the same batch is recorded by another script call (another
   * shard), which may not have run yet when this one does: "unknown" is asked again a few times
   * before it is taken as the dependency's end (its record expired, or it never existed).
   */
  private async watchOne(dependency: string, dependent: string): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      const status = await this.o.ledger.watchDependency(dependency, dependent);
      if (status !== "unknown" || attempt === UNKNOWN_RETRIES) return status;
      await new Promise((r) => setTimeout(r, 100 * (attempt + 1)));
    }
  }

  private async notify(dependent: string, dependency: string, status: string): Promise<void> {
    let notice: Notice;
    try {
      notice = await this.o.ledger.notifyDependencyEnded(dependent, dependency, status);
    } catch (err) {
      // The notice may have been applied with its answer lost (no reply in time): see lostNotices.
      this.lostNotices.add(dependent);
      throw err;
    }
    const { verdict, record } = notice;
    if (record === null) return;
    if (verdict === "ready" || verdict === "delayed") this.o.ready(record.task, verdict === "delayed");
    else if (verdict === "abandoned") {
      this.o.ended(record.task);
      this.sweepSoon();
    }
  }

  /** A task ended: if workflows are in use, settle what ended (one read of each shard's `ended`). */
  taskEnded(): void {
    if (this.active) this.sweepSoon();
  }

  private sweepSoon(): void {
    if (this.sweeping !== null) {
      this.sweepAgain = true;
      return;
    }
    this.sweeping = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.sweep())
      .catch(() => {})
      .finally(() => {
        this.sweeping = null;
        if (this.sweepAgain) {
          this.sweepAgain = false;
          this.sweepSoon();
        }
      });
  }

  /**
   * Starts settling every task listed in `ended` (on every shard) that is not being settled
   * already. It does not wait for them: the next sweep may start at once, so a task that ends
   * while a big batch is being settled is not held behind it. A settle that fails leaves its
   * task listed, for a later sweep.
   */
  private async sweep(): Promise<void> {
    const ids = (await this.o.ledger.endedTaskIds()).filter((id) => !this.settling.has(id));
    if (ids.length > 0) this.active = true;
    for (const id of ids) void this.settle(id).catch(() => {});
  }

  /**
   * Settles `taskId` now, or waits for the settle of it already under way here (a sweep's):
   * resolves once the tasks its committed attempt spawned are recorded (and its after-end work
   * is done), rejects if that failed (it stays in `ended`, for a later sweep or call). The
   * coordinator calls it before it shows the end of a task whose record still carries a `spawn`
   * list: a spawned task exists before anyone is told that its parent ended (SPEC "Workflows").
   * Again after the settle is harmless (notices are idempotent; settle-ended answers 0).
   */
  settleNow(taskId: string): Promise<void> {
    this.active = true;
    return this.settle(taskId);
  }

  /**
   * settleNow, tried again 50 ms to 2 s apart while it fails (the store), until it succeeds
   * (true) or `givenUp()` (false); the task stays in `ended` meanwhile, as after any failed
   * settle. What the coordinator waits for before it shows the end of a task that spawned.
   */
  async settledBeforeShown(taskId: string, givenUp: () => boolean): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.settleNow(taskId);
        return true;
      } catch {
        if (givenUp()) return false;
        await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** attempt, 2_000)).unref());
        if (givenUp()) return false;
      }
    }
  }

  /**
   * The task as the ledger has it (null when unknown). One that ended with spawned tasks not
   * recorded yet has them recorded first (settleNow), so that a reader never sees a parent ended
   * while its spawned tasks do not exist; rejects if that fails (the store). Any other task costs
   * this one read.
   */
  async readSettled(taskId: string): Promise<TaskDict | null> {
    const record = await this.o.ledger.get(taskId);
    if (record === null) return null;
    if (spawnsUnrecorded(record)) await this.settleNow(taskId);
    return record.task;
  }

  private settle(taskId: string): Promise<void> {
    const running = this.settling.get(taskId);
    if (running !== undefined) return running;
    const settled = this.settleOnce(taskId).finally(() => this.settling.delete(taskId));
    this.settling.set(taskId, settled);
    return settled;
  }

  private async settleOnce(taskId: string): Promise<void> {
    const ended = await this.o.ledger.endedTask(taskId);
    let spawned: string[] | null = null;
    // Only a task with spawned tasks to record, or one a cancel may have ended, is read whole
    // (recordSpawned needs its record; endedByCancel its error and mark).
    const whole = ended.spawns || (ended.canceled && ended.status === "abandoned");
    const record = whole ? await this.o.ledger.get(taskId) : null;
    if (record?.spawnJson) {
      spawned = await this.recordSpawned(record, record.spawnJson);
      // Its spawned tasks exist now. A cancel whose cascade passed this task before they did
      // marked it: it goes back on the frontier, and the walk reaches them (before the settle
      // below, so a crash in between leaves it listed in both places).
      if (await this.cascade.again(taskId)) void this.walk([taskId]).catch(() => {});
    }
    const status = ended.status ?? "unknown";
    // A task a cancel ended sends no notices: its cascade step marks and ends every dependent
    // (a notice would make a dependent that says "run" ready). A task that ended otherwise
    // (completed, failed, abandoned for another reason) sends them even if a cancel reached it
    // later: that cancel leaves its dependents alone (cascade-walk-1.lua), and they hear of its end here.
    const canceled = record !== null && endedByCancel(record);
    if (!canceled) await Promise.all(ended.dependents.map((d) => this.notify(d, taskId, status)));
    await this.o.ledger.settleEnded(taskId, spawned);
  }

  /**
   * Records the tasks `parent`'s committed attempt spawned (ids fixed: again is harmless). A
   * parent canceled meanwhile, or nested MAX_SPAWN_DEPTH deep, gets them recorded abandoned
   * with the reason, never placed. Returns the ids of its children: those whose record names
   * it as parent (recorded now, or by an earlier settle that a crash cut). An id that existed
   * already as another task (a handler may name any id) recorded nothing: it is not a child,
   * is left as it is, and is not listed.
   */
  private async recordSpawned(parent: TaskRecord, json: string): Promise<string[]> {
    const parentId = parent.task.task_id;
    let tasks: TaskDict[];
    try {
      tasks = (JSON.parse(json) as JsonObject[]).map((t) => t as unknown as TaskDict);
    } catch (err) {
      this.o.refusedSpawn?.(parentId, `spawned tasks are not JSON: ${(err as Error).message}`);
      return [];
    }
    let reason: string | null = null;
    if (parent.canceled !== undefined) reason = `parent ${parentId} canceled`;
    else if ((await this.nesting(parent)) >= MAX_SPAWN_DEPTH) {
      reason = `spawn nesting over ${MAX_SPAWN_DEPTH} levels: parent ${parentId} is ${MAX_SPAWN_DEPTH} spawns deep already`;
      this.o.refusedSpawn?.(parentId, reason);
    }
    if (reason === null) {
      const answers = await this.o.submit(tasks);
      // A child the store could not record now is recorded by the next settle (its id is fixed;
      // those recorded now answer "existed" then): the parent stays in `ended` with its list,
      // and is not shown ended before it exists (CoordinatorCore.finished). Settled now, the list
      // would be gone and the child never recorded.
      const lost = answers.find((a) => a.status === "rejected" && isStoreUnavailable(a.reason));
      if (lost !== undefined) throw (lost as PromiseRejectedResult).reason;
      return this.children(
        parentId,
        tasks.map((t) => t.task_id),
        answers.map((a) => (a.status === "fulfilled" ? a.value : null)),
      );
    }
    return this.recordAbandoned(parentId, tasks, reason);
  }

  /**
   * Of `ids` (spawned by `parentId`; `created[i]` true when recorded just now, false when it
   * existed already, null when its recording failed), those that are its children: recorded now,
   * or existing with `parentId` as their parent. Only ids that existed already are read.
   */
  private async children(parentId: string, ids: string[], created: Array<boolean | null>): Promise<string[]> {
    const existed = ids.filter((_, i) => created[i] === false);
    const records = existed.length === 0 ? [] : await this.o.ledger.getMany(existed);
    const ours = new Set(existed.filter((_, i) => records[i]?.task.parent_id === parentId));
    return ids.filter((id, i) => created[i] === true || ours.has(id));
  }

  /** How many spawns deep `record`'s task is (its chain of parents, as far as records are kept), up to MAX_SPAWN_DEPTH. */
  private async nesting(record: TaskRecord): Promise<number> {
    let depth = 0;
    let parent = record.task.parent_id;
    while (parent !== undefined && depth < MAX_SPAWN_DEPTH) {
      depth++;
      parent = (await this.o.ledger.get(parent))?.task.parent_id;
    }
    return depth;
  }

  /**
   * Records tasks on no distributor, then ends them abandoned with `reason`. A crash in between
   * leaves their parent in `ended`: the next sweep records (no-op) and ends them again. An id
   * that existed already as another parent's or nobody's task is left as it is (see
   * recordSpawned). Returns the children's ids.
   */
  private async recordAbandoned(parentId: string, tasks: TaskDict[], reason: string): Promise<string[]> {
    const created = await Promise.all(
      tasks.map((t) =>
        this.o.ledger.submit(
          {
            taskId: t.task_id,
            taskType: t.task_type,
            payload: t.payload,
            createdAt: t.created_at,
            maxRetries: DEFAULT_MAX_RETRIES,
            backoffMs: DEFAULT_BACKOFF_MS,
            ...(t.depends_on?.length ? { dependsOn: t.depends_on } : {}),
            ...(t.on_dependency_failure ? { onDependencyFailure: t.on_dependency_failure } : {}),
            ...(t.parent_id ? { parentId: t.parent_id } : {}),
          },
          "",
        ),
      ),
    );
    const children = await this.children(
      parentId,
      tasks.map((t) => t.task_id),
      created,
    );
    await Promise.all(children.map((id) => this.o.abandon(id, reason)));
    return children;
  }

  /** One monitor tick: settle what a lost report or a crash left in `ended`; re-register a slice of the waiting tasks. */
  async tick(): Promise<void> {
    this.ticks++;
    this.sweepSoon();
    await this.sweepCascades().catch(() => {});
    await this.placeLostReady().catch(() => {});
    await this.rewatchSlice();
  }

  /**
   * Places the dependents of lost notices (lostNotices) that the store shows ready: pending, on
   * no distributor, waiting on nothing. One still waiting gets its notice again from the settle
   * or registration that failed; one that ended is settled from `ended` like any other.
   */
  private async placeLostReady(): Promise<void> {
    const ids = [...this.lostNotices].slice(0, REWATCH_BATCH);
    if (ids.length === 0) return;
    const records = await this.o.ledger.getMany(ids);
    for (const id of ids) this.lostNotices.delete(id);
    for (const r of records) {
      if (r === null || r.task.status !== "pending" || r.distributor || r.task.waiting_on?.length) continue;
      const runAt = r.task.run_at === undefined ? Number.NaN : Date.parse(r.task.run_at);
      this.o.ready(r.task, runAt > Date.now());
    }
  }

  /**
   * Registers every waiting task again on the dependencies it still waits for: a coordinator
   * that died between recording a task and registering it left it unregistered. Repeats change
   * nothing; a dependency found ended gets its notice sent now. All of them, REWATCH_BATCH at a
   * time (a coordinator's start, a shard taken over); the monitor ticks walk them in slices.
   */
  async rewatchWaiting(): Promise<void> {
    // A whole pass: the ticks need not start another one until REWATCH_EVERY_TICKS (unless this fails).
    this.rewatchDue = false;
    try {
      const ids = await this.o.ledger.waitingTaskIds();
      for (let from = 0; from < ids.length; from += REWATCH_BATCH) {
        await this.rewatchIds(ids.slice(from, from + REWATCH_BATCH));
      }
    } catch (err) {
      this.rewatchDue = true;
      throw err;
    }
  }

  /**
   * A tick's share: the tasks whose registration failed here, then the next REWATCH_BATCH ids of
   * the current pass; a new pass (one read of the waiting ids) every REWATCH_EVERY_TICKS ticks,
   * or later when the last one is still being walked.
   */
  private async rewatchSlice(): Promise<void> {
    if (
      this.rewatchNext >= this.rewatchPass.length &&
      (this.rewatchDue || this.ticks % REWATCH_EVERY_TICKS === 0)
    ) {
      this.rewatchPass = await this.o.ledger.waitingTaskIds();
      this.rewatchNext = 0;
      this.rewatchDue = false;
    }
    const ids: string[] = [];
    for (const id of this.retryWatch) {
      if (ids.length >= REWATCH_BATCH) break;
      ids.push(id);
      this.retryWatch.delete(id);
    }
    const take = Math.min(REWATCH_BATCH - ids.length, this.rewatchPass.length - this.rewatchNext);
    if (take > 0) {
      ids.push(...this.rewatchPass.slice(this.rewatchNext, this.rewatchNext + take));
      this.rewatchNext += take;
    }
    if (this.rewatchNext >= this.rewatchPass.length) {
      this.rewatchPass = [];
      this.rewatchNext = 0;
    }
    if (ids.length === 0) return;
    try {
      await this.rewatchIds(ids);
    } catch (err) {
      for (const id of ids) this.retryWatch.add(id);
      throw err;
    }
  }

  /** Registers these tasks again, those still waiting, on what they wait for. */
  private async rewatchIds(ids: string[]): Promise<void> {
    this.active = true;
    const records = await this.o.ledger.getMany(ids);
    await Promise.all(
      records.map((r) =>
        r !== null && r.task.status === "pending" && r.task.waiting_on?.length
          ? this.watchAll(r.task.task_id, r.task.waiting_on)
          : undefined,
      ),
    );
  }

  /**
   * After `taskId` was canceled: abandons, transitively, the open tasks that depend on it and the
   * open tasks it spawned (whatever their on_dependency_failure: a cancel is not a failure to
   * run past). Durable (DESIGN "Workflows"): each task reached is first marked in the store, with
   * the reason it ends with, and put on its shard's cascade frontier; it leaves the frontier only
   * once its own dependents and spawned tasks are marked. This call walks up to CASCADE_LIMIT
   * tasks itself; what a limit or a crash leaves on the frontier, the next ticks (any
   * coordinator's) walk on from. Returns the ids this call ended.
   */
  async cascadeCancel(taskId: string, reason = "canceled"): Promise<string[]> {
    await this.markCanceled(taskId, reason);
    return this.walk([taskId]);
  }

  /** Marks `taskId` as reached by a cancel (durable; see cascadeCancel): false if unknown or marked already. */
  markCanceled(taskId: string, reason: string): Promise<boolean> {
    return this.cascade.mark(taskId, reason);
  }

  /**
   * Walks the cascade from `start` (tasks on the frontier), up to CASCADE_LIMIT tasks, CASCADE_CALL
   * per script call (cascade-walk-1.lua: one round trip ends a 200-deep chain on one Redis; on
   * Redis Cluster the walk goes on per shard, a call for each shard the cascade crosses into).
   * The ids it ended.
   */
  private async walk(start: string[]): Promise<string[]> {
    const ended: string[] = [];
    let items: CascadeItem[] = start.map((taskId) => ({ taskId, reason: "", parent: "" }));
    let held: string[] = [];
    let walked = 0;
    while (items.length > 0) {
      const budget = this.cascadeLimit - walked;
      // Past the limit, the targets reached are still marked (a walk of none): they join the
      // frontier, and the tasks held for them can leave it.
      if (budget <= 0) items = items.filter((t) => t.reason !== "");
      if (items.length === 0) break;
      const limit = Math.max(0, Math.min(CASCADE_CALL, budget));
      const step = await this.cascade.walk(items, limit, this.o.ledger.retentionMs);
      // Each call marks every target it is given first: those `held` waited for are marked now.
      await Promise.all(held.map((id) => this.cascade.done(id)));
      held = step.held;
      walked += step.walked;
      for (const record of step.ended) {
        const taskId = record.task.task_id;
        ended.push(taskId);
        this.o.ledger.told({ op: "abandoned", task_id: taskId, reason: record.task.error ?? "" });
        this.o.cascadeEnded?.(record);
      }
      const rest = step.rest.map((taskId) => ({ taskId, reason: "", parent: "" }));
      items = [...rest, ...step.foreign];
    }
    if (ended.length > 0) this.sweepSoon();
    return ended;
  }

  /** One tick's share of the cascades a limit or a crash cut: walks on from every shard's frontier. */
  private async sweepCascades(): Promise<void> {
    const ids = await this.cascade.frontier(CASCADE_BATCH);
    if (ids.length > 0) await this.walk(ids);
  }
}

/**
 * Whether a cancel ended this task: it carries a cancel's mark and ended abandoned with the
 * mark's reason (the cascade step's abandon, or the cancel call's own, which marks first with
 * the same reason). Its dependents are then the cascade's to end, not their notices'.
 */
export function endedByCancel(record: Pick<TaskRecord, "canceled" | "task">): boolean {
  return (
    record.canceled !== undefined &&
    record.task.status === "abandoned" &&
    record.task.error === record.canceled
  );
}

/**
 * The ids a task spawned: recorded ones, or those its committed attempt is about to record. Such
 * an id may name a task that existed before (the spawn recorded nothing then): only a task whose
 * parent_id is this one is its child (the cascade's mark and the graph check it).
 */
export function spawnedIds(record: { spawned: string[]; spawnJson: string | null }): string[] {
  if (record.spawned.length > 0) return record.spawned;
  if (record.spawnJson === null) return [];
  try {
    return (JSON.parse(record.spawnJson) as Array<{ task_id: string }>).map((t) => t.task_id);
  } catch {
    return [];
  }
}

/**
 * Whether a record ended with spawned tasks that may not be recorded yet: its committed attempt's
 * `spawn` list, which the keeper's settle turns into `spawned` once they are.
 */
export function spawnsUnrecorded(record: Pick<TaskRecord, "spawnJson" | "task">): boolean {
  return record.spawnJson !== null && isTerminalStatus(record.task.status);
}
