import type { RedisClient } from "../../core/store/index.js";
import type { TaskLedger } from "../ledger/task-ledger.js";
import type { Timing } from "../timing.js";
import type { ClusterSeam } from "./cluster-seam.js";
import type { CoordinatorCore } from "./coordinator-core.js";
import { CoordinatorCounts } from "./coordinator-counts.js";
import { CoordinatorPeers, type CoordinatorView, type HeardDistributor } from "./coordinator-peers.js";
import { stoppedDistributors } from "./distributor-roster.js";
import { ShardLeases } from "./shard-leases.js";

/** Hand-offs watched until their task is placed, at most (a hint's safety net, bounded). */
const MAX_WATCHED_HAND_OFFS = 100_000;
/** Hand-offs checked per tick at most. */
const HAND_OFF_CHECKS_PER_TICK = 500;
/** Open tasks accepted here, remembered at most (one forgotten is told of when it ends: safe). */
const MAX_ACCEPTED = 1_000_000;
/** Tasks the others watch, remembered at most, and for how long (a waiter waits minutes at most). */
const MAX_WATCHED = 100_000;
const WATCH_TTL_MS = 10 * 60_000;

/**
 * The timing of shard ownership, from the agents' heartbeat timing, so that a dead coordinator's
 * shards move within the heartbeat timeout: a tick every half heartbeat interval, leases that
 * live one interval less than the timeout (renewed four times or more per life), views half a
 * tick longer than the leases (a coordinator seen gone has no lease left).
 */
export function ownershipTiming(t: Timing): { tickMs: number; leaseTtlMs: number; viewTtlMs: number } {
  const tickMs = Math.max(10, t.heartbeatIntervalMs / 2);
  const leaseTtlMs = Math.max(t.heartbeatTimeoutMs - t.heartbeatIntervalMs, 4 * tickMs);
  return { tickMs, leaseTtlMs, viewTtlMs: leaseTtlMs + tickMs / 2 };
}

export type CoordinatorClusterOptions = {
  coordinatorId: string;
  store: RedisClient;
  ledger: TaskLedger;
  timing: Timing;
  startedAt: string;
  /** The core this seam serves (made after it: they refer to each other). */
  core: () => CoordinatorCore;
  /** Where this coordinator's A2A listener is, if any. */
  url: () => string | null;
  /** Where this coordinator's REST API answers, if it serves one (cluster-wide task lists ask it). */
  apiUrl?: () => string | null;
  /**
   * A distributor another coordinator hears, reachable at `url`; `maxBodyBytes`: the body limit
   * it stated (max_body_bytes), as the directory took it.
   */
  learnPeer?: (distributorId: string, url: string, maxBodyBytes?: number) => void;
  /** Shards gained or lost (logged by the agent). */
  moved?: (change: { gained: number[]; lost: number[] }) => void;
  /** What the distributors heard first-hand last reported (CoordinatorView.reported). */
  reported?: () => Record<string, [number, number, number]>;
  /** News to the others failed to go out (logged by the agent, once per outage: it is sent again). */
  newsFailed?: (err: unknown, ids: number) => void;
};

/**
 * Several coordinators on one store (SPEC "Several coordinators"). Each one accepts tasks and
 * answers for every task; the work that must have one actor per task — placing what is
 * unplaced, moving a dead distributor's tasks, timing out placement — is split by shard through
 * owner leases with fencing tokens (ShardLeases). Members, the distributors each hears and news
 * between them go through the store (CoordinatorPeers). A coordinator alone owns all 16 shards
 * and behaves as it always did.
 */
