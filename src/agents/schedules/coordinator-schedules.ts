import type { JsonObject } from "../../core/json.js";
import type { RedisClient } from "../../core/store/index.js";
import { checkedCount } from "../agent-options.js";
import { ScheduleKeeper, type ScheduleKeeperOptions } from "./schedule-keeper.js";
import type { ScheduleInput, ScheduleView } from "./schedule-spec.js";
import { DEFAULT_MAX_SCHEDULES, type SchedulePage, ScheduleStore } from "./schedule-store.js";

export type CoordinatorSchedulesOptions = Pick<ScheduleKeeperOptions, "pollMs" | "events"> & {
  /**
   * Most schedules there may be (the whole cluster's, counted in the store): a new one past it
   * is refused with ERR_TOO_MANY_SCHEDULES (409); replacing one is not a new one. Read at each
   * upsert. Default 10,000.
   */
  maxSchedules?: number;
};

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
    private readonly options: CoordinatorSchedulesOptions = {},
  ) {
    if (options.maxSchedules !== undefined) checkedCount("schedules.maxSchedules", options.maxSchedules);
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
    const max = this.options.maxSchedules ?? DEFAULT_MAX_SCHEDULES;
    const { outcome, spec } = await this.store.upsert(
      input,
      Date.now(),
      checkedCount("schedules.maxSchedules", max),
    );
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

  /** Every schedule (read a page at a time). */
  list(): Promise<ScheduleView[]> {
    return this.store.list();
  }

  /** One page of the schedules, in id order (see ScheduleStore.page). */
  page(options: { limit?: number; cursor?: string | undefined } = {}): Promise<SchedulePage> {
    return this.store.page(options);
  }
}
