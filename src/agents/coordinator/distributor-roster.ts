import type { RedisClient } from "../../core/store/index.js";
import type { TaskLedger } from "../ledger/task-ledger.js";
import type { Timing } from "../timing.js";
import type { DistributorDirectory } from "./distributor-directory.js";
import { distributorRegistry } from "./distributor-registry-scripts.js";

/** Every distributor that registered with a coordinator of the store, id -> URL (null in-process). */
const REGISTRY_KEY = "agents:distributors";
/** Monitor ticks between two steps of the pruning of stale types (10 s with the default 500 ms monitor interval). */
export const PRUNE_TYPES_EVERY_TICKS = 20;
/** Stale types entries one pruning step removes at most (the rest at the next steps). */
const PRUNE_TYPES_BATCH = 100;

/**
 * The registry's keys for scripts/distributor-registry-3.lua: the registry, the hash of the
 * distributors that stopped gracefully and that of the task types each one's workers run, in
 * the registry's slot on Redis Cluster (their hash tag is the registry's full key, or the key
 * prefix's own tag when it has one).
 */
export function registryKeys(store: RedisClient): [string, string, string] {
  const tag = `{${store.key(REGISTRY_KEY)}}`;
  return [REGISTRY_KEY, `${REGISTRY_KEY}:stopped${tag}`, `${REGISTRY_KEY}:types${tag}`];
}

/** The ids of the distributors marked stopped gracefully in the store (distributor-registry-3.lua). */
export async function stoppedDistributors(store: RedisClient): Promise<Set<string>> {
  const reply = await store.runScript(distributorRegistry, registryKeys(store), ["read"]);
  return new Set(Array.isArray(reply) ? reply.map(String) : []);
}

/** The task types each distributor's live workers run, as the store keeps them (distributor-registry-3.lua). */
export async function distributorTypes(store: RedisClient): Promise<Map<string, string[]>> {
  const reply = await store.runScript(distributorRegistry, registryKeys(store), ["read-types"]);
  const out = new Map<string, string[]>();
  const flat = Array.isArray(reply) ? reply.map(String) : [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    try {
      const types: unknown = JSON.parse(flat[i + 1]!);
      if (Array.isArray(types)) out.set(flat[i]!, types.map(String));
    } catch {
      // Not written by this script (by hand?): that distributor's types are not known.
    }
  }
  return out;
}

/**
 * The distributors a coordinator knows of, kept in the store so that one that restarts (or takes
 * over another's shards) knows whom its open tasks are on; and their forgetting. A distributor
 * declared dead stays listed as dead for `timing.deadRetentionMs`, then leaves the directory and the store's
 * registry, with the task types its workers ran (kept there so that a coordinator that starts
 * while it is dead knows them: see saveTypes; rolling restarts under new ids, scaling down: the
 * list does not grow for ever) — but
 * only once no task is recorded on it any more, in any shard: until then it is where those tasks
 * are found again. Should it speak again it registers anew. Whether one still holds tasks is read
 * at most once per retention (and again as soon as it dies anew), not on every monitor tick: a
 * distributor dead for good whose tasks cannot move (no coordinator owns their shard, or none
 * takes them) would cost a read of its task set every tick, for as long as that lasts.
 */
export class DistributorRoster {
  /** When each long-dead distributor's tasks were last read (monotonic ms), and the death it was of. */
  private readonly lastRead = new Map<string, { deadSince: number; at: number }>();
  /** Types whose write has not succeeded yet (saveTypes), written again by saveUnsaved. */
  private readonly unsaved = new Map<string, readonly string[]>();
  /** Ids whose types the last pruning step found with no registry entry (removed at the next, if still so). */
  private staleTypes: string[] = [];
  private ticks = 0;

  constructor(
    private readonly o: {
      store: RedisClient;
      ledger: TaskLedger;
      directory: DistributorDirectory;
      timing: Pick<Timing, "deadRetentionMs">;
    },
  ) {}

