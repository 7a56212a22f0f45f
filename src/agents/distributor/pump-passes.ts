/**
 * The distributor pump's passes, one at a time. A pass takes tasks from the queue and awaits the
 * store (the dispatch script, what each attempt carries); a second one started meanwhile would
 * take the tasks behind them, and could send them first or, should the store fail both, put them
 * back in front of the first pass's. A pass asked for while one runs runs after it: one, however
 * often it was asked for.
 */
export class PumpPasses {
  private wanted = false;
  private running = false;

  /** `schedule` brings the next turn (the distributor's Pacer), on which `run()` is called. */
  constructor(
    private readonly pass: () => Promise<void>,
    private readonly schedule: () => void,
  ) {}

  /** A pass is wanted: on the next turn, or after the one running ends. */
  want(): void {
    this.wanted = true;
    this.schedule();
  }

  /** Runs the pass wanted, unless one is running (it is then scheduled when that one ends). */
  run(): void {
    if (!this.wanted || this.running) return;
    this.wanted = false;
    this.running = true;
    void this.pass()
      .catch(() => {})
      .finally(() => {
        this.running = false;
        if (this.wanted) this.schedule();
      });
  }
}
