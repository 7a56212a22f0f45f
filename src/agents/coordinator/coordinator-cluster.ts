import type { RedisClient } from "../../core/store/index.js";
import type { TaskLedger } from "../ledger/task-ledger.js";
import type { Timing } from "../timing.js";
import type { ClusterSeam } from "./cluster-seam.js";
import type { CoordinatorCore } from "./coordinator-core.js";
import { CoordinatorPeers, type CoordinatorView, type HeardDistributor } from "./coordinator-peers.js";
import { ShardLeases } from "./shard-leases.js";

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
  /** A distributor another coordinator hears, reachable at `url`. */
  learnPeer?: (distributorId: string, url: string) => void;
  /** Shards gained or lost (logged by the agent). */
  moved?: (change: { gained: number[]; lost: number[] }) => void;
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
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | null = null;

  constructor(private readonly o: CoordinatorClusterOptions) {
    this.peers = new CoordinatorPeers({
      coordinatorId: o.coordinatorId,
      store: o.store,
      ttlMs: o.timing.heartbeatTimeoutMs,
      view: () => this.view(),
      ended: (ids) =>
        void o
          .core()
          .endedElsewhere(ids)
          .catch(() => {}),
      unplaced: (ids) => {
        for (const id of ids)
          void o
            .core()
            .adoptIfUnplaced(id)
            .catch(() => {});
      },
    });
    this.leases = new ShardLeases({
      coordinatorId: o.coordinatorId,
      store: o.store,
      shards: o.ledger.shards,
      ttlMs: o.timing.heartbeatTimeoutMs,
      members: () => this.peers.members(),
      gained: async (shards) => {
        o.moved?.({ gained: shards, lost: [] });
        await o.core().restore(shards);
      },
      lost: (shards) => o.moved?.({ gained: [], lost: shards }),
    });
  }

  ownerValue(taskId: string): string | null {
    return this.leases.ownerValue(this.o.ledger.shardOf(taskId));
  }

  handOff(taskId: string): void {
    this.peers.handOff(taskId);
  }

  ended(taskId: string): void {
    this.peers.announceEnded(taskId);
  }

  alone(): boolean {
    return this.peers.others().length === 0;
  }

  /** Joins: learns the others, takes its share of the shards (rescanning them), then ticks every heartbeat interval. */
  async start(): Promise<void> {
    await this.peers.start();
    this.importDistributors();
    await this.leases.tick();
    this.timer ??= setInterval(() => {
      this.ticking ??= this.tick()
        .catch(() => {})
        .finally(() => {
          this.ticking = null;
        });
    }, this.o.timing.heartbeatIntervalMs).unref();
  }

  /**
   * Leaves: gives its shards back and removes itself, so the others take over at their next
   * tick. `{ release: false }` only stops ticking (a crash, in tests): the others wait for the leases to expire.
   */
  async stop(options: { release?: boolean } = {}): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking;
    if (options.release === false) return;
    await this.leases.releaseAll();
    await this.peers.stop();
  }

  private async tick(): Promise<void> {
    // Renewals do not wait behind the reads of the others' views (a slow store must not cost the
    // leases); the shares are then computed with the members just read, so a coordinator seen
    // gone this tick has its shards taken this tick, once their leases have expired.
    await this.leases.tick(this.peers.tick().then(() => this.importDistributors()));
  }

  private importDistributors(): void {
    const directory = this.o.core().directory;
    for (const view of this.peers.others()) {
      for (const d of view.distributors ?? []) {
        directory.heardElsewhere(d, view.id);
        if (d.url) this.o.learnPeer?.(d.id, d.url);
      }
    }
  }

  private view(): CoordinatorView {
    const core = this.o.core();
    const now = performance.now();
    const distributors: HeardDistributor[] = [];
    for (const d of core.directory.all()) {
      if (d.via !== null || d.status === "dead") continue;
      distributors.push({
        id: d.id,
        url: d.url,
        status: d.status,
        load: d.load,
        capacity: d.capacity,
        owns_lease: d.ownsLease,
        workers: d.workers,
        done: d.done,
        last_heartbeat_at: d.lastHeartbeatAt,
        age_ms: Math.max(0, Math.round(now - d.lastSeen)),
      });
    }
    return {
      id: this.o.coordinatorId,
      url: this.o.url(),
      started_at: this.o.startedAt,
      shards: this.leases.owned(),
      stats: { ...core.stats },
      distributors,
    };
  }
}
