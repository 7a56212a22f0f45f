import type { JsonObject } from "../../core/json.js";
import type { NoticeVerdict, TaskLedger } from "../ledger/task-ledger.js";
import type { TaskDict } from "../protocol.js";

export type WorkflowKeeperOptions = {
  ledger: TaskLedger;
  /** A waiting task's last dependency ended: place it like any new task. */
  ready: (task: TaskDict) => void;
  /** A task ended here (abandoned by a dependency): tell waiters. */
  ended: (task: TaskDict) => void;
  /** Records spawned tasks as submitted tasks (idempotent by id). */
  submit: (tasks: TaskDict[]) => Promise<unknown>;
  /** Ends an open task abandoned with `reason`; true if this call ended it. */
  abandon: (taskId: string, reason: string) => Promise<boolean>;
  /** Spawned tasks that cannot be recorded (malformed), with the reason. */
  refusedSpawn?: (parentId: string, reason: string) => void;
};

/** Monitor ticks between two re-registrations of every waiting task (and after any failed one). */
const REWATCH_EVERY_TICKS = 20;
/** Times a registration that finds no dependency asks again (100, 200, 300 ms apart). */
const UNKNOWN_RETRIES = 3;
/** Tasks a cancel cascade walks at most. */
const CASCADE_LIMIT = 10_000;

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
  private readonly settling = new Set<string>();
  private sweeping: Promise<void> | null = null;
  private sweepAgain = false;
  private ticks = 0;
  private rewatch = true;

  constructor(private readonly o: WorkflowKeeperOptions) {}

  /** A task with dependencies was recorded: register it on each (and act on those already ended). */
  watch(task: TaskDict): void {
    this.active = true;
    void this.watchAll(task.task_id, task.depends_on ?? []).catch(() => {
      this.rewatch = true;
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

  private async notify(dependent: string, dependency: string, status: string): Promise<NoticeVerdict> {
    const verdict = await this.o.ledger.notifyDependencyEnded(dependent, dependency, status);
    if (verdict === "ready" || verdict === "abandoned") {
      const record = await this.o.ledger.get(dependent);
      if (record !== null) {
        if (verdict === "ready") this.o.ready(record.task);
        else {
          this.o.ended(record.task);
          this.sweepSoon();
        }
      }
    }
    return verdict;
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

  private async settle(taskId: string): Promise<void> {
    this.settling.add(taskId);
    try {
      const [record, dependents] = await Promise.all([
        this.o.ledger.get(taskId),
        this.o.ledger.dependentsOf(taskId),
      ]);
      let spawned: string[] | null = null;
      if (record?.spawnJson) spawned = await this.recordSpawned(taskId, record.spawnJson);
      const status = record?.task.status ?? "unknown";
      await Promise.all(dependents.map((d) => this.notify(d, taskId, status)));
      await this.o.ledger.settleEnded(taskId, spawned);
    } finally {
      this.settling.delete(taskId);
    }
  }

  private async recordSpawned(parentId: string, json: string): Promise<string[]> {
    let tasks: TaskDict[];
    try {
      tasks = (JSON.parse(json) as JsonObject[]).map((t) => t as unknown as TaskDict);
    } catch (err) {
      this.o.refusedSpawn?.(parentId, `spawned tasks are not JSON: ${(err as Error).message}`);
      return [];
    }
    await this.o.submit(tasks);
    return tasks.map((t) => t.task_id);
  }

  /** One monitor tick: settle what a lost report or a crash left in `ended`; now and then re-register waiting tasks. */
  async tick(): Promise<void> {
    this.ticks++;
    this.sweepSoon();
    if (this.rewatch || this.ticks % REWATCH_EVERY_TICKS === 0) await this.rewatchWaiting();
  }

  /**
   * Registers every waiting task again on the dependencies it still waits for: a coordinator
   * that died between recording a task and registering it left it unregistered. Repeats change
   * nothing; a dependency found ended gets its notice sent now.
   */
  async rewatchWaiting(): Promise<void> {
    this.rewatch = false;
    try {
      const ids = await this.o.ledger.waitingTaskIds();
      if (ids.length === 0) return;
      this.active = true;
      const records = await Promise.all(ids.map((id) => this.o.ledger.get(id)));
      await Promise.all(
        records.map((r) =>
          r !== null && r.task.status === "pending" && r.task.waiting_on?.length
            ? this.watchAll(r.task.task_id, r.task.waiting_on)
            : undefined,
        ),
      );
    } catch (err) {
      this.rewatch = true;
      throw err;
    }
  }

  /**
   * After `taskId` was canceled: abandons, transitively, the open tasks that depend on it and the
   * open tasks it spawned (whatever their on_dependency_failure: a cancel is not a failure to
   * run past). Walks at most CASCADE_LIMIT tasks; returns the ids it ended.
   */
  async cascadeCancel(taskId: string): Promise<string[]> {
    const ended: string[] = [];
    const seen = new Set([taskId]);
    let frontier = [taskId];
    while (frontier.length > 0 && seen.size < CASCADE_LIMIT) {
      const next: string[] = [];
      await Promise.all(
        frontier.map(async (id) => {
          const [record, dependents] = await Promise.all([
            this.o.ledger.get(id),
            this.o.ledger.dependentsOf(id),
          ]);
          const children = record === null ? [] : spawnedIds(record);
          const reasons: Array<[string, string]> = [
            ...dependents.map((d): [string, string] => [d, `dependency ${id} abandoned`]),
            ...children.map((c): [string, string] => [c, `parent ${id} canceled`]),
          ];
          for (const [child, reason] of reasons) {
            if (seen.has(child) || seen.size >= CASCADE_LIMIT) continue;
            seen.add(child);
            next.push(child);
            if (await this.o.abandon(child, reason)) ended.push(child);
          }
        }),
      );
      frontier = next;
    }
    if (ended.length > 0) this.sweepSoon();
    return ended;
  }
}

/** The ids a task spawned: recorded ones, or those its committed attempt is about to record. */
export function spawnedIds(record: { spawned: string[]; spawnJson: string | null }): string[] {
  if (record.spawned.length > 0) return record.spawned;
  if (record.spawnJson === null) return [];
  try {
    return (JSON.parse(record.spawnJson) as Array<{ task_id: string }>).map((t) => t.task_id);
  } catch {
    return [];
  }
}
