import type { JsonValue } from "../../core/json.js";

/** One attempt's latest progress, as it travels worker -> distributor (task_progress). */
export type ProgressUpdate = { task_id: string; fence: number; progress: JsonValue };

/** Default: the latest value of each attempt leaves at most this often. */
export const PROGRESS_INTERVAL_MS = 250;

/**
 * Coalesces the progress handlers report on a worker: of each attempt only the latest value
 * is kept, and every `intervalMs` the values that changed leave together in one message. A
 * handler that reports in a tight loop costs a Map write per call, never a message per call.
 * One timer for the whole worker, armed only while something waits to leave. When an attempt
 * ends, its latest value rides on its outcome too (take()): a message sent just before may be
 * overtaken by the commit, and the last value must not be lost to that race.
 */
export class ProgressCoalescer {
  /** Each running attempt's latest value; `dirty` while it has not left yet. */
  private readonly latest = new Map<string, { update: ProgressUpdate; dirty: boolean }>();
  private timer: NodeJS.Timeout | undefined;
  private lastFlush = 0;
  private stopped = false;

  constructor(
    private readonly o: {
      send: (updates: ProgressUpdate[]) => Promise<void>;
      intervalMs?: number;
    },
  ) {}

  report(taskId: string, fence: number, progress: JsonValue): void {
    if (this.stopped) return;
    const key = `${taskId}\u0000${fence}`;
    this.latest.set(key, { update: { task_id: taskId, fence, progress }, dirty: true });
    if (this.timer !== undefined) return;
    const interval = this.o.intervalMs ?? PROGRESS_INTERVAL_MS;
    const wait = Math.max(0, this.lastFlush + interval - performance.now());
    this.timer = setTimeout(() => this.flush(), wait);
    this.timer.unref();
  }

  /** The attempt's latest value (undefined: it reported none), forgotten here: its outcome carries it. */
  take(taskId: string, fence: number): JsonValue | undefined {
    // Most attempts report no progress: no key to build (a new string, hashed) for an empty map.
    if (this.latest.size === 0) return undefined;
    const key = `${taskId}\u0000${fence}`;
    const entry = this.latest.get(key);
    if (entry === undefined) return undefined;
    this.latest.delete(key);
    return entry.update.progress;
  }

  private flush(): void {
    this.timer = undefined;
    this.lastFlush = performance.now();
    if (this.stopped) return;
    const updates: ProgressUpdate[] = [];
    for (const entry of this.latest.values()) {
      if (!entry.dirty) continue;
      entry.dirty = false;
      updates.push(entry.update);
    }
    if (updates.length === 0) return;
    // Best effort: progress is a view, not a record; a lost one is overtaken by the next or the outcome's.
    this.o.send(updates).catch(() => {});
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.latest.clear();
  }
}
