import {
  LEGACY_BACKLOG_PER_SLOT,
  type RemoteAgentInfo,
  WORKER_BACKLOG_PER_SLOT,
  type WorkerHeartbeat,
  type WorkerSummary,
} from "../protocol.js";

/**
 * An attempt sent to a worker. `confirmed` while the worker's heartbeats list it as running;
 * `dispatchedAt` (monotonic ms) starts the grace an unconfirmed attempt gets before it is taken back.
 */
/** Attempts a worker may hold per unit of its concurrency (running, or queued behind those). */
export const PREFETCH = 2;
/**
 * The most a worker's room grows to, per unit of its concurrency, while its attempts come back
 * faster than new ones reach it (WorkerRegistry.reported), and never past what the worker says
 * it queues (`backlog_per_slot` on its heartbeats; LEGACY_BACKLOG_PER_SLOT when it does not say):
 * it queues a whole execute_tasks before it starts any, and refuses what is past its backlog as
 * "overloaded".
 */
export const MAX_PREFETCH = WORKER_BACKLOG_PER_SLOT;
/**
 * An attempt that took this long from its dispatch to its outcome says the worker's tasks are
 * slow: two per slot cover any round trip, and more would only queue up on this worker while
 * another could run them. Its room goes back to PREFETCH.
 */
export const SLOW_ATTEMPT_MS = 1000;

export type InFlight = {
  fence: number;
  dispatchedAt: number;
  confirmed: boolean;
  /** The worker reported this attempt's outcome, which is being committed: it holds no room there. */
  reported?: boolean;
};

/**
 * A worker's attempts in flight, by task id, counting those whose outcome it has reported and
 * the distributor is committing: the worker holds those no more, so they leave room for the
 * next (WorkerRegistry.free). Every way an attempt leaves the map keeps the count right.
 */
export class Attempts extends Map<string, InFlight> {
  private reportedCount = 0;

  /** Attempts whose outcome is being committed. */
  get reported(): number {
    return this.reportedCount;
  }

  /** Attempts the worker still holds: sent to it, their outcome not reported. */
  get held(): number {
    return this.size - this.reportedCount;
  }

  override set(taskId: string, flight: InFlight): this {
    if (super.get(taskId)?.reported) this.reportedCount--;
    if (flight.reported) this.reportedCount++;
    return super.set(taskId, flight);
  }

  override delete(taskId: string): boolean {
    if (super.get(taskId)?.reported) this.reportedCount--;
    return super.delete(taskId);
  }

  override clear(): void {
    this.reportedCount = 0;
    super.clear();
  }

  /**
   * Whether the worker reported attempt `fence` of the task (its outcome is being committed), or
   * no longer (its commit did not happen: the worker sends the outcome again). Another fence:
   * nothing. Returns the attempt when it is this one (undefined otherwise).
   */
  setReported(taskId: string, fence: number, reported: boolean): InFlight | undefined {
    const flight = super.get(taskId);
    if (flight === undefined || flight.fence !== fence) return undefined;
    if ((flight.reported ?? false) !== reported) {
      flight.reported = reported;
      this.reportedCount += reported ? 1 : -1;
    }
    return flight;
  }
}

/** An attempt taken back from a worker: its task goes back to the queue under this fence. */
export type AttemptBack = { taskId: string; fence: number };

export type WorkerEntry = {
  id: string;
  url: string | null;
  capacity: number;
  status: WorkerSummary["status"];
  /** Monotonic ms of the last heartbeat (or of adoption, for a worker not heard from yet). */
  lastSeen: number;
  lastHeartbeatAt: string | null;
  inFlight: Attempts;
  done: number;
  load: number;
  taskTypes: string[];
  /** Attempts it may hold per unit of its capacity: PREFETCH, up to maxPrefetch (WorkerRegistry.reported). */
  prefetch: number;
  /** The most its room grows to: what it says it queues (its heartbeats), at most MAX_PREFETCH. */
  maxPrefetch: number;
  /** The remote A2A agents it bridges, as its last heartbeat said. */
  remoteAgents?: RemoteAgentInfo[] | undefined;
  /** It said it is stopping (its last heartbeat): it is sent nothing more. */
  stopping?: boolean;
  /** It fetches dependencies' results a job leaves out (its heartbeats say so; attempt-job.ts). */
  fetchesDependencies?: boolean;
  /** The process heard under this id (workerHeartbeat.instance). */
  instance?: string;
  /** Monotonic ms when it was declared dead (see prune); unset while it lives. */
  deadSince?: number;
  /**
   * The body limit it takes, as last stated: by its heartbeats or by a registration (its own, or
   * registerWorker's option); a heartbeat or registration that states none keeps it.
   */
  maxBodyBytes?: number;
};

/**
 * The distributor's view of its workers: who is alive, what each runs, how much room each
 * has. Liveness is judged on the monotonic clock (ARCHITECTURE invariant 6).
 */
export class WorkerRegistry {
  private readonly workers = new Map<string, WorkerEntry>();

  constructor(private readonly defaultCapacity: number) {}

