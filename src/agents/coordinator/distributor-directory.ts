import type { DistributorHeartbeat, WorkerSummary } from "../protocol.js";
import { DEFAULT_TIMING } from "../timing.js";
import type { HeardDistributor } from "./coordinator-peers.js";
import { TypeRunners } from "./type-runners.js";

export type DistributorEntry = {
  id: string;
  url: string | null;
  status: "idle" | "busy" | "error" | "recovering" | "dead";
  /** Monotonic ms of the last heartbeat (or of registration / restart, before the first one). */
  lastSeen: number;
  lastHeartbeatAt: string | null;
  /**
   * When the distributor sent the last heartbeat taken (epoch ms on its own clock, the message's
   * timestamp; null before one, or when a peer's view did not say). Heartbeats of one distributor
   * are ordered by it — one clock — wherever they were heard: a heartbeat held up on the way (a
   * coordinator SIGSTOPped with it in its socket, a retry) arrives after newer ones and is not taken.
   */
  sentAt: number | null;
  load: number;
  capacity: number;
  ownsLease: boolean;
  workers: WorkerSummary[];
  done: number;
  /** Placed here since its last heartbeat, so a burst does not all land on one distributor. */
  placedSinceHeartbeat: number;
  /** Reported ended by it since its last heartbeat (tasks placed by this coordinator), so its fill falls as they end. */
  endedSinceHeartbeat: number;
  /** The coordinator that hears its heartbeats, when it is another one (several coordinators); null: this one. */
  via: string | null;
  /** Its last heartbeat said it stops (a graceful exit): dead at the next expire(), whatever its age. */
  stopped?: boolean;
  /** Monotonic ms when it was declared dead (see longDead); unset while it lives. */
  deadSince?: number;
  /** The body limit it last stated (max_body_bytes), by a heartbeat or its registration; kept when one does not say. */
  maxBodyBytes?: number;
};

/**
 * A distributor heard through another coordinator (several coordinators), when placing: with
 * free slots it looks this much fuller (a share of its capacity)...
 */
const REMOTE_PENALTY = 0.5;
/**
 * ...and with none, this many times fuller: under a backlog a coordinator keeps to the
 * distributors it hears itself, so that each distributor talks to one coordinator in large
 * batches, and a remote one still gets work whenever it reports free slots, or once the local
 * backlog runs this many times deeper. (With the penalty alone, each of two coordinators placed
 * ~60 % of a backlog on the other's distributor, whose load it only knows from a view up to a
 * heartbeat old: each distributor then split its reports over two coordinators, and the two
 * together spent 36 µs per task more than one; docs/PERFORMANCE.md.)
 */
const REMOTE_FACTOR = 4;

/**
 * While a distributor this coordinator hears itself has free slots (fewer tasks held, as far as
 * this coordinator knows, than its workers' capacity), it keeps taking new tasks, and an
 * emptier one gets none: tasks are packed onto one distributor until it is full, and only then
 * spread by load. A packed distributor with a free slot starts a task as soon as an emptier one
 * would; but each message between the tiers is signed, sent, verified and answered whatever it
 * carries (between processes, over HTTP, that is most of a task's cost), and spreading a light
 * load over every distributor only makes each message carry fewer tasks. (Two distributor
 * processes, one call at a time: 1,800–2,250 tasks/s at about 800 µs of CPU per task spread,
 * 2,700–2,900 packed; docs/PERFORMANCE.md, "Thirteenth session".)
 */
const PACK_FILL = 1;

/** Healthy: heard from within the timeout, holding its lease, not failed. */
function isHealthy(d: DistributorEntry): boolean {
  return d.status !== "dead" && d.status !== "error" && d.ownsLease;
}

/** Healthy, with workers, heard by this coordinator itself: one that packing may fill. */
function packable(d: DistributorEntry): boolean {
  return isHealthy(d) && d.capacity > 0 && d.via === null;
}

/** Tasks held per unit of capacity, as known here: the last heartbeat's load, plus what was placed, minus what ended since. */
function fillOf(d: DistributorEntry): number {
  return Math.max(0, d.load + d.placedSinceHeartbeat - d.endedSinceHeartbeat) / Math.max(1, d.capacity);
}

