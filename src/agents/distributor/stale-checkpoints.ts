import { BoundedMap } from "../observe/bounded-map.js";

/** Attempts remembered as already told of (the newest this many or so: nothing grows for ever). */
const REMEMBERED = 2_048;

/**
 * Checkpoints of an attempt a worker no longer runs (taken back when it was declared dead, run
 * again elsewhere) are each refused and counted, but the log tells of the first of each attempt
 * only: a LangGraph attempt sends one per step, and one warn line per checkpoint flooded the
 * log (found probing with real processes). The first says that the rest go unlogged.
 */
export class StaleCheckpoints {
  private readonly told = new BoundedMap<string, { refused: number }>(REMEMBERED);

  /** One more refused checkpoint of `sender`'s attempt `fence` of `taskId`: true for its first. */
  first(sender: string, taskId: string, fence: number): boolean {
    const key = `${sender}\u0000${taskId}\u0000${fence}`;
    const seen = this.told.get(key);
    if (seen !== undefined) {
      seen.refused++;
      return false;
    }
    this.told.add(key, { refused: 1 });
    return true;
  }
}
