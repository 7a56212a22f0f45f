import type { RedisClient } from "../../core/store/index.js";
import { shardTag } from "../ledger/shards.js";
import { shardLease } from "./shard-lease-scripts.js";

export type ShardLeasesOptions = {
  coordinatorId: string;
  store: RedisClient;
  /** How many task shards the ledger has (16 by default). */
  shards: number;
  /** A lease not renewed within this long is free for another coordinator (see ownershipTiming). */
  ttlMs: number;
  /** The coordinators alive now, this one included. */
  members: () => string[];
  /** Shards this coordinator has just become the owner of (to rescan: their tasks are now its own). */
  gained?: (shards: number[]) => void | Promise<void>;
  /** Shards it no longer owns (released, or a renewal refused or too late). */
  lost?: (shards: number[]) => void;
  /**
   * Shards still its own whose renewal came back after the lease had run out on this process's
   * clock (a stall): meanwhile ownerValue() said null and steps on them were skipped (a dead
   * distributor's tasks not taken off): the caller does those again.
   */
  renewedLate?: (shards: number[]) => void;
};

type Held = { value: string; until: number };

/**
 * Which task shards this coordinator owns, when several run on one store. Each shard has an
 * owner lease in its own slot ({t<n>}:owner, value "<id>#<token>", see shard-lease-2.lua); the
 * owner places, reassigns and times out the shard's tasks, and passes the value to the ledger
 * scripts that do so, which refuse it once the lease moved on. Every tick renews what it holds,
 * gives back what is more than its share, and takes free shards up to its share, so shards
 * spread evenly over the coordinators alive and move within one lease TTL when one dies.
 */
export class ShardLeases {
  private readonly held = new Map<number, Held>();
  private ticking: Promise<void> | null = null;

  constructor(private readonly o: ShardLeasesOptions) {}

  /** The lease value to pass with an owner's step on this shard; null when not the owner now. */
  ownerValue(shard: number): string | null {
    const held = this.held.get(shard);
    // Not renewed in time: another coordinator may own it already. The fence says for sure.
    return held !== undefined && held.until > performance.now() ? held.value : null;
  }

  /** Shards owned now, in order. */
  owned(): number[] {
    return [...this.held.keys()].filter((s) => this.ownerValue(s) !== null).sort((a, b) => a - b);
  }

  /** How many shards this coordinator should own among `members` (sorted ids: the remainder goes to the first). */
  share(members: string[]): number {
    const all = [...new Set([...members, this.o.coordinatorId])].sort();
    const rank = all.indexOf(this.o.coordinatorId);
    return Math.floor(this.o.shards / all.length) + (rank < this.o.shards % all.length ? 1 : 0);
  }

  /**
   * One round: renew, give back the excess, take free shards up to the share. One at a time.
   * `beforeRebalance` runs beside the renewals (the caller's fresh view of the members); its
   * failure is the caller's to tell. It is handled here at once: a rejection left without a
   * handler while the renewals' replies are awaited (or when a round already runs, which does
   * not wait for it) ended the process — a store failing over failed the view's write first.
   */
  tick(beforeRebalance?: Promise<unknown>): Promise<void> {
    const before = beforeRebalance?.catch(() => {});
    this.ticking ??= this.round(before).finally(() => {
      this.ticking = null;
    });
    return this.ticking;
  }

  private async round(beforeRebalance?: Promise<unknown>): Promise<void> {
    const lost: number[] = [];
    const late: number[] = [];
    await Promise.all(
      [...this.held].map(async ([shard, held]) => {
        const started = performance.now();
        const ok = await this.call("renew", shard, held.value).catch(() => null);
        if (ok === 1) {
          if (held.until <= performance.now()) late.push(shard);
          held.until = started + this.o.ttlMs;
        } else if (ok === 0) {
          this.held.delete(shard);
          lost.push(shard);
        }
      }),
    );
    await beforeRebalance;
    const target = this.share(this.o.members());
    const extra = [...this.held.keys()].sort((a, b) => b - a).slice(0, Math.max(0, this.held.size - target));
    await Promise.all(
      extra.map(async (shard) => {
        const held = this.held.get(shard)!;
        this.held.delete(shard);
        lost.push(shard);
        await this.call("release", shard, held.value).catch(() => {});
      }),
    );
    if (lost.length > 0) this.o.lost?.(lost.sort((a, b) => a - b));
    const stillHeld = late.filter((shard) => this.held.has(shard));
    if (stillHeld.length > 0) this.o.renewedLate?.(stillHeld.sort((a, b) => a - b));
    const gained: number[] = [];
    for (let shard = 0; shard < this.o.shards && this.held.size < target; shard++) {
      if (this.held.has(shard)) continue;
      const started = performance.now();
      const value = await this.call("acquire", shard, "").catch(() => "");
      if (typeof value === "string" && value !== "") {
        this.held.set(shard, { value, until: started + this.o.ttlMs });
        gained.push(shard);
      }
    }
    if (gained.length > 0) await this.o.gained?.(gained);
  }

  /** Gives every shard back (a clean stop): the others take them at their next tick. */
  async releaseAll(): Promise<void> {
    await this.ticking?.catch(() => {});
    const all = [...this.held];
    this.held.clear();
    await Promise.all(all.map(([shard, held]) => this.call("release", shard, held.value).catch(() => {})));
  }

  private call(op: "acquire" | "renew" | "release", shard: number, held: string) {
    const tag = shardTag(shard);
    return this.o.store.runScript(
      shardLease,
      [`${tag}owner`, `${tag}owner-fence`],
      [op, this.o.coordinatorId, held, this.o.ttlMs],
    );
  }
}
