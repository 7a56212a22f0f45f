import { TriadError } from "../../core/errors.js";
import type { RedisClient } from "../../core/store/index.js";
import { TickBatcher } from "../../core/tick-batcher.js";
import { announceLimitChange, hearLimitChanges, stopHearingLimitChanges } from "./limit-news.js";
import * as scripts from "./limit-scripts.js";
import { checkLimit, type LimitView, type TaskTypeLimit } from "./limit-spec.js";

/** Most task types with a limit, unless the coordinator's limits.maxLimits says otherwise. */
export const DEFAULT_MAX_LIMITS = 1000;

/** The store's hash tag for limits: every type's keys share one slot (a limit is one count for the cluster). */
const TAG = "{limits}:";

/** A holder of a slot as the store records it: a reservation ("r:<ms>:<dist>") or an attempt's fence. */
export type SlotHolder = { taskId: string; taskType: string; value: string };

/** Why a slot was not granted: wait for a free slot, or this many ms (rate). */
export type SlotRefusal = "full" | number;

/**
 * The limits' records in the store and their atomic steps (scripts/ beside this file): the
 * limit of each task type, who holds its slots, its recent starts and who waits. Calls made in
 * the same tick share one script call.
 */
export class LimitStore {
  private readonly releaser: TickBatcher<{ taskId: string; value: string }, boolean>;

  constructor(private readonly store: RedisClient) {
    this.releaser = new TickBatcher(async (_key, items) => {
      const args: string[] = [this.prefix];
      for (const i of items) args.push(i.taskId, i.value);
      return ((await this.run(scripts.releaseSlots, args)) as number[]).map((r) => r === 1);
    });
  }

  private get prefix(): string {
    return this.store.key(TAG);
  }

  private run(script: Parameters<RedisClient["runScript"]>[0], args: (string | number)[]) {
    return this.store.runScript(script, [`${TAG}config`], args);
  }

  /**
   * Sets a type's limit (checked: ERR_INVALID_LIMIT naming the field); true when it replaced one.
   * A type without one when `maxLimits` types have one already is refused with
   * ERR_TOO_MANY_LIMITS (409), atomically with the count; changing a type's limit is not a new one.
   */
  async set(taskType: string, limit: TaskTypeLimit, maxLimits = DEFAULT_MAX_LIMITS): Promise<boolean> {
    const checked = checkLimit(taskType, limit);
    const reply = await this.run(scripts.setLimit, [
      this.prefix,
      checked.taskType,
      JSON.stringify(checked.limit),
      maxLimits,
    ]);
    if (reply === -1)
      throw new TriadError(
        "ERR_TOO_MANY_LIMITS",
        `there are ${maxLimits} task types with a limit already, the most there may be: remove one first (DELETE /limits/{task_type}), or raise the coordinator's limits.maxLimits (triad coordinator --max-limits)`,
        { status: 409, max: maxLimits },
      );
    // Answered only once every gate has been told: a type newly limited is not one a gate
    // knows of until it reads the limits again (see LimitGate.changed).
    await announceLimitChange(this.store, checked.taskType);
    return reply === 1;
  }

  /** Removes a type's limit; false when it had none. */
  async remove(taskType: string): Promise<boolean> {
    const had = (await this.run(scripts.setLimit, [this.prefix, taskType, ""])) === 1;
    await announceLimitChange(this.store, taskType);
    return had;
  }

  /** Calls `changed` whenever a limit is set or removed anywhere (see limit-news.ts). */
  listen(changed: () => void): Promise<boolean> {
    return hearLimitChanges(this.store, changed);
  }

  unlisten(): Promise<void> {
    return stopHearingLimitChanges(this.store);
  }

  /** Every limit with its slots in use and its tasks waiting, over the whole cluster. */
  async list(): Promise<LimitView[]> {
    return (await this.read("", new Map(), false)).limits;
  }

  /**
   * Reads the limits, reporting as `distributorId` how many of its tasks wait per type (0 clears
   * a report); with `withHolders`, who holds each slot, for the sweeper.
   */
  async read(
    distributorId: string,
    waiting: Map<string, number>,
    withHolders: boolean,
  ): Promise<{ nowMs: number; limits: LimitView[]; holders: SlotHolder[] }> {
    const args: (string | number)[] = [this.prefix, distributorId, withHolders ? "1" : "0"];
    for (const [type, n] of waiting) args.push(type, n);
    const [now, rows, flat] = (await this.run(scripts.readLimits, args)) as [
      number,
      Array<[string, string, number, number]>,
      string[],
    ];
    const limits = rows
      .map(([type, spec, inUse, waits]) => ({
        task_type: type,
        ...(JSON.parse(spec) as TaskTypeLimit),
        in_use: inUse,
        waiting: waits,
      }))
      .sort((a, b) => a.task_type.localeCompare(b.task_type));
    const holders: SlotHolder[] = [];
    for (let i = 0; i < flat.length; i += 3)
      holders.push({ taskId: flat[i]!, taskType: flat[i + 1]!, value: flat[i + 2]! });
    return { nowMs: now, limits, holders };
  }

  /** Takes slots for attempts about to start: the reservation they are held under, and per item 0 or why not. */
  async acquire(
    distributorId: string,
    items: Array<{ taskId: string; taskType: string }>,
  ): Promise<{ reservation: string; verdicts: Array<0 | "unlimited" | SlotRefusal> }> {
    const args: string[] = [this.prefix, distributorId];
    for (const i of items) args.push(i.taskType, i.taskId);
    const [reservation, ...codes] = (await this.run(scripts.acquireSlots, args)) as [string, ...number[]];
    return {
      reservation,
      verdicts: codes.map((c) => (c === 0 ? 0 : c === -1 ? "full" : c === -2 ? "unlimited" : c)),
    };
  }

  /** Binds reserved slots to the attempts started (fence) or frees them (null: not started); false: no slot. */
  async bind(
    reservation: string,
    items: Array<{ taskId: string; taskType: string; fence: number | null }>,
  ): Promise<boolean[]> {
    const args: string[] = [this.prefix, reservation];
    for (const i of items) args.push(i.taskId, i.taskType, i.fence === null ? "" : String(i.fence));
    return ((await this.run(scripts.bindSlots, args)) as number[]).map((r) => r === 1);
  }

  /** Frees a task's slot if it still holds `value` (its attempt's fence, or a reservation). */
  release(taskId: string, value: string): Promise<boolean> {
    return this.releaser.add("*", { taskId, value });
  }
}
