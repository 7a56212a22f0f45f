import type { LimitGate, ReservedSlots } from "./limit-gate.js";

/** A planned attempt, as far as the limits look at it: its task's id and type, and its place in the queue. */
type Planned = { task: { task_id: string; task_type: string }; place?: number | undefined };

/** What the limits need of the distributor: to start attempts, and to undo the plan of one refused now. */
export type LimitedDispatcher<P extends Planned> = {
  /** Starts a plan (its limited tasks hold slots under `slots`; bind them after the dispatch script). */
  dispatch(plan: P[], slots?: ReservedSlots): Promise<void>;
  /** A planned task the limits refused now: it is still queued, in its place; its worker's room is free. */
  refused(item: P): void;
};

/**
 * What the limits need of the distributor's queue (its DispatchQueue): tasks of limited types are
 * offered in place rather than taken, so that one refused a slot keeps its place (its lane and
 * its position in it), and the wait is its type's: the next task offered of that type is the
 * first of it in queue order.
 */
export type LimitedQueue<T extends Planned["task"] = Planned["task"]> = {
  /** Puts tasks taken out back at the front, in the places they were taken with (a type limited since). */
  putFirst(taken: ReadonlyArray<{ task: T; place?: number | undefined }>): void;
  /** Offers the tasks of the types `limits` limits in place, instead of taking them. */
  limitBy(limits: { readonly active: boolean; isLimited(taskType: string): boolean }): void;
  /** Whether any task is on offer (a limit may have been removed since it was offered). */
  readonly offers: boolean;
  isOffered(taskId: string): boolean;
  /** A count of the slots freed here; see putBack. */
  readonly releases: number;
  /** The task leaves the queue (it starts). */
  delete(taskId: string): boolean;
  /** Refused: it stays in its place; its type is not offered before `until` unless a slot was freed after `since`. */
  putBack(taskId: string, until: number, since: number): void;
  /** A slot of the type was freed here: its first task may be offered at once. */
  freed(taskType: string): void;
  /** The tasks of limited types whose time has come (waiting for a slot), per type. */
  waitingByType(isLimited: (taskType: string) => boolean): Map<string, number>;
};

type Admission<P> = { admitted: P[]; slots?: ReservedSlots; refused: Array<{ item: P; notBefore: number }> };

/** How long limited tasks wait when the slot call failed outright. */
const FAILED_RETRY_MS = 200;

/**
 * The distributor core's seam to the per-task-type limits: which tasks of a dispatch plan may
 * start now given the cluster-wide concurrency and rate limits (the LimitGate asks the store),
 * binding their slots to the attempts that started, and giving slots back when attempts end.
 * Without a gate, or while no type is limited, a plan starts whole and no store call is made.
 * A refused task stays in its place in the queue and its type waits (see LimitedQueue).
 */
export class DispatchLimits<P extends Planned> {
  constructor(
    private readonly gate: LimitGate | undefined,
    private readonly queue: LimitedQueue<P["task"]>,
    private readonly dispatcher: LimitedDispatcher<P>,
  ) {
    if (gate === undefined) return;
    queue.limitBy(gate);
    gate.countWaitingWith((isLimited) => queue.waitingByType(isLimited));
  }

  /** Starts the part of a plan the task-type limits allow now; the rest waits in the queue. */
  dispatch(plan: P[]): Promise<void> {
    const gate = this.gate;
    if (gate === undefined) return this.dispatcher.dispatch(plan);
    // A limit changed a moment ago and the gate is reading it: wait for that read (only then).
    const settling = gate.settling;
    if (settling !== undefined) return settling.then(() => this.dispatchNow(gate, plan));
    return this.dispatchNow(gate, plan);
  }

  private dispatchNow(gate: LimitGate, plan: P[]): Promise<void> {
    if (!gate.active && !this.queue.offers) return this.dispatcher.dispatch(plan);
    return this.withinLimits(gate, plan);
  }

  private async withinLimits(gate: LimitGate, plan: P[]): Promise<void> {
    // The tasks the queue offered (of limited types) ask for slots; the others were taken and
    // start at once, not after the limited ones' slots are taken — unless their type has been
    // limited since they were taken: those go back to the front of the queue, to be offered.
    const offered: P[] = [];
    const taken: P[] = [];
    const late: P[] = [];
    for (const p of plan) {
      if (this.queue.isOffered(p.task.task_id)) offered.push(p);
      else (gate.isLimited(p.task.task_type) ? late : taken).push(p);
    }
    if (late.length > 0) {
      this.queue.putFirst(late);
      for (const p of late) this.dispatcher.refused(p);
    }
    const unlimited = this.dispatcher.dispatch(taken);
    const since = this.queue.releases;
    let answer: Admission<P>;
    try {
      answer = await gate.admit(offered);
    } catch {
      // Every task on offer is answered, or its type would wait for ever.
      answer = {
        admitted: [],
        refused: offered.map((item) => ({ item, notBefore: Date.now() + FAILED_RETRY_MS })),
      };
    }
    for (const p of answer.admitted) this.queue.delete(p.task.task_id);
    for (const { item, notBefore } of answer.refused) {
      this.queue.putBack(item.task.task_id, notBefore, since);
      this.dispatcher.refused(item);
    }
    await Promise.all([unlimited, this.dispatcher.dispatch(answer.admitted, answer.slots)]);
  }

  /**
   * After the dispatch script: binds the reserved slots to the attempts' fences. Answers the
   * plan indexes of attempts that started without a slot: the caller takes them back (see LimitGate.bind).
   */
  bind(slots: ReservedSlots, plan: P[], verdicts: Array<number | string>): Promise<number[]> {
    return this.gate!.bind(slots, plan, verdicts);
  }

  /** The dispatch of a plan failed outright: its reserved slots go back (see LimitGate.giveBack). */
  giveBack(slots: ReservedSlots, plan: P[]): Promise<void> {
    return this.gate!.giveBack(slots, plan);
  }

  /** The attempt (taskId, fence) is over here: its slot, if it holds one, goes back. */
  release(taskId: string, fence: number, taskType?: string): void {
    // A slot of a concurrency limit: its type's next task need not wait out a refusal's retry
    // time (a rate's wait it must).
    if (this.gate?.release(taskId, fence, taskType) === true) this.queue.freed(taskType!);
  }
}