  get(id: string): WorkerEntry | undefined {
    return this.workers.get(id);
  }

  all(): WorkerEntry[] {
    return [...this.workers.values()];
  }

  alive(): WorkerEntry[] {
    return this.all().filter((w) => w.status !== "dead");
  }

  /** What the workers that take tasks can run at once: a worker that said it stops takes none. */
  capacity(): number {
    return this.alive().reduce((sum, w) => sum + (w.stopping ? 0 : w.capacity), 0);
  }

  /** Registers a worker, or brings a known one back to life. */
  upsert(
    id: string,
    patch: { url?: string | null; capacity?: number; status?: WorkerEntry["status"] } = {},
  ): WorkerEntry {
    let entry = this.workers.get(id);
    if (entry === undefined) {
      entry = {
        id,
        url: null,
        capacity: this.defaultCapacity,
        status: "idle",
        lastSeen: performance.now(),
        lastHeartbeatAt: null,
        inFlight: new Attempts(),
        done: 0,
        load: 0,
        taskTypes: [],
        prefetch: PREFETCH,
        maxPrefetch: LEGACY_BACKLOG_PER_SLOT,
      };
      this.workers.set(id, entry);
    }
    if (patch.url !== undefined) entry.url = patch.url;
    if (patch.capacity !== undefined) entry.capacity = patch.capacity;
    if (patch.status !== undefined) entry.status = patch.status;
    return entry;
  }

  /**
   * Whether a message from worker `id`'s process `instance` is the worker's: the process heard
   * under the id until now, or one that follows it (the other declared dead by the monitor, or
   * stopping: a restart). Another live process under the same id (a copied --id) is not taken:
   * its heartbeats would send this worker's attempts to it and run them twice. A worker that
   * does not say its process (an older release) is always taken.
   *
   * The other's silence is the monitor's verdict (expire, after crediting this distributor's own
   * stalls), not a clock read here: a distributor that did not run for a while (load, a GC
   * pause) read the second's heartbeat before the first's queued ones, found the first "silent"
   * and gave the worker's attempts to the second, which ran tasks too.
   */
  sameProcess(id: string, instance: string | undefined): boolean {
    if (instance === undefined) return true;
    const entry = this.workers.get(id);
    if (entry === undefined) return true;
    const follows =
      entry.instance === undefined ||
      entry.instance === instance ||
      entry.status === "dead" ||
      entry.stopping === true;
    if (!follows) return false;
    entry.instance = instance;
    return true;
  }

  /** A worker registering anew (a new process under a known id): it takes work again. */
  registered(entry: WorkerEntry): void {
    entry.stopping = false;
  }

  heartbeat(id: string, hb: WorkerHeartbeat): WorkerEntry {
    const entry = this.upsert(id, { url: hb.url, capacity: hb.capacity, status: hb.status });
    entry.lastSeen = performance.now();
    entry.lastHeartbeatAt = new Date().toISOString();
    entry.deadSince = undefined;
    entry.done = hb.done;
    entry.load = hb.load;
    entry.taskTypes = hb.task_types;
    entry.remoteAgents = hb.remote_agents;
    entry.stopping = hb.stopping === true;
    entry.fetchesDependencies = hb.fetches_dependencies === true;
    // One that does not say (an older release's) keeps what was stated: by registration too.
    if (hb.max_body_bytes !== undefined) entry.maxBodyBytes = hb.max_body_bytes;
    entry.maxPrefetch = Math.min(MAX_PREFETCH, hb.backlog_per_slot ?? LEGACY_BACKLOG_PER_SLOT);
    if (entry.prefetch > entry.maxPrefetch) entry.prefetch = entry.maxPrefetch;
    const running = new Map(hb.running.map((r) => [r.task_id, r.fence]));
    const now = performance.now();
    for (const [taskId, flight] of entry.inFlight) {
      if (running.get(taskId) === flight.fence) {
        flight.confirmed = true;
      } else if (flight.confirmed) {
        // It ran there and runs no more: its result is on its way, or the worker restarted and
        // lost it. Unconfirmed again, it gets one heartbeat timeout for the result to land
        // before monitorWorkers takes it back (a result that does land later is fenced off).
        flight.confirmed = false;
        flight.dispatchedAt = now;
      }
    }
    return entry;
  }

  /**
   * Free slots: prefetch x capacity minus what we have sent it and not heard back about. A
   * worker holds at least twice what it runs at once, so it starts the next task while the last
   * one's result is on its way (its heartbeat lists the waiting ones too). An attempt whose
   * outcome it reported holds no room while the distributor commits it: the worker is done with it.
   */
  free(entry: WorkerEntry): number {
    if (entry.status === "dead" || entry.stopping) return 0;
    return entry.prefetch * entry.capacity - entry.inFlight.held;
  }

