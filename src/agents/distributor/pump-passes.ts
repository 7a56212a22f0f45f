/**
 * The distributor pump's passes, one at a time. A pass takes tasks from the queue and awaits the
 * store (the dispatch script, what each attempt carries); a second one started meanwhile would
 * take the tasks behind them, and could send them first. A pass asked for while one runs runs
 * after it: one, however often it was asked for.
 *
 * Bounded: a pass still running after `boundMs` (a store call that does not answer: a hung
 * connection has no timeout) no longer holds up the next, which would otherwise wait for ever
 * and no task be dispatched again. The two do not race on the same tasks: a pass takes its tasks
 * out of the queue and counts them against their workers' room before its first await, so the
 * next takes others; the late one goes on with its own once its call answers (sent, or put back
 * in their places should it fail).
 */
export class PumpPasses {
  private wanted = false;
  /** The pass that holds up the next, if one does: the one running, until it ends or overruns. */
  private running: object | null = null;

  /** `schedule` brings the next turn (the distributor's Pacer), on which `run()` is called. */
  constructor(
    private readonly pass: () => Promise<void>,
    private readonly schedule: () => void,
    private readonly boundMs: number,
    private readonly events: { overdue?: () => void } = {},
  ) {}

  /** A pass is wanted: on the next turn, or after the one running ends. */
  want(): void {
    this.wanted = true;
    this.schedule();
  }

  /** Runs the pass wanted, unless one is running (it is then scheduled when that one ends). */
  run(): void {
    if (!this.wanted || this.running !== null) return;
    this.wanted = false;
    const turn = {};
    this.running = turn;
    const bound = setTimeout(() => {
      this.events.overdue?.();
      this.release(turn);
    }, this.boundMs);
    bound.unref();
    void this.pass()
      .catch(() => {})
      .finally(() => {
        clearTimeout(bound);
        this.release(turn);
      });
  }

  /** `turn` holds up the next pass no more (ended, or overran its bound). */
  private release(turn: object): void {
    if (this.running !== turn) return;
    this.running = null;
    if (this.wanted) this.schedule();
  }
}
