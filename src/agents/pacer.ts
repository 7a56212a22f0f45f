/**
 * Runs a piece of batch work soon after it is asked for: on the next turn of the event loop
 * when it has not run for `lingerMs`, else one linger after its last run. Asking again before
 * it runs changes nothing. So an idle agent acts at once, and a busy one acts once per linger
 * on everything that piled up (one script call, one message) instead of once per task.
 * With `quiet` (the process has CPU to spare, e.g. `quiet()` of event-loop-load.ts) there is no
 * linger at all: the work runs on the next turn, so a lone task is never held for a batch.
 */
export class Pacer {
  private scheduled:
    | { kind: "immediate"; handle: NodeJS.Immediate }
    | { kind: "timeout"; handle: NodeJS.Timeout }
    | undefined;
  private lastRun = Number.NEGATIVE_INFINITY;
  private stopped = false;

  constructor(
    private readonly work: () => void,
    private readonly lingerMs: number,
    private readonly quiet?: () => boolean,
  ) {}

  schedule(): void {
    if (this.scheduled !== undefined || this.stopped) return;
    const run = () => {
      this.scheduled = undefined;
      this.lastRun = performance.now();
      this.work();
    };
    const now = performance.now();
    const wait = this.lastRun + this.lingerMs - now;
    const quiet = wait > 0 && this.quiet?.() === true;
    this.scheduled =
      wait <= 0 || quiet
        ? { kind: "immediate", handle: setImmediate(run) }
        : { kind: "timeout", handle: setTimeout(run, Math.ceil(wait)) };
  }

  /** Cancels a run that is scheduled; with `stop`, no later schedule() runs either. */
  cancel(stop = false): void {
    this.stopped ||= stop;
    // Each handle cleared by its own kind: clearImmediate on a Timeout corrupts Node's immediate queue.
    if (this.scheduled?.kind === "timeout") clearTimeout(this.scheduled.handle);
    else if (this.scheduled?.kind === "immediate") clearImmediate(this.scheduled.handle);
    this.scheduled = undefined;
  }
}