export class CoordinatorCluster implements ClusterSeam {
  readonly leases: ShardLeases;
  readonly peers: CoordinatorPeers;
  /** The whole cluster's task counts, kept in the store (a coordinator gone leaves its counts in). */
  readonly counts: CoordinatorCounts;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | null = null;
  /** Shards gained and not rescanned yet, and the rescan running (one at a time, beside the ticks). */
  private readonly toRescan = new Set<number>();
  private rescanning: Promise<void> | null = null;
  private stopped = false;
  /** Tasks handed to their shard's owner, with when to check that it placed them (monotonic ms). */
  private readonly handedOff = new Map<string, number>();
  /** Open tasks accepted here while others were alive: their waiters are here (see ended()). */
  private readonly acceptedHere = new Set<string>();
  /** Tasks another coordinator asked to be told of when they end, with when it asked (monotonic ms). */
  private readonly watchedElsewhere = new Map<string, number>();
  private readonly tickMs: number;
  /** Per dead distributor, the death (its deadSince) and the shards a late renewal took its tasks off in (or is taking). */
  private readonly takenOffLate = new Map<string, { deadSince: number | undefined; shards: Set<number> }>();

  constructor(private readonly o: CoordinatorClusterOptions) {
    const own = ownershipTiming(o.timing);
    this.tickMs = own.tickMs;
    this.peers = new CoordinatorPeers({
      coordinatorId: o.coordinatorId,
      store: o.store,
      // Longer than a shard lease: when the others see a coordinator gone, its leases have
      // expired too, and they take its shards in that same tick.
      ttlMs: own.viewTtlMs,
      retentionMs: o.timing.deadRetentionMs,
      view: () => this.view(),
      ...(o.newsFailed ? { newsFailed: o.newsFailed } : {}),
      ended: (ids) => {
        // Heard first-hand elsewhere: no report of these comes here, so they are no longer awaited as such.
        for (const id of ids) this.acceptedHere.delete(id);
        void o
          .core()
          .endedElsewhere(ids)
          .catch(() => {});
      },
      watched: (ids) => {
        const now = performance.now();
        for (const id of ids) {
          this.watchedElsewhere.delete(id); // kept in the order asked, for pruning
          this.watchedElsewhere.set(id, now);
        }
        forgetOldest(this.watchedElsewhere, MAX_WATCHED);
      },
      unplaced: (ids) => {
        for (const id of ids)
          void o
            .core()
            .adoptIfUnplaced(id)
            .catch(() => {});
      },
    });
    this.counts = new CoordinatorCounts({
      store: o.store,
      coordinatorId: o.coordinatorId,
      startedAt: o.startedAt,
      counts: () => ({ ...o.core().stats }),
      ended: () => o.ledger.endCounts(),
    });
    this.leases = new ShardLeases({
      coordinatorId: o.coordinatorId,
      store: o.store,
      shards: o.ledger.shards,
      ttlMs: own.leaseTtlMs,
      members: () => this.peers.members(),
      gained: async (shards) => {
        o.moved?.({ gained: shards, lost: [] });
        await this.peers.publish().catch(() => {}); // the others see the new owner now, not a tick later
        // Not awaited: a rescan reads every open task of the shards, which under a backlog on a busy
        // machine can take longer than a lease lives; the renewals must go on meanwhile (awaited,
        // the leases lapsed, were taken again and rescanned again, for ever).
        this.rescan(shards);
      },
      lost: (shards) => o.moved?.({ gained: [], lost: shards }),
      // Owned all along, not on this clock for a while: the dead distributors' tasks skipped meanwhile move now.
      renewedLate: (shards) => this.takeOffLate(shards),
    });
  }

  ownerValue(taskId: string): string | null {
    return this.leases.ownerValue(this.o.ledger.shardOf(taskId));
  }

  ownerOf(taskId: string): { id: string; url: string | null } | undefined {
    const shard = this.o.ledger.shardOf(taskId);
    const view = this.peers.others().find((v) => v.shards.includes(shard));
    return view === undefined ? undefined : { id: view.id, url: view.url };
  }

  owned(): number[] {
    return this.leases.owned();
  }

  handOff(taskId: string): void {
    this.peers.handOff(taskId);
    if (this.handedOff.size < MAX_WATCHED_HAND_OFFS)
      this.handedOff.set(taskId, performance.now() + this.o.timing.heartbeatTimeoutMs);
  }

