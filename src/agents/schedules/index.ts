export { ScheduleKeeper, type ScheduleKeeperOptions } from "./schedule-keeper.js";
export {
  checkSchedule,
  latestTick,
  MAX_EVERY_MS,
  MIN_EVERY_MS,
  type ScheduleInput,
  type ScheduleSpec,
  type ScheduleView,
  scheduleInput,
  ticksAfter,
  tickTaskId,
} from "./schedule-spec.js";
export { ScheduleStore } from "./schedule-store.js";