/** Whether `current`, the distributor being packed, still has free slots packing may fill (and, given `pool`, is in it). */
function packingFits(
  current: DistributorEntry | undefined,
  pool?: ReadonlySet<DistributorEntry>,
): current is DistributorEntry {
  return (
    current !== undefined &&
    (pool === undefined || pool.has(current)) &&
    packable(current) &&
    fillOf(current) < PACK_FILL
  );
}

/** The fullest of `pool` with free slots that packing may fill (see PACK_FILL). */
function packedOf(pool: Iterable<DistributorEntry>): DistributorEntry | undefined {
  let packed: DistributorEntry | undefined;
  let packedFill = -1;
  for (const d of pool) {
    if (!packable(d)) continue;
    const fill = fillOf(d);
    if (fill < PACK_FILL && fill > packedFill) {
      packed = d;
      packedFill = fill;
    }
  }
  return packed;
}

/**
 * The healthy distributor of `pool` (other than `except`) with the lowest load per unit of
 * capacity, one heard through another coordinator counted fuller (see REMOTE_PENALTY), and one
 * with workers preferred (see leastLoaded; runnerElsewhere chooses among its runners so too).
 */
function leastFilled(pool: Iterable<DistributorEntry>, except?: string): DistributorEntry | undefined {
  let best: DistributorEntry | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  let bestHasWorkers = false;
  for (const d of pool) {
    if (d.id === except || !isHealthy(d)) continue;
    const hasWorkers = d.capacity > 0;
    if (bestHasWorkers && !hasWorkers) continue;
    // See REMOTE_PENALTY and REMOTE_FACTOR.
    const fill = fillOf(d);
    const score = d.via === null ? fill : fill < 1 ? fill + REMOTE_PENALTY : fill * REMOTE_FACTOR;
    if ((hasWorkers && !bestHasWorkers) || score < bestScore) {
      best = d;
      bestScore = score;
      bestHasWorkers = hasWorkers;
    }
  }
  return best;
}

/** The coordinator's view of its distributors: who is alive, and who has room. */
export class DistributorDirectory {
  private readonly entries = new Map<string, DistributorEntry>();
  /** The distributor being packed (see PACK_FILL): it keeps taking tasks while it has free slots. */
  private packing: DistributorEntry | undefined;
  /**
   * How long a distributor whose workers of a type went is still taken for that type's runner
   * (the coordinator sets its timing.deadRetentionMs: as long as the distributor remembers a dead
   * worker, see dispatch-plan.ts).
   */
  rememberRunnersMs: () => number = () => DEFAULT_TIMING.deadRetentionMs;
  /** Which distributors have a live worker that runs each task type (see leastLoaded). */
  private readonly runners = new TypeRunners<DistributorEntry>(() => this.rememberRunnersMs());

  get(id: string): DistributorEntry | undefined {
    return this.entries.get(id);
  }

  all(): DistributorEntry[] {
    return [...this.entries.values()];
  }

  upsert(id: string, url: string | null | undefined): DistributorEntry {
    let entry = this.entries.get(id);
    if (entry === undefined) {
      entry = {
        id,
        url: url ?? null,
        status: "idle",
        lastSeen: performance.now(),
        lastHeartbeatAt: null,
        sentAt: null,
        load: 0,
        capacity: 0,
        ownsLease: true,
        workers: [],
        done: 0,
        placedSinceHeartbeat: 0,
        endedSinceHeartbeat: 0,
        via: null,
      };
      this.entries.set(id, entry);
    } else if (url !== undefined && url !== null) {
      entry.url = url;
    }
    return entry;
  }

  /**
   * Distributor `id` registered (from `url`; `maxBodyBytes`: the body limit it stated, if it did):
   * alive again, given one timeout to speak, no longer listed stopped; a limit it stated before is
   * kept when it states none.
   */
  registered(id: string, url: string | null, maxBodyBytes?: number): DistributorEntry {
    const entry = this.upsert(id, url);
    entry.lastSeen = performance.now();
    if (entry.status === "dead") entry.status = "recovering";
    entry.stopped = undefined;
    if (maxBodyBytes !== undefined) entry.maxBodyBytes = maxBodyBytes;
    return entry;
  }

  /**
   * A distributor named by an open task but not registered (forgotten while a task was placed on
   * it through another coordinator): given one timeout to speak, placed on nothing until it does.
   */
  unheard(id: string): void {
    this.upsert(id, null).ownsLease = false;
  }

