import type { JsonValue } from "../../core/json.js";
import type { RedisClient } from "../../core/store/index.js";
import type { WorkerSummary } from "../protocol.js";
import { DEFAULT_TIMING } from "../timing.js";
import {
  type GoneCoordinator,
  GoneCoordinators,
  GoneRecord,
  type RecordedGone,
} from "./gone-coordinators.js";

/** A distributor as the coordinator that hears its heartbeats describes it to the others. */
export type HeardDistributor = {
  id: string;
  url: string | null;
  status: "idle" | "busy" | "error" | "recovering";
  load: number;
  capacity: number;
  owns_lease: boolean;
  workers: WorkerSummary[];
  done: number;
  last_heartbeat_at: string | null;
  /** When the distributor sent that heartbeat (epoch ms, its own clock); absent from older coordinators. */
  sent_at?: number;
  /** How long ago its last heartbeat came, on the writer's monotonic clock (no wall clocks compared). */
  age_ms: number;
  /** That last heartbeat said it stops (a graceful exit, not a crash). Absent from older coordinators. */
  stopping?: true;
  /** The body limit it stated (max_body_bytes). Absent when it did not, and from older coordinators. */
  max_body_bytes?: number;
};

/** What one coordinator publishes about itself every heartbeat interval (a key that expires). */
export type CoordinatorView = {
  id: string;
  url: string | null;
  /** Where its REST API answers (GET /tasks?scope=local for its recent-task window); null when it serves none. */
  api_url?: string | null;
  started_at: string;
  /** When it wrote this view (its own clock; views are written every heartbeat tick). Absent from an older release's. */
  published_at?: string;
  /** The task shards it owns. */
  shards: number[];
  /** Tasks accepted and counted here since it started (its own counters: summing them double counts nothing). */
  stats: Record<string, number>;
  /** Tasks accepted and waiting here for a distributor (in the shards it owns). Absent from an older release's. */
  waiting?: number;
  /**
   * What each distributor it heard first-hand last reported of its own counters (since that
   * distributor started), as [sent at (epoch ms, the distributor's clock), retried, reassigned]:
   * a dashboard sums the newest report of each distributor, wherever heard. Absent from an older
   * release's.
   */
  reported?: Record<string, [number, number, number]>;
  distributors: HeardDistributor[];
  /**
   * Its last view, written as it stops gracefully (its shards given back): the others list it as
   * stopped, not as crashed, and take it for gone at once. Absent otherwise.
   */
  stopping?: true;
};

export type CoordinatorPeersOptions = {
  coordinatorId: string;
  store: RedisClient;
  /** A coordinator whose view is older than this is gone (a little longer than a shard lease). */
  ttlMs: number;
  /** How long a coordinator seen gone is listed as dead (timing.deadRetentionMs; by default, its default). */
  retentionMs?: number;
  /** This coordinator's view, as of now. */
  view: () => CoordinatorView;
  /** Tasks that ended, heard of by another coordinator (its distributor's report, or its abandon). */
  ended: (taskIds: string[]) => void;
  /** Tasks another coordinator recorded unplaced in shards it does not own: the owner places them. */
  unplaced: (taskIds: string[]) => void;
  /** Tasks another coordinator waits for: whoever hears of their end first tells it. */
  watched: (taskIds: string[]) => void;
  /** News could not be published (the store failed): told once per outage, with how many ids wait for the retry. */
  newsFailed?: (err: unknown, ids: number) => void;
};

const REGISTRY_KEY = "coordinators";
const NEWS_CHANNEL = "coordinators:news";
/** A registered coordinator without a view for this many view TTLs is taken off the registry. */
const FORGET_AFTER_TTLS = 20;
/** Ids per news message at most. */
const MAX_NEWS = 2_000;
/** Ids of news that failed to go out, kept for the next flush at most (per kind; the oldest dropped beyond). */
const MAX_RETRIED_NEWS = 10_000;

type News = { from: string; ended?: string[]; unplaced?: string[]; watch?: string[] };

/**
 * The other coordinators on the same store: who is alive (each keeps a view key that expires
 * a little after its shard leases), what they hear from their distributors (so any coordinator can
 * place on any distributor, and every dashboard shows the whole cluster), and news between
 * them on one pub/sub channel: tasks that ended (their waiters answer at once), tasks a
 * coordinator waits for without holding them (so that their end is told to it), and tasks left
 * unplaced in a shard the sender does not own. News is a hint: a lost message costs latency
 * (waiters read the ledger themselves, owners rescan), never a task.
 */
