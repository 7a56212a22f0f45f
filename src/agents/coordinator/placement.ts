import { oncePerKey } from "../../core/once-per-key.js";
import { eventLoopUtilization, quietOr } from "../event-loop-load.js";
import type { TaskLedger } from "../ledger/task-ledger.js";
import { Outbox } from "../outbox.js";
import type { AgentPayload, TaskDict } from "../protocol.js";
import { PriorityLanes } from "../schedule-controls/priority-lanes.js";
import { sendSplitting } from "../split-send.js";
import type { Timing } from "../timing.js";
import type { ClusterSeam } from "./cluster-seam.js";
import type { DistributorDirectory, DistributorEntry } from "./distributor-directory.js";
import { assignIfUnplaced, type UnplacedAssign } from "./unplaced-scripts.js";

export type PlacementOptions = {
  ledger: TaskLedger;
  directory: DistributorDirectory;
  cluster: ClusterSeam;
  timing: Timing;
  /** A task no distributor could take within this long after it was held ends abandoned (see expired()). */
  placementTimeoutMs: number;
  send: (recipient: string, payload: AgentPayload) => Promise<void>;
  /** Where this coordinator listens (carried by each assignment, for the distributor's report). */
  url?: () => string | null;
  /** Whether a task is held back by its schedule (a delayed task: the due sweep places it). */
  holdsBack: (task: TaskDict) => boolean;
  /** Whether this coordinator has at most one open task (then nothing lingers). */
  lone: () => boolean;
  /** A placement pass recorded the task on `distributorId` (and sends it there). */
  sent: (taskId: string, distributorId: string) => void;
  /** No message can carry the task: it is to end abandoned with `reason`. */
  unsendable: (taskId: string, reason: string) => void;
};

/** How a task is held unplaced (see Placement.hold). */
export type HoldOptions = {
  /** Seen on no distributor: placed only if it still is (default false: moved from its holder). */
  fresh?: boolean;
  /** Epoch ms a retry's backoff ends (null or unset: none): placed once it is over. */
  notBefore?: number | null;
  /** The distributor it was taken off (a dead one): moved only while its record still names it; null: fresh. */
  from?: string | null;
};
/** A task a placement pass records on `to` (`lost`: the distributor a try whose answer was lost chose). */
type Placing = {
  task: TaskDict;
  to: DistributorEntry;
  owner: string;
  fresh: boolean;
  from: string;
  lost?: string;
};

/** Tasks per assign_tasks message at most. */
const MAX_ASSIGN_BATCH = 200;
/** Above this share of its time at work (event loop utilisation), the process is busy: assignments wait timing.busyAssignLingerMs. */
const BUSY_UTILIZATION = 0.5;
/**
 * Tasks one placement pass takes at most; a longer backlog (found at restore, or left by dead
 * distributors) is placed over several turns of the event loop, so that the coordinator keeps
 * answering meanwhile (one pass over 100,000 held the loop for 0.7 s).
 */
const PLACE_BATCH = 5_000;

/**
 * Where the coordinator's accepted tasks go: those on no distributor yet wait here, in priority
 * order, each with the deadline by which one must take it; a placement pass records each on the
 * least-loaded healthy distributor (fenced by the shard's lease) and hands it to that
 * distributor's outbox, which batches assignments per distributor.
 */
export class Placement {
  /**
   * Accepted but on no distributor yet, with the monotonic deadline for placing them. `fresh`:
   * seen on no distributor, placed only if it still is (assign-unplaced-1.lua); else it is taken
   * from the distributor the store names (a dead one's task), `from` if known. `notBefore`: see hold.
   */
  private readonly unplaced = new PriorityLanes<{
    task: TaskDict;
    deadline: number;
    fresh: boolean;
    notBefore: number;
    from: string;
  }>();
  private readonly outbox: Outbox<TaskDict>;
  private scheduled = false;
  /**
   * Tasks held again after a placement call that failed with no answer (it may have run), each
   * with the distributor it tried: a retry that finds the task there already (assign-unplaced-1.lua
   * answers "here", or that distributor's id when the retry chose another; assign-tasks-1.lua
   * that id) takes that placement as its own and sends it now, not left for that distributor's
   * next reconcile. Kept while the task is held, for its next try only.
   */
  private readonly lostOn = new Map<string, string>();

