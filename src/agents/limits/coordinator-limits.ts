import type { RedisClient } from "../../core/store/index.js";
import type { TaskLedger } from "../ledger/task-ledger.js";
import { checkLimit, type LimitView, type TaskTypeLimit } from "./limit-spec.js";
import { LimitStore } from "./limit-store.js";
import { SlotSweeper } from "./slot-sweeper.js";

export type CoordinatorLimitsOptions = {
  /** Limits set when the coordinator starts (`--limit`), replacing those of the same types. */
  initial?: Record<string, TaskTypeLimit>;
  /** How often slots of attempts that ended elsewhere are freed. Default 1 s. */
  sweepIntervalMs?: number;
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

  constructor(store: RedisClient, ledger: TaskLedger, options: CoordinatorLimitsOptions = {}) {
    this.store = new LimitStore(store);
    this.sweeper = new SlotSweeper(this.store, ledger, { intervalMs: options.sweepIntervalMs ?? 1000 });
    this.initial = Object.entries(options.initial ?? {}).map(([type, limit]) => checkLimit(type, limit));
  }

  async start(): Promise<void> {
    for (const { taskType, limit } of this.initial) await this.store.set(taskType, limit);
    this.sweeper.start();
  }

  stop(): void {
    this.sweeper.stop();
  }

  set(taskType: string, limit: TaskTypeLimit): Promise<boolean> {
    return this.store.set(taskType, limit);
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