export class CoordinatorPeers {
  private peers = new Map<string, CoordinatorView>();
  /** Those seen alive, then gone: listed as dead for the retention. */
  private readonly gone: GoneCoordinators;
  /** The same, in the store: what a coordinator that starts lists gone before it. */
  private readonly record: GoneRecord;
  /** Read from the store at start, listed at the first tick (those alive then left out). */
  private recorded: RecordedGone[] | null = null;
  /** Sightings the store has not taken yet (it failed): written again at the next tick. */
  private unrecorded: { went: Map<string, boolean>; alive: Set<string> } = {
    went: new Map(),
    alive: new Set(),
  };
  /** Registered ids without a view, since when (monotonic ms). */
  private readonly missingSince = new Map<string, number>();
  private readonly pending: { ended: string[]; unplaced: string[]; watch: string[] } = {
    ended: [],
    unplaced: [],
    watch: [],
  };
  /** Callers of watch() whose ids go out with the next flush. */
  private watchers: Array<() => void> = [];
  private flushScheduled = false;
  /** A publish failed and none has gone out since (the failure was told once). */
  private newsFailing = false;
  private subscribed = false;
  /** Another coordinator was seen alive since this one started (one that died since included). */
  private hadOthers = false;

  constructor(private readonly o: CoordinatorPeersOptions) {
    const retention = () => o.retentionMs ?? DEFAULT_TIMING.deadRetentionMs;
    this.gone = new GoneCoordinators(retention);
    this.record = new GoneRecord(o.store, retention);
  }

  async start(): Promise<void> {
    await this.o.store.subscribe(NEWS_CHANNEL, (_channel, data) => this.heard(data));
    this.subscribed = true;
    // Those the others saw go before this one started (it restarted itself: alive again).
    this.recorded = await this.record.read();
    await this.record.alive([this.o.coordinatorId]);
    await this.tick();
  }

  /** Writes this coordinator's view (also at once after a change the others should see). */
  async publish(): Promise<CoordinatorView> {
    const me = this.o.view();
    await this.o.store.set(this.viewKey(me.id), me as unknown as JsonValue, this.o.ttlMs / 1000);
    return me;
  }

  /** Writes this coordinator's view, and reads every other one's. */
  async tick(): Promise<void> {
    // News that failed to go out is sent again at least every tick, not only with the next news.
    if (this.newsFailing) this.scheduleFlush();
    const me = await this.publish();
    let registry = ((await this.o.store.get(REGISTRY_KEY)) as Record<string, string | null> | null) ?? {};
    if (registry[me.id] === undefined || registry[me.id] !== me.url) {
      registry =
        (await this.o.store.transaction<Record<string, string | null>>(REGISTRY_KEY, (cur) => ({
          ...(cur ?? {}),
          [me.id]: me.url,
        }))) ?? registry;
    }
    const ids = Object.keys(registry).filter((id) => id !== me.id);
    const views = await Promise.all(ids.map((id) => this.o.store.get(this.viewKey(id))));
    const peers = new Map<string, CoordinatorView>();
    const now = performance.now();
    const forgotten: string[] = [];
    const stopping = new Set<string>();
    /** Registered, without a view, at this one's first tick: gone before it started. */
    const unseen: string[] = [];
    views.forEach((view, i) => {
      const id = ids[i]!;
      if (view !== null && typeof view === "object") {
        this.missingSince.delete(id);
        // Its last view, as it stopped gracefully: gone now.
        if ((view as { stopping?: unknown }).stopping === true) stopping.add(id);
        else peers.set(id, view as unknown as CoordinatorView);
      } else {
        const since = this.missingSince.get(id) ?? now;
        this.missingSince.set(id, since);
        if (this.recorded !== null) unseen.push(id);
        if (now - since > FORGET_AFTER_TTLS * this.o.ttlMs) forgotten.push(id);
      }
    });
    // Alive at the last look and not now: dead — stopped when it said so (its last view, or its
    // registry entry removed as it left), else crashed (its view expired, its entry still there).
    const { went, alive } = this.unrecorded;
    for (const [id, view] of this.peers)
      if (!peers.has(id)) {
        const stopped = stopping.has(id) || registry[id] === undefined;
        this.gone.went(view, stopped, now);
        went.set(id, stopped);
        alive.delete(id);
      }
    for (const id of peers.keys())
      if (this.gone.alive(id)) {
        alive.add(id);
        went.delete(id);
      }
    // Gone before this one started, as the store says: listed for what is left of the retention.
    for (const r of this.recorded ?? [])
      if (r.view.id !== me.id && !peers.has(r.view.id) && !this.gone.has(r.view.id))
        this.gone.went(r.view, r.stopped, now - r.ageMs);
    // Registered, its view expired (its leases with it), and on no record: it died with nobody
    // to see it go (alone, killed): crashed, as of now — a graceful stop leaves the registry and
    // records itself. Listed and recorded so, as if seen going now.
    for (const id of unseen)
      if (!this.gone.has(id)) {
        this.gone.went(unseenView(id, registry[id] ?? null), false, now);
        went.set(id, false);
        alive.delete(id);
      }
    this.recorded = null;
    this.gone.prune(now);
    this.peers = peers;
    if (peers.size > 0) this.hadOthers = true;
    if (forgotten.length > 0) await this.forget(forgotten);
    await this.writeRecord();
    await this.readStopped().catch(() => {}); // the store failed: the next tick reads again
  }