  constructor(private readonly o: PlacementOptions) {
    // If a send fails, Redis still says the task is the distributor's: it finds it when it
    // reconciles, or the coordinator moves it when the distributor is declared dead. A task that
    // no message can carry ends abandoned instead (it would be found and sent again for ever).
    this.outbox = new Outbox(
      (to, tasks) =>
        sendSplitting(
          tasks,
          (part) => {
            const url = o.url?.();
            return o.send(to, { kind: "assign_tasks", tasks: part, ...(url ? { url } : {}) });
          },
          (task, why) => o.unsendable(task.task_id, `cannot be sent to distributor ${to}: ${why}`),
        ).catch(() => {}),
      {
        lingerMs: o.timing.batchLingerMs,
        maxBatch: MAX_ASSIGN_BATCH,
        busyLingerMs: o.timing.busyAssignLingerMs,
        busy: () => eventLoopUtilization() > BUSY_UTILIZATION,
        // One open task: nothing to gather it with, whatever the process's load.
        quiet: quietOr(o.lone),
      },
    );
  }

  /** Sends a task already recorded on `distributorId` (its assignment goes in the next batch). */
  send(distributorId: string, task: TaskDict): void {
    this.outbox.push(distributorId, task);
  }

  /**
   * A recorded task to place as soon as a distributor can take it (a waiting task now ready).
   * `released`: the store says it is in no delayed index (released by the due sweep, made ready
   * out of it, given input after it started): placed whatever this process's clock says of its
   * run_at, since no sweep would place it.
   */
  later(task: TaskDict, released = false): void {
    if (!released && this.o.holdsBack(task)) return; // recorded delayed: the due sweep places it
    if (this.o.cluster.ownerValue(task.task_id) === null) {
      this.o.cluster.handOff(task.task_id);
      return;
    }
    this.hold(task, 0, { fresh: true });
    this.schedule();
  }

  /**
   * Holds `task` unplaced, its deadline `placementTimeoutMs` (plus `graceMs`) from now; placed on
   * the next pass. `fresh`: it was seen on no distributor, and is placed only if it still is
   * then (a path that saw it so too may have placed it meanwhile: it is left there); else (a
   * dead distributor's task) it is moved from the distributor its record names. Held both ways, it is moved.
   * `notBefore` (epoch ms, this process's clock): a retry's backoff its record keeps (a task
   * moved off a dead distributor): placed once it is over, its deadline counted from then. The
   * assignment carries no backoff, and its new holder queues it to run at once. `from`: the
   * distributor it was taken off, moved only while its record still names it (or names the one
   * placed on): another take-off's placement may have moved it meanwhile, and it stays there.
   */
  hold(task: TaskDict, graceMs = 0, { fresh = false, notBefore = null, from }: HoldOptions = {}): void {
    const was = this.unplaced.get(task.task_id);
    if (from === null) fresh = true;
    const wait = notBefore === null ? 0 : Math.max(0, notBefore - Date.now());
    this.unplaced.set(task.task_id, {
      task,
      deadline: performance.now() + Math.max(graceMs, wait) + this.o.placementTimeoutMs,
      fresh: fresh && (was === undefined || was.fresh),
      notBefore: wait > 0 ? notBefore! : 0,
      from: from ?? was?.from ?? "",
    });
  }

  has(taskId: string): boolean {
    return this.unplaced.has(taskId);
  }

  /** Forgets an unplaced task (ended, or placed another way). */
  drop(taskId: string): void {
    this.unplaced.delete(taskId);
    this.lostOn.delete(taskId);
  }

  get size(): number {
    return this.unplaced.size;
  }

  /** This coordinator was not running for `ms` (see StallWatch): no distributor could take a task meanwhile. */
  credit(ms: number): void {
    for (const [, u] of this.unplaced) u.deadline += ms;
  }

  /**
   * Takes out and returns the unplaced tasks whose deadline has passed by `now`. One whose type
   * waits for a runner (all of them dead but remembered, see DistributorDirectory.awaitsRunner)
   * does not expire: its deadline starts again, for once a runner is back or forgotten.
   */
  expired(now: number): string[] {
    return this.expiredTasks(now).map(({ task }) => task.task_id);
  }

  /** expired(), with each task as held (its dict, whether it was held as seen unplaced, and `from`: see hold). */
  expiredTasks(now: number): Array<{ task: TaskDict; fresh: boolean; from: string }> {
    const out: Array<{ task: TaskDict; fresh: boolean; from: string }> = [];
    const awaits = oncePerKey((type: string) => this.o.directory.awaitsRunner(type));
    for (const [, u] of this.unplaced) {
      if (u.deadline > now) continue;
      if (awaits(u.task.task_type)) u.deadline = now + this.o.placementTimeoutMs;
      else out.push({ task: u.task, fresh: u.fresh, from: u.from });
    }
    for (const { task } of out) {
      this.unplaced.delete(task.task_id);
      this.lostOn.delete(task.task_id);
    }
    return out;
  }