  /**
   * The worker reported outcomes of attempts dispatched at `dispatchedAt` (monotonic ms, the
   * earliest of them); `backlog`: tasks wait here for room. Its room adapts to how fast its
   * attempts come back. A worker left holding less than its concurrency while tasks wait here
   * would idle until the next dispatch reaches it (its tasks end faster than a round trip, as a
   * quick function's do, and most so across processes): its room doubles, up to its maxPrefetch.
   * An attempt that took SLOW_ATTEMPT_MS or more brings it back to PREFETCH (slow tasks are
   * not piled up on one worker).
   */
  reported(entry: WorkerEntry, dispatchedAt: number, backlog: boolean): void {
    if (performance.now() - dispatchedAt >= SLOW_ATTEMPT_MS) {
      entry.prefetch = PREFETCH;
    } else if (backlog && entry.inFlight.held < entry.capacity) {
      entry.prefetch = Math.min(entry.maxPrefetch, entry.prefetch * 2);
    }
  }

  /**
   * Attempts no worker holds any more, each removed from its worker: a dead worker's (and one that
   * landed on it after it was declared dead: a dispatch whose reply was still on the way), and one
   * a live worker never confirmed within `timeoutMs` (a lost dispatch, a worker that restarted).
   * Not those whose outcome was reported and is being committed: the outcome is in hand, and
   * taking them back would fence it off and run the task again (should the commit fail, they
   * are reported no more, and a later call takes them).
   */
  lost(timeoutMs: number): AttemptBack[] {
    const now = performance.now();
    const back: AttemptBack[] = [];
    // The dead workers' first, then the live ones'.
    for (const dead of [true, false]) {
      for (const worker of this.workers.values()) {
        if ((worker.status === "dead") !== dead) continue;
        for (const [taskId, f] of worker.inFlight) {
          if (f.reported) continue;
          if (dead || (f.fence > 0 && !f.confirmed && now - f.dispatchedAt > timeoutMs)) {
            worker.inFlight.delete(taskId);
            back.push({ taskId, fence: f.fence });
          }
        }
      }
    }
    return back;
  }

  /**
   * Of the attempts `worker` says it handed back without running them, those it holds as sent
   * (that fence, outcome not reported), each removed from it: a later attempt of the task is not its.
   */
  returned(worker: WorkerEntry, returned: Array<{ task_id: string; fence: number }>): AttemptBack[] {
    const back: AttemptBack[] = [];
    for (const { task_id, fence } of returned) {
      const flight = worker.inFlight.get(task_id);
      if (flight === undefined || flight.fence !== fence || flight.reported) continue;
      worker.inFlight.delete(task_id);
      back.push({ taskId: task_id, fence });
    }
    return back;
  }

  /**
   * This distributor was not running for `ms` (see StallWatch): that silence is its own, not its
   * workers'. Each live worker's last word, and each attempt still waiting to be confirmed, is
   * taken as `ms` more recent (never in the future).
   */
  credit(ms: number): void {
    const now = performance.now();
    for (const w of this.workers.values()) {
      if (w.status === "dead") continue;
      w.lastSeen = Math.min(now, w.lastSeen + ms);
      for (const f of w.inFlight.values())
        if (!f.confirmed) f.dispatchedAt = Math.min(now, f.dispatchedAt + ms);
    }
  }

  /** Workers silent for longer than the timeout, now declared dead. */
  expire(timeoutMs: number): WorkerEntry[] {
    const now = performance.now();
    const dead: WorkerEntry[] = [];
    for (const entry of this.workers.values()) {
      if (entry.status !== "dead" && now - entry.lastSeen > timeoutMs) {
        entry.status = "dead";
        entry.deadSince = now;
        dead.push(entry);
      }
    }
    return dead;
  }

  /**
   * Forgets workers declared dead more than `retentionMs` ago that hold no attempt any more: listed
   * as dead until then, and a churn of worker ids does not grow the list (or memory) for ever.
   */
  prune(retentionMs: number): void {
    const now = performance.now();
    for (const [id, entry] of this.workers) {
      const longDead = entry.status === "dead" && now - (entry.deadSince ?? entry.lastSeen) > retentionMs;
      if (longDead && entry.inFlight.size === 0) this.workers.delete(id);
    }
  }

  /**
   * What the coordinator lists of each worker. `load`: the attempts it holds, as it said or as
   * sent to it (on their way, or reported and being committed), whichever is more; `running`: those
   * its handlers run — it starts a queued attempt as soon as a slot frees, so of what it said it
   * holds, what fits its capacity; `queued`: the rest.
   */
  summaries(): WorkerSummary[] {
    return this.all().map((w) => {
      const load = w.status === "dead" ? 0 : Math.max(w.load, w.inFlight.size);
      const running = Math.min(load, w.load, w.capacity);
      return {
        id: w.id,
        status: w.status,
        load,
        running,
        queued: load - running,
        capacity: w.capacity,
        last_heartbeat: w.lastHeartbeatAt,
        done: w.done,
        task_types: w.taskTypes,
        ...(w.remoteAgents ? { remote_agents: w.remoteAgents } : {}),
        // Dead after it said it stops: a graceful stop (a rolling restart), not a crash.
        ...(w.status === "dead" && w.stopping === true ? { stopped: true } : {}),
      };
    });
  }
}