  /**
   * A coordinator listed here as crashed (its view expired, its registry entry still there) that
   * stopped gracefully after all — its tick held up past its view's life, then its leave recorded
   * it `stopped` (GoneRecord.went): listed stopped here too. The store's record wins, whenever it
   * is written: read at each tick while one is listed crashed (one read for all), not only at start.
   */
  private async readStopped(): Promise<void> {
    if (this.gone.list().every((g) => g.stopped)) return;
    for (const r of await this.record.read()) if (r.stopped) this.gone.stopped(r.view.id);
  }

  /** Writes the sightings of this tick (and those the store failed to take before) to the store's record. */
  private async writeRecord(): Promise<void> {
    const { went, alive } = this.unrecorded;
    if (went.size === 0 && alive.size === 0) return;
    this.unrecorded = { went: new Map(), alive: new Set() };
    const views = new Map(this.gone.list().map((g) => [g.view.id, g.view]));
    try {
      for (const [id, stopped] of went) {
        const view = views.get(id);
        if (view !== undefined) await this.record.went(view, stopped);
        went.delete(id);
      }
      await this.record.alive([...alive]);
      alive.clear();
    } catch {
      // The store failed: what is left is written at the next tick (one entry per coordinator at most).
      for (const [id, stopped] of went)
        if (!this.unrecorded.alive.has(id)) this.unrecorded.went.set(id, stopped);
      for (const id of alive) if (!this.unrecorded.went.has(id)) this.unrecorded.alive.add(id);
    }
  }

  /** Ids gone for long leave the registry (killed coordinators never remove themselves), so it stays small. */
  private async forget(ids: string[]): Promise<void> {
    await this.o.store.transaction<Record<string, string | null>>(REGISTRY_KEY, (cur) => {
      const next = { ...(cur ?? {}) };
      for (const id of ids) delete next[id];
      return next;
    });
    for (const id of ids) this.missingSince.delete(id);
  }

  /** The coordinators alive now, this one included, sorted. */
  members(): string[] {
    return [this.o.coordinatorId, ...this.peers.keys()].sort();
  }

  /** The other coordinators seen alive, then gone, within the dead-agent retention. */
  dead(): GoneCoordinator[] {
    return this.gone.list();
  }

  /** Whether another coordinator is alive now. */
  get hasOthers(): boolean {
    return this.peers.size > 0;
  }

  /** Whether another coordinator was seen alive since this one started (alive now or gone since). */
  get everHadOthers(): boolean {
    return this.hadOthers;
  }

  /** The other coordinators alive now, as they last described themselves. */
  others(): CoordinatorView[] {
    return [...this.peers.values()];
  }

  /** Tells the others that a task ended (batched; only when there are others). */
  announceEnded(taskId: string): void {
    if (this.peers.size === 0) return;
    this.pending.ended.push(taskId);
    this.scheduleFlush();
  }

  /** Asks the others to tell of the task's end; resolves once the request is out (sent or failed). */
  watch(taskId: string): Promise<void> {
    this.pending.watch.push(taskId);
    this.scheduleFlush();
    return new Promise((resolve) => this.watchers.push(resolve));
  }