  /**
   * After a restart: the distributors registered in the store enter the directory (given one
   * timeout to speak); one marked stopped gracefully is dead at the next monitor tick, listed
   * `stopped` as it was on the coordinator that heard it stop. Each one not heard yet is known to
   * run the task types the store remembers (DistributorDirectory.rememberTypes): a type whose
   * only runner is dead is known here too, and its tasks wait for it instead of failing as unknown.
   */
  async restore(): Promise<void> {
    const [known, stopped, types] = await Promise.all([
      this.o.store.get(REGISTRY_KEY) as Promise<Record<string, string | null> | null>,
      stoppedDistributors(this.o.store),
      distributorTypes(this.o.store),
    ]);
    const { directory } = this.o;
    for (const [id, url] of Object.entries(known ?? {}))
      if (!directory.get(id)) directory.upsert(id, url).stopped = stopped.has(id) || undefined;
    for (const [id, list] of types) directory.rememberTypes(id, list);
  }

  /**
   * The task types distributor `id`'s live workers run changed (a heartbeat heard here said so;
   * empty: none): written to the store, for a coordinator that starts while it is dead.
   */
  async saveTypes(id: string, types: readonly string[]): Promise<void> {
    this.unsaved.set(id, types);
    await this.writeTypes(id, types);
  }

  /** Writes again the types a failed write left unsaved (a store outage): each monitor tick. */
  async saveUnsaved(): Promise<void> {
    for (const [id, types] of [...this.unsaved]) await this.writeTypes(id, types);
  }

  private async writeTypes(id: string, types: readonly string[]): Promise<void> {
    await this.registry("types", id, types.length === 0 ? "" : JSON.stringify(types));
    // Saved, unless a newer change came meanwhile (its own write saves it).
    if (this.unsaved.get(id) === types) this.unsaved.delete(id);
  }

  /** Registers a distributor (again: a stopped mark is removed). */
  async add(id: string, url: string | null): Promise<void> {
    await this.registry("add", id, url ?? "", url === null ? "1" : "0");
  }

  /** Its heartbeat said it stops: marked so in the store, beside its registry entry. */
  async stopped(id: string, url: string | null): Promise<void> {
    await this.registry("stopped", id, url ?? "", url === null ? "1" : "0", new Date().toISOString());
  }

  private registry(...args: string[]): Promise<unknown> {
    return this.o.store.runScript(distributorRegistry, registryKeys(this.o.store), args);
  }

  /**
   * One monitor tick: the types distributors are remembered for past the retention are written
   * away (DistributorDirectory.expireRemembered, through saveTypes); a pruning step of the stale
   * types every PRUNE_TYPES_EVERY_TICKS ticks.
   */
  async tick(): Promise<void> {
    this.o.directory.expireRemembered();
    if (++this.ticks % PRUNE_TYPES_EVERY_TICKS === 0) await this.pruneTypes();
  }

  /**
   * Removes the types kept for distributors no longer registered: a coordinator of an earlier
   * release (distributor-registry-2.lua) forgets a distributor without them, and they are read
   * for registered ones only, so they would stay for ever. An id is removed at the step after the
   * one that found it unregistered, if it still is then (distributor-registry-3.lua, prune-types):
   * a distributor's types are written as its first heartbeat is heard, maybe just before its
   * registration. PRUNE_TYPES_BATCH ids a step at most.
   */
  async pruneTypes(): Promise<void> {
    const reply = await this.registry("prune-types", String(PRUNE_TYPES_BATCH), ...this.staleTypes);
    this.staleTypes = Array.isArray(reply) ? reply.map(String) : [];
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
    for (const id of gone) {
      this.lastRead.delete(id);
      this.unsaved.delete(id); // forgotten: not written back
    }
    await this.registry("forget", ...gone);
    for (const id of gone) if (this.o.directory.get(id)?.status === "dead") this.o.directory.forget(id);
    return gone;
  }
}
