import type { RedisClient } from "../../core/store/index.js";
import type { TaskLedger } from "../ledger/task-ledger.js";
import type { Timing } from "../timing.js";
import type { DistributorDirectory } from "./distributor-directory.js";

/** Every distributor that registered with a coordinator of the store, id -> URL (null in-process). */
const REGISTRY_KEY = "agents:distributors";

/**
 * The distributors a coordinator knows of, kept in the store so that one that restarts (or takes
 * over another's shards) knows whom its open tasks are on; and their forgetting. A distributor
 * declared dead stays listed as dead for `timing.deadRetentionMs`, then leaves the directory and the store's
 * registry (rolling restarts under new ids, scaling down: the list does not grow for ever) — but
 * only once no task is recorded on it any more, in any shard: until then it is where those tasks
 * are found again. Should it speak again it registers anew. Whether one still holds tasks is read
 * at most once per retention (and again as soon as it dies anew), not on every monitor tick: a
 * distributor dead for good whose tasks cannot move (no coordinator owns their shard, or none
 * takes them) would cost a read of its task set every tick, for as long as that lasts.
 */
export class DistributorRoster {
  /** When each long-dead distributor's tasks were last read (monotonic ms), and the death it was of. */
  private readonly lastRead = new Map<string, { deadSince: number; at: number }>();

  constructor(
    private readonly o: {
      store: RedisClient;
      ledger: TaskLedger;
      directory: DistributorDirectory;
      timing: Pick<Timing, "deadRetentionMs">;
    },
  ) {}

  /** After a restart: the distributors registered in the store enter the directory (given one timeout to speak). */
  async restore(): Promise<void> {
    const known = ((await this.o.store.get(REGISTRY_KEY)) as Record<string, string | null> | null) ?? {};
    for (const [id, url] of Object.entries(known))
      if (!this.o.directory.get(id)) this.o.directory.upsert(id, url);
  }

  async add(id: string, url: string | null): Promise<void> {
    await this.o.store.transaction<Record<string, string | null>>(REGISTRY_KEY, (cur) => ({
      ...(cur ?? {}),
      [id]: url,
    }));
  }

  /** Forgets the distributors dead for longer than the retention that hold no task any more; their ids. */
  async forgetLongDead(): Promise<string[]> {
    const retention = this.o.timing.deadRetentionMs;
    const longDead = this.o.directory.longDead(retention);
    if (this.lastRead.size > 0) {
      const ids = new Set(longDead.map((d) => d.id));
      for (const id of this.lastRead.keys()) if (!ids.has(id)) this.lastRead.delete(id);
    }
    const now = performance.now();
    const candidates = longDead.filter((d) => {
      const last = this.lastRead.get(d.id);
      return last === undefined || last.deadSince !== d.deadSince || now - last.at >= retention;
    });
    if (candidates.length === 0) return [];
    for (const d of candidates) this.lastRead.set(d.id, { deadSince: d.deadSince ?? 0, at: now });
    const held = await Promise.all(candidates.map((d) => this.o.ledger.distributorTaskIds(d.id)));
    // Still dead (a heartbeat may have come during the reads), and nothing of it left to move.
    const gone = candidates.filter((d, i) => held[i]!.length === 0 && d.status === "dead").map((d) => d.id);
    if (gone.length === 0) return [];
    for (const id of gone) this.lastRead.delete(id);
    await this.o.store.transaction<Record<string, string | null>>(REGISTRY_KEY, (cur) => {
      const next = { ...(cur ?? {}) };
      for (const id of gone) delete next[id];
      return next;
    });
    for (const id of gone) if (this.o.directory.get(id)?.status === "dead") this.o.directory.forget(id);
    return gone;
  }
}