  /** Asks the owner of the task's shard to place it. */
  handOff(taskId: string): void {
    this.pending.unplaced.push(taskId);
    this.scheduleFlush();
  }

  /**
   * Leaves: stops listening, writes its last view (`stopping`, no shards) and removes its
   * registry entry, so the others know at once that it stopped, and list it so; and records
   * itself gone (stopped) in the store, so that a coordinator started later lists it stopped for
   * the retention even when none was alive to see it go (a lone coordinator stopped, then
   * another started: it listed none).
   */
  async stop(): Promise<void> {
    if (this.subscribed) await this.o.store.unsubscribe(NEWS_CHANNEL).catch(() => {});
    this.subscribed = false;
    const id = this.o.coordinatorId;
    const last: CoordinatorView = { ...this.o.view(), shards: [], stopping: true };
    await this.o.store
      .set(this.viewKey(id), last as unknown as JsonValue, this.o.ttlMs / 1000)
      .catch(() => {});
    await this.o.store
      .transaction<Record<string, string | null>>(REGISTRY_KEY, (cur) => {
        const next = { ...(cur ?? {}) };
        delete next[id];
        return next;
      })
      .catch(() => null);
    // The first sighting's time is kept, so the others' sightings after this change nothing.
    await this.record.went(last, true).catch(() => {});
  }

  private viewKey(id: string): string {
    return `coordinator-view:${id}`;
  }

  /**
   * Sends what is pending, batched, on the next turn of the event loop. News is a hint, but one
   * that failed to go out (the store failing for a moment) is kept and sent again with the next
   * flush — at the latest the next tick — up to MAX_RETRIED_NEWS ids per kind; the failure is
   * told once (newsFailed) until a publish goes out again.
   */
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      const sent: Array<Promise<unknown>> = [];
      const { pending } = this;
      while (pending.ended.length > 0 || pending.unplaced.length > 0 || pending.watch.length > 0) {
        const news: News = { from: this.o.coordinatorId };
        const ended = pending.ended.splice(0, MAX_NEWS);
        const unplaced = pending.unplaced.splice(0, MAX_NEWS);
        const watch = pending.watch.splice(0, MAX_NEWS);
        if (ended.length > 0) news.ended = ended;
        if (unplaced.length > 0) news.unplaced = unplaced;
        if (watch.length > 0) news.watch = watch;
        sent.push(
          this.o.store.publish(NEWS_CHANNEL, news as unknown as JsonValue).then(
            () => {
              this.newsFailing = false;
            },
            (err: unknown) => this.failed(err, { ended, unplaced, watch }),
          ),
        );
      }
      const watchers = this.watchers;
      this.watchers = [];
      if (watchers.length > 0)
        void Promise.all(sent).then(() => {
          for (const w of watchers) w();
        });
    });
  }

  /** News that did not go out: kept for the next flush (bounded), the failure told once. */
  private failed(err: unknown, news: { ended: string[]; unplaced: string[]; watch: string[] }): void {
    const { pending } = this;
    for (const kind of ["ended", "unplaced", "watch"] as const) {
      pending[kind].unshift(...news[kind]);
      if (pending[kind].length > MAX_RETRIED_NEWS)
        pending[kind].splice(0, pending[kind].length - MAX_RETRIED_NEWS);
    }
    if (!this.newsFailing) {
      this.newsFailing = true;
      const ids = pending.ended.length + pending.unplaced.length + pending.watch.length;
      try {
        this.o.newsFailed?.(err, ids);
      } catch {
        // A listener's bug must not stop the news.
      }
    }
  }

  private heard(data: JsonValue): void {
    if (data === null || typeof data !== "object" || Array.isArray(data)) return;
    const news = data as Partial<News>;
    if (news.from === this.o.coordinatorId) return;
    const ids = (list: unknown): string[] =>
      Array.isArray(list) ? list.filter((id): id is string => typeof id === "string") : [];
    const ended = ids(news.ended);
    const unplaced = ids(news.unplaced);
    const watch = ids(news.watch);
    if (watch.length > 0) this.o.watched(watch);
    if (ended.length > 0) this.o.ended(ended);
    if (unplaced.length > 0) this.o.unplaced(unplaced);
  }
}

/** What is known of a coordinator gone unseen: its registry entry (its id and A2A address); its last view expired. */
function unseenView(id: string, url: string | null): CoordinatorView {
  return { id, url, started_at: "", shards: [], stats: {}, distributors: [] };
}
