import { isTerminalStatus } from "../../core/state/status.js";
import { BoundedMap } from "../observe/bounded-map.js";
import type { TaskDict } from "../protocol.js";
import { spawnsUnrecorded, type WorkflowKeeper } from "../workflow/workflow-keeper.js";
import type { ClusterSeam } from "./cluster-seam.js";
import type { CoordinatorCoreOptions, CoordinatorStats } from "./coordinator-options.js";
import type { DistributorDirectory } from "./distributor-directory.js";
import { TaskWaiters } from "./task-waiters.js";

/** Open tasks remembered as open (a hint that spares waitForTask a read); beyond it, the ledger answers. */
const KNOWN_OPEN_LIMIT = 200_000;
const HEARD = {};

type TaskEndsDeps = Pick<CoordinatorCoreOptions, "ledger" | "events" | "recentLimit"> & {
  cluster: ClusterSeam;
  directory: DistributorDirectory;
  stats: CoordinatorStats;
  workflow: () => WorkflowKeeper;
  stopped: () => boolean;
};

/**
 * The coordinator's view of task ends (coordinator-core.ts): the tasks it knows open and where,
 * the recent finished ones, the waiters, and the reports of ends from distributors and from the
 * other coordinators.
 */
export class TaskEnds {
  /**
   * Tasks accepted here (or found open at restore) and not seen terminal yet: no need to ask
   * Redis. With the distributor each was placed on (null: none yet), whose report of its end is
   * taken without a read.
   */
  readonly knownOpen = new Map<string, string | null>();
  readonly waiters = new TaskWaiters();
  /** Finished tasks, the newest `recentLimit` or so (two generations: no per-task eviction scan). */
  readonly recent: BoundedMap<string, TaskDict>;

  /** Tasks whose end was heard second-hand here (said once), the newest `recentLimit` or so. */
  private readonly heardElsewhere: BoundedMap<string, object>;

  constructor(private readonly o: TaskEndsDeps) {
    this.recent = new BoundedMap(o.recentLimit);
    this.heardElsewhere = new BoundedMap(o.recentLimit);
  }

  rememberOpen(taskId: string, distributor: string | null = null): void {
    this.knownOpen.set(taskId, distributor);
    if (this.knownOpen.size > KNOWN_OPEN_LIMIT) this.knownOpen.delete(this.knownOpen.keys().next().value!);
  }

  /** A known open task was recorded on `distributorId` (its end is taken from that one's report). */
  placedOn(taskId: string, distributorId: string): void {
    if (this.knownOpen.has(taskId)) this.knownOpen.set(taskId, distributorId);
  }

  /**
   * Tasks that distributor `from` reports finished, taken only from the distributor that holds
   * each: the one it was placed on here, else (a task not known here) the one the ledger names,
   * whose record then says how it ended.
   */
  onTerminal(from: string, tasks: TaskDict[], spawns?: string[]): void {
    const unsure: TaskDict[] = [];
    let ended = 0;
    // Those whose committed attempt spawned tasks (the message names them; rare): shown ended
    // once their spawned tasks are recorded. Every other end is taken as it is, without a read.
    const spawning = spawns === undefined || spawns.length === 0 ? undefined : new Set(spawns);
    for (const task of tasks) {
      if (this.knownOpen.get(task.task_id) === from) {
        this.finished(task, true, spawning?.has(task.task_id) === true);
        ended++;
      } else unsure.push(task);
    }
    const entry = this.o.directory.get(from);
    if (entry !== undefined) entry.endedSinceHeartbeat += ended;
    if (unsure.length > 0) void this.terminalFromLedger(from, unsure).catch(() => {});
  }

  private async terminalFromLedger(from: string, tasks: TaskDict[]): Promise<void> {
    const records = await Promise.all(tasks.map((task) => this.o.ledger.get(task.task_id)));
    records.forEach((record, i) => {
      if (record?.distributor === from && isTerminalStatus(record.task.status))
        this.finished(record.task, true, spawnsUnrecorded(record));
      else this.o.events?.foreignReport?.(tasks[i]!, from, record?.distributor ?? null);
    });
  }