  accepted(taskId: string): void {
    if (!this.peers.hasOthers) return;
    this.acceptedHere.add(taskId);
    forgetOldest(this.acceptedHere, MAX_ACCEPTED);
  }

  /**
   * A task's end goes out as news only where it may be awaited elsewhere: when another
   * coordinator accepted it (a reassigned or canceled task, say: its waiters are there), or
   * asked to watch it. A task accepted here and ended here, the common case, costs no news.
   * Only a first-hand end decides (and forgets the task): an end read from the ledger first (a
   * waiter that waited long) is followed by the distributor's report, which must still know
   * the task was accepted here, or it would be told to every coordinator.
   */
  ended(taskId: string, firstHand: boolean): void {
    if (!firstHand) return;
    const acceptedHere = this.acceptedHere.delete(taskId);
    const watched = this.watchedElsewhere.delete(taskId);
    if (watched || !acceptedHere) this.peers.announceEnded(taskId);
  }

  watch(taskId: string): Promise<void> | undefined {
    return this.peers.hasOthers ? this.peers.watch(taskId) : undefined;
  }

  alone(): boolean {
    return !this.peers.everHadOthers;
  }

  /** Joins: learns the others, takes its share of the shards (rescanning them), then ticks every heartbeat interval. */
  async start(): Promise<void> {
    // A distributor heard only through a coordinator that is gone is given the time it takes to
    // move to another (a failed heartbeat waits half a timeout, then the next one goes elsewhere).
    const t = this.o.timing;
    this.o.core().directory.graceFor = (d) =>
      d.via !== null && !this.peers.members().includes(d.via)
        ? t.heartbeatTimeoutMs / 2 + 2 * t.heartbeatIntervalMs
        : 0;
    await this.peers.start();
    this.importDistributors();
    await this.leases.tick();
    await this.tickCounts();
    this.timer ??= setInterval(() => {
      this.ticking ??= this.tick()
        .catch(() => {})
        .finally(() => {
          this.ticking = null;
        });
    }, this.tickMs).unref();
    // The shards it starts with are rescanned before it serves, the leases renewed meanwhile.
    await this.rescanning;
  }

