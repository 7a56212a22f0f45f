import type { RedisClient } from "../../core/store/index.js";
import { timerDelay } from "../../core/timers.js";
import { shardTag } from "../ledger/shards.js";
import { countDelayed } from "./count-delayed.js";
import { sweepDue } from "./schedule-scripts.js";

export type DueSweeperOptions = {
  store: RedisClient;
  shards: number;
  retentionMs: number;
  /** Delayed tasks whose run_at has come, out of their sorted set: to place now. */
  released: (taskIds: string[]) => void;
  /** Tasks the sweep ended abandoned "expired" (already committed in the store). */
  expired: (taskIds: string[]) => void;
  /** The sweep runs at least this often, for due times this process did not hear of (default 1 s). */
  fallbackMs?: number;
  /** This process's clock, epoch ms (default Date.now; tests skew it). */
  now?: () => number;
};

/** How often the sweep also counts the delayed tasks (the triad_tasks_delayed gauge). */
const COUNT_EVERY_MS = 1000;

/** Ids taken from each sorted set per script call; a shard with more is swept again at once. */
const SWEEP_LIMIT = 1000;

/**
 * Delayed and expiring tasks without a timer per task (SPEC "Scheduling controls"): their due
 * times are one sorted set per shard in the store (written by the submit script), and this
 * process keeps one timer, set for the earliest due time it knows. Each sweep runs
 * sweep-due-1.lua over every shard, which answers the next due time left, so after one
 * sweep the timer covers tasks that other coordinators submitted and those recorded before a
 * restart; a sweep at least once a second covers the rest.
 */
export class DueSweeper {
  private timer: NodeJS.Timeout | undefined;
  /** Epoch ms the timer is set for, or +Infinity. */
  private armedFor = Number.POSITIVE_INFINITY;
  private fallback: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | null = null;
  private again = false;
  private stopped = true;
  private countedAt = Number.NEGATIVE_INFINITY;
  /** Tasks waiting for their run_at in the whole store, as last counted (about once a second). */
  delayed = 0;

  constructor(private readonly o: DueSweeperOptions) {}

  /** Sweeps now (what is due since before a restart), then at each due time and once a second. */
  start(): void {
    this.stopped = false;
    this.fallback ??= setInterval(() => this.sweepSoon(), this.o.fallbackMs ?? 1000);
    this.fallback.unref();
    this.sweepSoon();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.fallback);
    this.fallback = undefined;
    clearTimeout(this.timer);
    this.armedFor = Number.POSITIVE_INFINITY;
  }

  /** A task recorded here is due at `atMs` (epoch ms): the timer is moved earlier if need be. */
  dueAt(atMs: number): void {
    if (this.stopped || atMs >= this.armedFor) return;
    clearTimeout(this.timer);
    this.armedFor = atMs;
    this.timer = setTimeout(
      () => {
        this.armedFor = Number.POSITIVE_INFINITY;
        this.sweepSoon();
      },
      // A due time ~25 days or more ahead: the timer fires early and the sweep re-arms it.
      timerDelay(atMs - Date.now()),
    );
    this.timer.unref();
  }

  /** Runs a sweep (one at a time: a call during one runs another after it). */
  sweepSoon(): void {
    if (this.stopped) return;
    if (this.sweeping !== null) {
      this.again = true;
      return;
    }
    this.sweeping = this.sweep()
      .catch(() => {
        // The store is unavailable: the fallback interval tries again.
      })
      .finally(() => {
        this.sweeping = null;
        if (this.again) {
          this.again = false;
          this.sweepSoon();
        }
      });
  }

  /**
   * One pass over every shard (one script call on a single Redis or memory://, one per shard on
   * Redis Cluster); resolves once the released and expired tasks are handed on.
   */
  async sweep(): Promise<void> {
    const now = this.o.now?.() ?? Date.now();
    const head = [now, new Date(now).toISOString(), this.o.retentionMs, SWEEP_LIMIT];
    const shards = Array.from({ length: this.o.shards }, (_, shard) => shard);
    const groups = this.o.store.engine.kind === "cluster" ? shards.map((s) => [s]) : [shards];
    if (now - this.countedAt >= COUNT_EVERY_MS) {
      this.countedAt = now;
      void this.count(groups);
    }
    const replies = await Promise.all(
      groups.map((group) =>
        this.o.store.runScript(
          sweepDue,
          [`${shardTag(group[0]!)}delayed`],
          [...head, ...group.map((s) => this.o.store.key(shardTag(s)))],
        ),
      ),
    );
    const released: string[] = [];
    const expired: string[] = [];
    let next = Number.POSITIVE_INFINITY;
    let more = false;
    for (const reply of replies as Array<[string[], string[], string, number]>) {
      released.push(...reply[0]);
      expired.push(...reply[1]);
      if (reply[2] !== "") next = Math.min(next, Number(reply[2]));
      if (reply[3] === 1) more = true;
    }
    if (released.length > 0) this.o.released(released);
    if (expired.length > 0) this.o.expired(expired);
    if (more) this.again = true;
    else if (next !== Number.POSITIVE_INFINITY) this.dueAt(next);
  }

  /** Counts the delayed tasks of every shard (a read; a failure keeps the last count). */
  private async count(groups: number[][]): Promise<void> {
    try {
      const counts = await Promise.all(
        groups.map((group) =>
          this.o.store.runScript(
            countDelayed,
            [`${shardTag(group[0]!)}delayed`],
            group.map((s) => this.o.store.key(shardTag(s))),
          ),
        ),
      );
      this.delayed = counts.reduce<number>((sum, n) => sum + Number(n), 0);
    } catch {
      // the store is out: the gauge keeps its last value, the sweep reports the outage
    }
  }
}
