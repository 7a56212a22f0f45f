import type { JsonObject } from "../../core/json.js";
import type { RedisClient } from "../../core/store/index.js";
import { ScheduleKeeper, type ScheduleKeeperOptions } from "./schedule-keeper.js";
import type { ScheduleInput, ScheduleView } from "./schedule-spec.js";
import { ScheduleStore } from "./schedule-store.js";

export type CoordinatorSchedulesOptions = Pick<ScheduleKeeperOptions, "pollMs" | "events">;

/**
 * The coordinator's side of recurring schedules: it records them and fires their ticks (every
 * coordinator does; a tick is still one task, see ScheduleKeeper).
 */
export class CoordinatorSchedules {
  readonly store: ScheduleStore;
  readonly keeper: ScheduleKeeper;

  constructor(
    store: RedisClient,
    submit: (task: JsonObject) => Promise<boolean>,
    options: CoordinatorSchedulesOptions = {},
  ) {
    this.store = new ScheduleStore(store);
    this.keeper = new ScheduleKeeper(this.store, { ...options, submit });
  }

  start(): void {
    this.keeper.start();
  }

  stop(): void {
    this.keeper.stop();
  }

  /** Records a schedule (ERR_INVALID_SCHEDULE naming the field); answers it as stored and whether it is new. */
  async upsert(input: ScheduleInput | unknown): Promise<{ schedule: ScheduleView; created: boolean }> {
    const { outcome, spec } = await this.store.upsert(input);
    this.keeper.poke();
    const schedule = await this.store.get(spec.schedule_id);
    return {
      schedule: schedule ?? { ...spec, next_runs: [], last_tick: null, recent_task_ids: [] },
      created: outcome === "created",
    };
  }

  remove(scheduleId: string): Promise<boolean> {
    return this.store.remove(scheduleId);
  }

  get(scheduleId: string): Promise<ScheduleView | null> {
    return this.store.get(scheduleId);
  }

  list(): Promise<ScheduleView[]> {
    return this.store.list();
  }
}