  /**
   * Leaves: gives its shards back and removes itself, so the others take over at their next
   * tick. `{ release: false }` only stops ticking (a crash, in tests): the others wait for the leases to expire.
   */
  async stop(options: { release?: boolean } = {}): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.stopped = true;
    await this.ticking;
    await this.rescanning;
    if (options.release === false) return;
    await this.counts.write().catch(() => {});
    await this.leases.releaseAll();
    await this.peers.stop();
  }

  /** Rescans `shards` (CoordinatorCore.restore) after any rescan running, with what was gained meanwhile. */
  private rescan(shards: number[]): void {
    for (const shard of shards) this.toRescan.add(shard);
    this.rescanning ??= this.rescanAll().finally(() => {
      this.rescanning = null;
    });
  }

  private async rescanAll(): Promise<void> {
    while (this.toRescan.size > 0 && !this.stopped) {
      const shards = [...this.toRescan].sort((a, b) => a - b);
      this.toRescan.clear();
      try {
        await this.o.core().restore(shards);
      } catch {
        // The store failed mid-read: the shards still owned are rescanned again a tick later.
        const owned = new Set(this.leases.owned());
        for (const shard of shards) if (owned.has(shard)) this.toRescan.add(shard);
        await new Promise((resolve) => setTimeout(resolve, this.tickMs));
      }
    }
  }

  private async tick(): Promise<void> {
    // Renewals do not wait behind the reads of the others' views (a slow store must not cost the
    // leases); the shares are then computed with the members just read, so a coordinator seen
    // gone this tick has its shards taken this tick, once their leases have expired.
    await this.leases.tick(this.peers.tick().then(() => this.importDistributors()));
    await this.checkHandOffs();
    await this.tickCounts();
    await this.readStopped().catch(() => {});
    // Watches of tasks that ended elsewhere (or never) are dropped once old.
    const old = performance.now() - WATCH_TTL_MS;
    for (const [id, at] of this.watchedElsewhere) {
      if (at > old) break;
      this.watchedElsewhere.delete(id);
    }
  }

  /**
   * Leases renewed late (`shards`, owned all along but not on this clock for a while): the tasks
   * of the distributors that died meanwhile, skipped in those shards by the take-off at their
   * death, move now. Once per death and shard: a second late renewal of a shard whose tasks of
   * that death were taken off (or are being taken) does not take them off again (before, every
   * late renewal took every dead distributor off anew, beside any take-off still running). A
   * take-off the store failed is tried again at the next monitor tick (DeadDistributors); its
   * shards, and those a take-off left (lapsed again before they were read), are a next late renewal's too.
   */
  private takeOffLate(shards: number[]): void {
    const core = this.o.core();
    const dead = core.directory.all().filter((d) => d.status === "dead");
    const ids = new Set(dead.map((d) => d.id));
    for (const id of this.takenOffLate.keys()) if (!ids.has(id)) this.takenOffLate.delete(id);
    for (const d of dead) {
      let done = this.takenOffLate.get(d.id);
      if (done === undefined || done.deadSince !== d.deadSince) {
        done = { deadSince: d.deadSince, shards: new Set() };
        this.takenOffLate.set(d.id, done);
      }
      const todo = shards.filter((shard) => !done.shards.has(shard));
      if (todo.length === 0) continue;
      for (const shard of todo) done.shards.add(shard);
      // Those it left (lapsed again meanwhile), or all when it failed, are the next late renewal's.
      const undo = (left: number[]) => {
        for (const shard of left) done.shards.delete(shard);
      };
      void core.moveOff(d.id).then(undo, () => undo(todo));
    }
  }

  /**
   * A distributor declared dead here as crashed (silent) that said it stops to another
   * coordinator, which marked it in the store (distributor-registry-3.lua): listed stopped here
   * too. The store's record wins, whenever it is written: read again at each tick while such a
   * distributor is listed dead unmarked (one read for all of them), not once per death — the
   * mark of a stop heard elsewhere may land after this coordinator saw the distributor fall
   * silent (a slow store, a loaded host), and was then missed for the whole retention.
   */
  private async readStopped(): Promise<void> {
    const unmarked = this.o
      .core()
      .directory.all()
      .filter((d) => d.status === "dead" && d.stopped !== true);
    if (unmarked.length === 0) return;
    const stopped = await stoppedDistributors(this.o.store);
    for (const d of unmarked) if (d.status === "dead" && stopped.has(d.id)) d.stopped = true;
  }

  /** Writes this coordinator's counts and reads the cluster's (a store that failed: the next tick does). */
  private async tickCounts(): Promise<void> {
    const others = this.peers.others();
    await this.counts
      .tick((id, startedAt) => others.some((v) => v.id === id && v.started_at === startedAt))
      .catch(() => {});
  }

  /**
   * News may be lost (a dropped subscription, an owner changing hands): a task handed off and
   * still on no distributor a heartbeat timeout later is handed off again, or placed here if
   * this coordinator owns its shard by now. One still on a distributor declared dead here (taken
   * off it, then handed off by a placement pass while this lease had lapsed) is taken off again
   * once its shard is owned here (moveOff: it is held for placement anew; noted once).
   */
  private async checkHandOffs(): Promise<void> {
    const now = performance.now();
    const due: string[] = [];
    for (const [id, at] of this.handedOff) {
      if (at <= now) due.push(id);
      if (due.length >= HAND_OFF_CHECKS_PER_TICK) break;
    }
    const records = await Promise.all(due.map((id) => this.o.ledger.get(id)));
    const directory = this.o.core().directory;
    /** Dead distributors with a task handed off still on them, in a shard owned here now. */
    const deadHolders = new Set<string>();
    records.forEach((r, i) => {
      const id = due[i]!;
      // Taken off a dead distributor, then dropped by a placement pass while the lease had lapsed
      // here: it still names the dead one. Owned here now: its take-off is done again (noted once).
      const holder = r?.distributor ?? null;
      const onDead =
        holder !== null &&
        (r!.task.status === "pending" || r!.task.status === "in_progress") &&
        directory.get(holder)?.status === "dead";
      if (onDead && this.ownerValue(id) !== null) {
        this.handedOff.delete(id);
        deadHolders.add(holder!);
        return;
      }
      // Still on the dead one, its shard not owned here now (the renewal later still, or the
      // shard moved: its new owner takes it off): checked again, not forgotten (before, nothing
      // moved it again and it stayed on the dead distributor for good).
      if (onDead) {
        this.handedOff.set(id, now + this.o.timing.heartbeatTimeoutMs);
        return;
      }
      const unplaced =
        r !== null && r.distributor === null && r.task.status === "pending" && !r.task.waiting_on?.length;
      if (!unplaced || this.ownerValue(id) !== null) {
        this.handedOff.delete(id);
        if (unplaced)
          void this.o
            .core()
            .adoptIfUnplaced(id)
            .catch(() => {});
        return;
      }
      this.peers.handOff(id);
      this.handedOff.set(id, now + this.o.timing.heartbeatTimeoutMs);
    });
    const core = this.o.core();
    for (const id of deadHolders) void core.moveOff(id).catch(() => {});
  }

  private importDistributors(): void {
    const core = this.o.core();
    let heard = false;
    for (const view of this.peers.others()) {
      for (const d of view.distributors ?? []) {
        core.directory.heardElsewhere(d, view.id);
        if (d.url) this.o.learnPeer?.(d.id, d.url, core.directory.get(d.id)?.maxBodyBytes);
        heard = true;
      }
    }
    if (heard) core.heardElsewhere();
  }

  private view(): CoordinatorView {
    const core = this.o.core();
    const now = performance.now();
    const distributors: HeardDistributor[] = [];
    const { heartbeatTimeoutMs } = this.o.timing;
    for (const d of core.directory.all()) {
      // Only what this coordinator heard itself: not a registry entry still given its one timeout.
      if (d.via !== null || d.lastHeartbeatAt === null) continue;
      // A dead one is left out, but one that said it stops is told of for a heartbeat timeout
      // more, so the others list it as stopped too, not as crashed once it falls silent.
      const dead = d.status === "dead";
      if (dead && !(d.stopped === true && now - d.lastSeen <= heartbeatTimeoutMs)) continue;
      distributors.push({
        id: d.id,
        url: d.url,
        status: d.status === "dead" ? "idle" : d.status,
        load: d.load,
        capacity: d.capacity,
        owns_lease: d.ownsLease,
        workers: d.workers,
        done: d.done,
        last_heartbeat_at: d.lastHeartbeatAt,
        ...(d.sentAt === null ? {} : { sent_at: d.sentAt }),
        age_ms: Math.max(0, Math.round(now - d.lastSeen)),
        ...(d.stopped === true ? { stopping: true as const } : {}),
        ...(d.maxBodyBytes === undefined ? {} : { max_body_bytes: d.maxBodyBytes }),
      });
    }
    return {
      id: this.o.coordinatorId,
      url: this.o.url(),
      api_url: this.o.apiUrl?.() ?? null,
      started_at: this.o.startedAt,
      published_at: new Date().toISOString(),
      shards: this.leases.owned(),
      stats: { ...core.stats },
      waiting: core.unplacedCount,
      ...(this.o.reported ? { reported: this.o.reported() } : {}),
      distributors,
    };
  }
}

/** Drops the oldest entries of an insertion-ordered set or map beyond `max`. */
function forgetOldest(entries: Set<string> | Map<string, unknown>, max: number): void {
  while (entries.size > max) entries.delete(entries.keys().next().value!);
}
