import type { TaskLedger } from "../ledger/task-ledger.js";
import type { LimitStore, SlotHolder } from "./limit-store.js";
import { RepeatAfter } from "./repeat-after.js";

export type SlotSweeperOptions = {
  intervalMs?: number;
  /** A reservation not bound to an attempt after this long is stale (its distributor died between). */
  reservationTtlMs?: number;
};

/**
 * Frees slots whose attempt is over however it ended: a dead distributor's attempts moved
 * elsewhere, a canceled task, a reservation whose distributor died before the dispatch. A slot
 * held by fence F is live only while the task's record is in progress with fence F; the release
 * is fenced (compare-and-delete), so a sweep racing a new attempt frees nothing of it. Any
 * number of coordinators may sweep at once. A stale reservation freed gives back the start it
 * counted against its type's rate (release-slots-1.lua): its attempt never started with it.
 */
export class SlotSweeper {
  private readonly sweeping: RepeatAfter;
  private readonly reservationTtlMs: number;

  constructor(
    private readonly limits: LimitStore,
    private readonly ledger: TaskLedger,
    options: SlotSweeperOptions = {},
  ) {
    this.sweeping = new RepeatAfter(options.intervalMs ?? 1000, () => this.sweep());
    this.reservationTtlMs = options.reservationTtlMs ?? 5000;
  }

  start(): void {
    this.sweeping.start();
  }

  stop(): void {
    this.sweeping.stop();
  }

  /** One sweep: the number of slots freed. */
  async sweep(): Promise<number> {
    const { nowMs, holders } = await this.limits.read("", new Map(), true);
    if (holders.length === 0) return 0;
    const dead = await Promise.all(holders.map((h) => this.isDead(h, nowMs)));
    const freed = await Promise.all(
      holders.filter((_, k) => dead[k]).map((h) => this.limits.release(h.taskId, h.value)),
    );
    return freed.filter(Boolean).length;
  }

  private async isDead(holder: SlotHolder, nowMs: number): Promise<boolean> {
    if (holder.value.startsWith("r:"))
      return nowMs - Number(holder.value.split(":")[1]) > this.reservationTtlMs;
    const record = await this.ledger.get(holder.taskId);
    return record === null || record.task.status !== "in_progress" || String(record.fence) !== holder.value;
  }
}
