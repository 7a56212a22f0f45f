export { LimitGate, type LimitGateOptions } from "./limit-gate.js";
export {
  checkLimit,
  type LimitView,
  MAX_LIMIT_CONCURRENCY,
  MAX_LIMIT_RATE,
  MIN_LIMIT_RATE,
  parseLimitFlag,
  type TaskTypeLimit,
  taskTypeLimit,
} from "./limit-spec.js";
export { LimitStore, type SlotHolder } from "./limit-store.js";
export { SlotSweeper, type SlotSweeperOptions } from "./slot-sweeper.js";