  /**
   * Whether a message of distributor `id` from `url`, not holding its lease, comes from another
   * process than the one that does: a second process under the same id (a copied --id, a
   * standby) waits for the lease, and its heartbeats must not replace the holder's address and
   * load. Once the holder falls silent for `timeoutMs` (or is declared dead), the other is taken.
   */
  otherProcess(id: string, url: string | null, ownsLease: boolean, timeoutMs: number): boolean {
    if (ownsLease) return false;
    const entry = this.entries.get(id);
    if (entry === undefined || !entry.ownsLease || entry.status === "dead" || entry.via !== null)
      return false;
    if (entry.url === null || url === null || entry.url === url) return false;
    return performance.now() - entry.lastSeen <= timeoutMs;
  }

  /**
   * A heartbeat the distributor sent at `sentAt` (epoch ms, its clock; undefined: not known).
   * Undefined when it is older than the last one taken here, first-hand or from a peer's view: it
   * says nothing new, and is dropped. `firstHand`: heard by this coordinator itself (not through
   * another's view): a change of the types its workers run is told to typesChanged.
   */
  heartbeat(
    id: string,
    hb: DistributorHeartbeat,
    sentAt?: number,
    firstHand = true,
  ): DistributorEntry | undefined {
    const prior = this.entries.get(id);
    const known = prior?.sentAt ?? null;
    const at = sentAt !== undefined && Number.isFinite(sentAt) ? sentAt : null;
    if (known !== null && at !== null && at < known) return undefined;
    // Listed stopped (its last word, or the store's mark), it is back only by registering or by
    // a heartbeat holding its lease: one without (a late one, on its way as the stop gave the
    // lease back) would undo the stop, and the stopped distributor be listed alive, then crashed.
    if (prior?.stopped === true && !hb.owns_lease && hb.stopping !== true) return undefined;
    const entry = this.upsert(id, hb.url);
    entry.sentAt = at ?? entry.sentAt;
    entry.status = hb.status;
    entry.lastSeen = performance.now();
    entry.lastHeartbeatAt = new Date().toISOString();
    entry.load = hb.load;
    entry.capacity = hb.capacity;
    entry.ownsLease = hb.owns_lease;
    entry.workers = hb.workers;
    if (this.runners.set(entry, hb.workers) && firstHand)
      this.typesChanged(id, this.runners.runsOrRan(entry));
    entry.done = hb.done;
    entry.placedSinceHeartbeat = 0;
    entry.endedSinceHeartbeat = 0;
    entry.via = null;
    entry.deadSince = undefined;
    // Its last word (a graceful stop): gone, for the next monitor tick to move its tasks.
    entry.stopped = hb.stopping === true;
    // Checked here too: a peer coordinator's view (heardElsewhere) is not parsed by the protocol.
    // One that states none (an older release's) keeps what was stated, by its registration too.
    const limit = hb.max_body_bytes;
    if (Number.isSafeInteger(limit) && (limit as number) > 0) entry.maxBodyBytes = limit;
    return entry;
  }

  /**
   * What coordinator `via` heard from a distributor `d.age_ms` ago: taken when it is newer than
   * what this coordinator heard itself (a distributor moves between coordinators when one dies)
   * — by the distributor's own clock when both say when it was sent, else by when each was heard.
   */
  heardElsewhere(d: HeardDistributor, via: string): void {
    const lastSeen = performance.now() - d.age_ms;
    const entry = this.entries.get(d.id);
    const sentAt = typeof d.sent_at === "number" && Number.isFinite(d.sent_at) ? d.sent_at : undefined;
    if (entry !== undefined) {
      const older =
        entry.sentAt !== null && sentAt !== undefined ? sentAt <= entry.sentAt : entry.lastSeen >= lastSeen;
      if (older) return;
    }
    const { age_ms: _, owns_lease, last_heartbeat_at, sent_at: __, ...hb } = d;
    const updated = this.heartbeat(d.id, { kind: "distributor_status", owns_lease, ...hb }, sentAt, false);
    if (updated === undefined) return;
    updated.lastSeen = lastSeen;
    updated.lastHeartbeatAt = last_heartbeat_at;
    updated.via = via;
  }

