import type { JsonObject } from "../../core/json.js";
import { latestTick, ticksAfter, tickTaskId } from "./schedule-spec.js";
import type { DueSchedule, ScheduleStore } from "./schedule-store.js";
import { tickTask } from "./schedule-store.js";

export type ScheduleKeeperOptions = {
  /** Submits a tick's task; false when its id is already recorded (fired by someone else). */
  submit: (task: JsonObject) => Promise<boolean>;
  /** Longest sleep between looks (schedules added by another coordinator are seen within it). Default 1 s. */
  pollMs?: number;
  /** Most schedules fired per look. Default 500. */
  batch?: number;
  /** A tick fired (created: its task is new here) or a look that failed. */
  events?: {
    fired?: (scheduleId: string, taskId: string, created: boolean) => void;
    failed?: (err: unknown) => void;
  };
};

/**
 * Fires due schedules: one wake-up for all of them (at the earliest fire time, or the poll
 * interval), never a timer per schedule. A tick's task id is `<schedule>@<tick>`, so however
 * many coordinators fire the same tick, and however often a crash makes one fire it again, the
 * submit script records it once; the schedule then moves on by compare-and-set. Of the ticks
 * missed for whatever reason (no coordinator ran, it stood still, the store was unreachable),
 * only the latest is fired (the fire time is the latest tick at or before the store's clock).
 */
export class ScheduleKeeper {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private readonly pollMs: number;

  constructor(
    private readonly store: ScheduleStore,
    private readonly o: ScheduleKeeperOptions,
  ) {
    this.pollMs = o.pollMs ?? 1000;
  }

  start(): void {
    this.running = true;
    this.wake(0);
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
  }

  /** Looks again now (after an upsert, say) instead of at the next wake-up. */
  poke(): void {
    if (this.running) this.wake(0);
  }

  private wake(inMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.look(), inMs);
    this.timer.unref();
  }

  private async look(): Promise<void> {
    let next = this.pollMs;
    try {
      const { nowMs, earliestMs, more } = await this.fireDue();
      if (more)
        next = 1; // a full batch: there may be more due now
      else if (earliestMs !== null) next = Math.max(1, Math.min(this.pollMs, earliestMs - nowMs));
    } catch (err) {
      this.o.events?.failed?.(err);
    }
    if (this.running) this.wake(next);
  }

  /** One look: fires every due schedule; answers the store's clock and the earliest fire time ahead. */
  async fireDue(): Promise<{ nowMs: number; earliestMs: number | null; fired: number; more: boolean }> {
    const batch = this.o.batch ?? 500;
    const { nowMs, earliestMs, due } = await this.store.due(batch);
    const fired = await Promise.all(due.map((d) => this.fire(d, nowMs).catch(() => null)));
    let earliest = earliestMs;
    for (const f of fired) if (f !== null && (earliest === null || f < earliest)) earliest = f;
    return {
      nowMs,
      earliestMs: earliest,
      fired: fired.filter((f) => f !== null).length,
      more: due.length >= batch,
    };
  }

  /** Fires one due schedule's latest tick; answers its next fire time. */
  private async fire(due: DueSchedule, nowMs: number): Promise<number> {
    const tick = Math.max(Number(due.dueRaw), latestTick(due.spec, nowMs));
    const taskId = tickTaskId(due.id, tick);
    const created = await this.o.submit(tickTask(due.spec, taskId));
    const next = ticksAfter(due.spec, tick, 1)[0]!;
    await this.store.advance(due, next, taskId, new Date(tick).toISOString());
    this.o.events?.fired?.(due.id, taskId, created);
    return next;
  }
}