  /** A placement pass on the next turn (one pending at most). */
  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.place().catch(() => {});
    });
  }

  close(): void {
    this.outbox.close();
  }

  /** Places unplaced tasks on the least-loaded healthy distributor (one that runs the type, if known), recording it first; PLACE_BATCH per pass. */
  private async place(): Promise<void> {
    const batch: Placing[] = [];
    let more = false;
    const now = Date.now();
    for (const [id, { task, fresh, notBefore, from }] of this.unplaced) {
      if (batch.length >= PLACE_BATCH) {
        more = true;
        break;
      }
      const owner = this.o.cluster.ownerValue(id);
      if (owner === null) {
        // Not the owner on this process's clock. The shard may have moved (its new owner rescans
        // it on taking it), or only this lease's renewal is late and it is renewed with nothing
        // rescanned: handed off either way, so whoever owns the shard then places it.
        this.unplaced.delete(id);
        this.lostOn.delete(id);
        this.o.cluster.handOff(id);
        continue;
      }
      if (notBefore > now) continue; // a retry's backoff: placed once it is over (the monitor's tick schedules a pass)
      const to = this.o.directory.placeFor(task.task_type);
      // Its type's runners are all dead but remembered: it waits for one, the others go on.
      if (to === "waits") continue;
      if (to === undefined) break; // no distributor healthy now

      to.placedSinceHeartbeat++;
      this.unplaced.delete(id);
      const lost = this.lostOn.get(id);
      this.lostOn.delete(id);
      batch.push({ task, to, owner, fresh, from, ...(lost === undefined ? {} : { lost }) });
    }
    if (batch.length === 0) return;
    const results = await Promise.allSettled(this.assignAll(batch));
    results.forEach((r, i) => {
      const { task, to, fresh, from, lost } = batch[i]!;
      const v = r.status === "fulfilled" ? r.value : undefined;
      // The distributor the store says holds it already, when not placed by this call.
      const holder = v === "here" ? to.id : typeof v === "object" ? v.heldBy : undefined;
      // Found where this coordinator's own try whose answer was lost put it (the one asked now,
      // or another: the store answers which): that placement is taken as made, and sent now.
      const own = holder !== undefined && holder === lost;
      if (own) this.o.ledger.told({ op: "assigned", task_id: task.task_id, distributor: holder });
      if (v === "placed" || v === "ended" || own) {
        const at = own ? holder : to.id;
        if (at !== to.id) {
          to.placedSinceHeartbeat--;
          const there = this.o.directory.get(at);
          if (there !== undefined) there.placedSinceHeartbeat++;
        }
        this.o.sent(task.task_id, at);
        // Its attempt on another distributor (a dead one's) ended in the same step: pending now,
        // it is sent so, and queued where it goes with no read of its record (sent in progress,
        // it would be adopted from one: see adoptAssigned). Kept in progress (on that same
        // distributor, back), it goes as it was: that distributor holds its attempt.
        this.send(at, v === "ended" ? { ...task, status: "pending", assigned_to: null } : task);
        // Declared dead while this call was on its way: a take-off that read its tasks before the
        // task landed there did not see it. Taken off it here, as that take-off would have.
        if (this.o.directory.get(at)?.status === "dead") {
          this.hold(task, 0, { from: at });
          this.schedule();
        }
      } else if (r.status === "rejected") {
        this.lostOn.set(task.task_id, to.id);
        this.hold(task, 0, { fresh, from });
      } else if (holder !== undefined) {
        // Placed meanwhile by another path that saw it unplaced too (or, taken off a dead
        // distributor, moved meanwhile by another take-off's placement): that placement stands,
        // and its distributor has it (sent, or found when it reconciles).
        to.placedSinceHeartbeat--;
      } else {
        // Refused by the shard's fence (the lease moved on in Redis), or ended meanwhile: the
        // hand-off's check reads the record and places it only if it is still unplaced.
        this.o.cluster.handOff(task.task_id);
      }
    });
    if (more) this.schedule();
  }

  /**
   * Records each task of a pass on its distributor: a fresh one only if still on no distributor
   * (one script call per shard and distributor), any other as assign-tasks-1.lua moves it (off
   * `from` only, when given).
   */
  private assignAll(batch: Placing[]) {
    const out = new Array<Promise<UnplacedAssign | "ended">>(batch.length);
    const fresh = new Map<string, number[]>();
    batch.forEach(({ task, to, owner, from }, i) => {
      if (!batch[i]!.fresh) {
        out[i] = this.o.ledger
          .assignTo(task.task_id, to.id, owner, from)
          .then((a) => (a === "ended" ? "ended" : a === "assigned" ? "placed" : a || "not-open"));
        return;
      }
      const list = fresh.get(to.id);
      if (list === undefined) fresh.set(to.id, [i]);
      else list.push(i);
    });
    for (const [to, ks] of fresh) {
      const answers = assignIfUnplaced(
        this.o.ledger,
        to,
        ks.map((k) => ({ taskId: batch[k]!.task.task_id, owner: batch[k]!.owner })),
      );
      ks.forEach((k, j) => {
        out[k] = answers.then((a) => a[j]!);
      });
    }
    return out;
  }
}
