import type { LimitGate, ReservedSlots } from "./limit-gate.js";

/** A planned attempt, as far as the limits look at it: its task's id and type. */
type Planned = { task: { task_id: string; task_type: string } };

/** What the limits need of the distributor: to start attempts, and to queue again one refused now. */
export type LimitedDispatcher<P extends Planned> = {
  /** Starts a plan (its limited tasks hold slots under `slots`; bind them after the dispatch script). */
  dispatch(plan: P[], slots?: ReservedSlots): Promise<void>;
  /** A task the limits refused now: it waits in the queue until `notBefore` (epoch ms). */
  putBack(item: P, notBefore: number): void;
};

/**
 * The distributor core's seam to the per-task-type limits: which tasks of a dispatch plan may
 * start now given the cluster-wide concurrency and rate limits (the LimitGate asks the store),
 * binding their slots to the attempts that started, and giving slots back when attempts end.
 * Without a gate, or while no type is limited, a plan starts whole and no store call is made.
 */
export class DispatchLimits<P extends Planned> {
  constructor(
    private readonly gate: LimitGate | undefined,
    private readonly dispatcher: LimitedDispatcher<P>,
  ) {}

  /** Starts the part of a plan the task-type limits allow now; the rest waits in the queue. */
  dispatch(plan: P[]): Promise<void> {
    const gate = this.gate;
    if (!gate?.active) return this.dispatcher.dispatch(plan);
    return this.withinLimits(gate, plan);
  }

  private async withinLimits(gate: LimitGate, plan: P[]): Promise<void> {
    // Tasks of unlimited types start at once, not after the limited ones' slots are taken.
    const unlimited = this.dispatcher.dispatch(plan.filter((p) => !gate.isLimited(p.task.task_type)));
    const { admitted, refused, slots } = await gate.admit(
      plan.filter((p) => gate.isLimited(p.task.task_type)),
    );
    for (const { item, notBefore } of refused) this.dispatcher.putBack(item, notBefore);
    await Promise.all([unlimited, this.dispatcher.dispatch(admitted, slots)]);
  }

  /**
   * After the dispatch script: binds the reserved slots to the attempts' fences. Answers the
   * plan indexes of attempts that started without a slot: the caller takes them back (see LimitGate.bind).
   */
  bind(slots: ReservedSlots, plan: P[], verdicts: Array<number | string>): Promise<number[]> {
    return this.gate!.bind(slots, plan, verdicts);
  }

  /** The attempt (taskId, fence) is over here: its slot, if it holds one, goes back. */
  release(taskId: string, fence: number, taskType?: string): void {
    this.gate?.release(taskId, fence, taskType);
  }
}