  /**
   * `here`: this coordinator heard of the end first-hand (counted, and told to the others).
   * `spawns`: the task's committed attempt spawned tasks that may not be recorded yet (its
   * record's `spawn` list, or the distributor's report said so): nothing shows its end — no
   * waiter, no event, no other coordinator, not the recent window — before the workflow keeper
   * has recorded them (SPEC "Workflows": they exist from its commit on, as far as anyone can see).
   */
  finished(task: TaskDict, here = true, spawns = false): void {
    if (!isTerminalStatus(task.status)) return;
    if (spawns) {
      void this.o
        .workflow()
        .settledBeforeShown(task.task_id, () => this.o.stopped())
        .then((settled) => settled && this.finished(task, here));
      return;
    }
    const known = this.recent.has(task.task_id);
    const firstHand = here && !known;
    // Heard second-hand (another coordinator's news, a waiter's read): not counted, but said
    // once (event streams are nudged).
    if (!here && !known && !this.heardElsewhere.has(task.task_id)) {
      this.heardElsewhere.add(task.task_id, HEARD);
      this.o.events?.endedElsewhere?.(task);
    }
    if (firstHand) {
      if (task.status === "completed") this.o.stats.completed++;
      else if (task.status === "failed") this.o.stats.failed++;
      else this.o.stats.abandoned++;
      // An expiry (the due sweep's here, or a dispatch's its distributor reports) is told as an abandon.
      if (task.status === "abandoned" && task.error === "expired")
        this.o.events?.abandoned?.(task.task_id, "expired");
      this.o.events?.terminal?.(task);
    }
    this.o.cluster.ended(task.task_id, firstHand);
    this.knownOpen.delete(task.task_id);
    // A first-hand report still counts, later. (add: a key has() found in neither generation.)
    if (here) known ? this.recent.set(task.task_id, task) : this.recent.add(task.task_id, task);
    this.waiters.resolve(task.task_id, task);
    this.o.workflow().taskEnded();
  }

  /** Tasks another coordinator saw end: those waited for or held open here are read and answered. */
  async endedElsewhere(taskIds: string[]): Promise<void> {
    const ids = taskIds.filter((id) => this.waiters.has(id) || this.knownOpen.has(id));
    const records = await this.o.ledger.getMany(ids);
    for (const record of records)
      if (record && isTerminalStatus(record.task.status))
        this.finished(record.task, false, spawnsUnrecorded(record));
  }

  async getTask(taskId: string): Promise<TaskDict | null> {
    return this.recent.get(taskId) ?? this.readTask(taskId);
  }

  /**
   * The task as the ledger has it (null when unknown), a parent's end shown only once its
   * spawned tasks exist (WorkflowKeeper.readSettled). What event streams and the API read tasks with.
   */
  readTask(taskId: string): Promise<TaskDict | null> {
    return this.o.workflow().readSettled(taskId);
  }

  recentTasks(): TaskDict[] {
    return [...this.recent.entries()].map(([, task]) => task);
  }

  /**
   * Resolves with the terminal task dict, or null when `timeoutMs` passes first. A task this
   * coordinator knows to be open is waited for without asking Redis (its distributor reports
   * it, and the monitor asks Redis about waiters that waited long); any other is read once.
   */
  waitForTask(taskId: string, timeoutMs = 30_000): Promise<TaskDict | null> {
    const known = this.recent.get(taskId);
    if (known) return Promise.resolve(known);
    const waiting = this.waiters.wait(taskId, timeoutMs);
    if (!this.knownOpen.has(taskId)) {
      // It may have finished before we started waiting, or been submitted elsewhere: the others
      // are asked to tell of its end first, then the ledger is read (an end in between is heard).
      const read = () =>
        void this.o.ledger.get(taskId).then(
          (r) => {
            if (r && isTerminalStatus(r.task.status)) this.finished(r.task, false, spawnsUnrecorded(r));
          },
          () => {},
        );
      const asked = this.o.cluster.watch(taskId);
      if (asked === undefined) read();
      else void asked.then(read, read);
    }
    return waiting;
  }
}