  /**
   * The types a distributor runs or ran changed, as a heartbeat heard here says (sorted; empty:
   * none): those its live workers run, and those it is remembered for (its workers of the type
   * went within the retention: see TypeRunners.runsOrRan). Kept in the store
   * (DistributorRoster.saveTypes), for a coordinator that starts while it is dead, or back
   * without its workers (its first heartbeats list none). Not called for an unchanged heartbeat;
   * called by expireRemembered once a remembered type runs past the retention.
   */
  typesChanged: (id: string, types: string[]) => void = () => {};

  /**
   * Forgets the types distributors are remembered for past the retention (each monitor tick:
   * DistributorRoster.tick), telling typesChanged for those heard here first-hand.
   */
  expireRemembered(): void {
    for (const entry of this.runners.expireLost()) {
      if (this.entries.get(entry.id) !== entry || entry.via !== null || entry.lastHeartbeatAt === null)
        continue;
      this.typesChanged(entry.id, this.runners.runsOrRan(entry));
    }
  }

  /**
   * What the store remembers distributor `id` runs or ran (see typesChanged), for an entry not
   * heard yet (restored from the registry, or named by a task): a type whose only runners are
   * dead is then known here too, and its tasks wait for one. An entry already heard keeps what
   * its heartbeats said; one whose heartbeat (come before the store was read) listed no live
   * worker of a known type — back without its workers — is remembered for the stored types, as
   * the coordinator that wrote them remembers it.
   */
  rememberTypes(id: string, types: readonly string[]): void {
    const entry = this.entries.get(id);
    if (entry === undefined) return;
    if (entry.lastHeartbeatAt === null) this.runners.remember(entry, types);
    else if (this.runners.typesOfEntry(entry).size === 0) this.runners.rememberGone(entry, types);
  }

  /** Healthy: neither declared dead nor reporting an error, and holding its lease (workers or not: see capacity). */
  healthy(): DistributorEntry[] {
    return this.all().filter(isHealthy);
  }

  /**
   * Where the next task goes: among the healthy distributors with a live worker that has said
   * it runs `taskType` when there are any (a heterogeneous cluster: a task placed on a
   * distributor none of whose workers runs its type fails there as unknown), else among all of
   * them, as when the types are not known yet; none (undefined) while the type's only known
   * runners are dead but remembered (awaitsRunner: the task waits for one). Among those, the distributor being packed while
   * it has free slots (see PACK_FILL), else the fullest one with free slots that this
   * coordinator hears itself; with none, the healthy distributor with the lowest load per unit
   * of capacity (preferring those with workers; with none anywhere, any healthy one will hold
   * the task). Called once per task placed: one map lookup (TypeRunners, kept on heartbeats),
   * at most two passes over the type's distributors and two over all, nothing allocated.
   */
  leastLoaded(taskType?: string): DistributorEntry | undefined {
    const to = this.placeFor(taskType);
    return to === "waits" ? undefined : to;
  }

  /**
   * leastLoaded, saying why it found none in the same pass: "waits" when the task waits for a
   * runner of its type (what awaitsRunner answers), undefined when no distributor is healthy now
   * (a type no distributor is known to run included: placed as any task once one is).
   */
  placeFor(taskType?: string): DistributorEntry | "waits" | undefined {
    const able = taskType === undefined ? undefined : this.runners.of(taskType);
    // No live worker runs it anywhere, but one did lately on a distributor (dead, or restarted
    // without its workers): it waits for that runner — placed on such a distributor that is
    // healthy (it waits there for its worker), else nowhere — not sent to fail as unknown.
    const lost = able === undefined && taskType !== undefined ? this.runners.remembered(taskType) : undefined;
    if (lost !== undefined && !this.runners.anyUnsure(isHealthy)) return leastFilled(lost.keys());
    // Every distributor runs it (a cluster of one kind): placed as any task, packing kept.
    // A healthy distributor with a worker that has not said what it runs yet (just started): any
    // of them may run the type, so placed as any task until they have said.
    if (able !== undefined && able.size < this.entries.size && !this.runners.anyUnsure(isHealthy)) {
      if (packingFits(this.packing, able)) return this.packing;
      // None of them healthy: its only runners are dead but remembered, it waits for one, not
      // sent to fail as unknown.
      return packedOf(able) ?? leastFilled(able) ?? "waits";
    }
    if (packingFits(this.packing)) return this.packing;
    this.packing = packedOf(this.entries.values());
    const any = this.packing ?? leastFilled(this.entries.values());
    // None healthy at all (so none unsure either): a type some distributor is remembered to run
    // waits for one (as awaitsRunner says), any other waits for a distributor.
    return any ?? (able !== undefined ? "waits" : undefined);
  }

