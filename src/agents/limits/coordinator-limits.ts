import type { RedisClient } from "../../core/store/index.js";
import { checkedCount } from "../agent-options.js";
import type { TaskLedger } from "../ledger/task-ledger.js";
import { checkLimit, type LimitView, type TaskTypeLimit } from "./limit-spec.js";
import { DEFAULT_MAX_LIMITS, LimitStore } from "./limit-store.js";
import { SlotSweeper } from "./slot-sweeper.js";

export type CoordinatorLimitsOptions = {
  /** Limits set when the coordinator starts (`--limit`), replacing those of the same types. */
  initial?: Record<string, TaskTypeLimit>;
  /** How often slots of attempts that ended elsewhere are freed. Default 1 s. */
  sweepIntervalMs?: number;
  /**
   * Most task types with a limit (the whole cluster's, counted in the store): a limit on one more
   * type is refused with ERR_TOO_MANY_LIMITS (409); changing a type's limit is not one more.
   * Read at each set. Default 1,000.
   */
  maxLimits?: number;
};

/**
 * The coordinator's side of the per-task-type limits: it sets, removes and lists them (the
 * distributors enforce them, see LimitGate) and sweeps slots whose attempts ended without
 * their distributor giving them back.
 */
export class CoordinatorLimits {
  readonly store: LimitStore;
  private readonly sweeper: SlotSweeper;
  private readonly initial: Array<{ taskType: string; limit: TaskTypeLimit }>;

  constructor(
    store: RedisClient,
    ledger: TaskLedger,
    private readonly options: CoordinatorLimitsOptions = {},
  ) {
    if (options.maxLimits !== undefined) checkedCount("limits.maxLimits", options.maxLimits);
    this.store = new LimitStore(store);
    this.sweeper = new SlotSweeper(this.store, ledger, { intervalMs: options.sweepIntervalMs ?? 1000 });
    this.initial = Object.entries(options.initial ?? {}).map(([type, limit]) => checkLimit(type, limit));
  }

  async start(): Promise<void> {
    for (const { taskType, limit } of this.initial) await this.set(taskType, limit);
    this.sweeper.start();
  }

  stop(): void {
    this.sweeper.stop();
  }

  set(taskType: string, limit: TaskTypeLimit): Promise<boolean> {
    const max = checkedCount("limits.maxLimits", this.options.maxLimits ?? DEFAULT_MAX_LIMITS);
    return this.store.set(taskType, limit, max);
  }

  remove(taskType: string): Promise<boolean> {
    return this.store.remove(taskType);
  }

  list(): Promise<LimitView[]> {
    return this.store.list();
  }

  /** Frees the slots of attempts that are over now (the sweeper does this every interval). */
  sweep(): Promise<number> {
    return this.sweeper.sweep();
  }
}