  /**
   * Whether a task of `taskType` waits for a runner (placed nowhere, see placeFor): some
   * distributor is remembered to run it (dead or unhealthy now, not forgotten: within the
   * dead-agent retention, it may come back) or had a live worker of it lately (TypeRunners.remembered:
   * its workers of the type died, or it came back without them), none healthy has a live worker
   * of it, and no healthy distributor has a worker whose types are not known yet. A type no distributor is known to run never waits: it
   * is placed as any task, and fails as unknown there (the contract).
   */
  awaitsRunner(taskType: string): boolean {
    const able = this.runners.of(taskType);
    if (able === undefined && this.runners.remembered(taskType) === undefined) return false;
    for (const d of able ?? []) if (isHealthy(d)) return false;
    return !this.runners.anyUnsure(isHealthy);
  }

  /**
   * Extra silence allowed a distributor before it is dead (several coordinators: one heard only
   * through a coordinator that is gone is moving to another, see CoordinatorCluster).
   */
  graceFor: (d: DistributorEntry) => number = () => 0;

  /**
   * This coordinator was not running for `ms` (see StallWatch): that silence is its own, not its
   * distributors'. Each live one's last word is taken as `ms` more recent (never in the future),
   * so it has the time it had left to be heard again before it can be declared dead.
   */
  credit(ms: number): void {
    const now = performance.now();
    for (const d of this.entries.values()) {
      if (d.status !== "dead") d.lastSeen = Math.min(now, d.lastSeen + ms);
    }
  }

  expire(timeoutMs: number): DistributorEntry[] {
    const now = performance.now();
    const dead: DistributorEntry[] = [];
    for (const d of this.entries.values()) {
      const silent = now - d.lastSeen > timeoutMs + (d.via === null ? 0 : this.graceFor(d));
      if (d.status !== "dead" && (silent || d.stopped === true)) {
        d.status = "dead";
        d.deadSince = now;
        dead.push(d);
      }
    }
    return dead;
  }

  /** Those declared dead more than `retentionMs` ago: listed as dead long enough, to be forgotten. */
  longDead(retentionMs: number): DistributorEntry[] {
    const now = performance.now();
    return this.all().filter(
      (d) => d.status === "dead" && d.deadSince !== undefined && now - d.deadSince > retentionMs,
    );
  }

  /**
   * For a task handed back by `except` (none of its live workers runs `taskType`): the least
   * filled healthy distributor other than it with a live worker that has said it runs the type,
   * if any (src/agents/coordinator/type-hand-back.ts); with none anywhere, one whose workers ran
   * it lately (it waits there for them), unless `except` is such a one itself. Chosen among them
   * as any placement is (leastFilled): one heard through another coordinator counts fuller.
   */
  runnerElsewhere(taskType: string, except: string): DistributorEntry | undefined {
    const able = this.runners.of(taskType);
    if (able !== undefined) return leastFilled(able, except);
    // None runs it now, but one ran it lately (see leastLoaded): it waits there, unless the sender
    // is such a one itself (it waits for its own worker; no moving between two that wait).
    const lost = this.runners.remembered(taskType);
    if (lost === undefined) return undefined;
    for (const d of lost.keys()) if (d.id === except) return undefined;
    return leastFilled(lost.keys());
  }

  /**
   * Whether a distributor other than `except` may run `taskType` soon, though none is known to
   * now: a healthy one has a live worker that has not said yet what it runs (just started), or
   * one whose workers ran it is not healthy now (not forgotten yet: it may come back).
   */
  mayRunSoon(taskType: string, except: string): boolean {
    for (const d of this.runners.of(taskType) ?? []) if (d.id !== except && !isHealthy(d)) return true;
    return this.runners.anyUnsure((d) => d.id !== except && isHealthy(d));
  }

  /** Drops a distributor's entry (long dead, its tasks moved): should it speak again, it is new. */
  forget(id: string): void {
    if (this.packing?.id === id) this.packing = undefined;
    const entry = this.entries.get(id);
    if (entry !== undefined) this.runners.remove(entry);
    this.entries.delete(id);
  }
}
