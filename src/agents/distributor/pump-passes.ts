import { TriadError } from "../../core/errors.js";

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
 *
 * Other dispatches take turns with the passes (`alone`): the seed's explicit assignment, which
 * moves a task to a worker of its choosing, must not run while a pass has that task out.
 */
export class PumpPasses {
  private wanted = false;
  /** The pass that holds up the next, if one does: the one running, until it ends or overruns. */
  private running: object | null = null;
  /** Dispatches that run alone, in a turn of their own, in the order asked. */
  private readonly alones: Array<{ run: () => Promise<void>; refuse: (why: Error) => void }> = [];
  private stopped = false;

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

  /** Runs `fn` in a turn of its own, when no pass (nor other such) runs: what it resolves with. */
  alone<T>(fn: () => Promise<T>): Promise<T> {
    if (this.stopped) return Promise.reject(stoppedError());
    return new Promise<T>((resolve, reject) => {
      this.alones.push({ run: () => fn().then(resolve, reject), refuse: reject });
      this.schedule();
    });
  }

  /** The distributor stops: no turn comes any more, and a dispatch waiting for one is refused. */
  stop(): void {
    this.stopped = true;
    for (const waiting of this.alones.splice(0)) waiting.refuse(stoppedError());
  }

  /** Runs what waits for a turn (a dispatch alone first, else the pass wanted), unless one is running. */
  run(): void {
    if (this.running !== null) return;
    let next = this.alones.shift()?.run;
    if (next === undefined) {
      if (!this.wanted) return;
      this.wanted = false;
      next = this.pass;
    }
    const turn = {};
    this.running = turn;
    const bound = setTimeout(() => {
      this.events.overdue?.();
      this.release(turn);
    }, this.boundMs);
    bound.unref();
    void next()
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
    if (this.wanted || this.alones.length > 0) this.schedule();
  }
}

function stoppedError(): TriadError {
  return new TriadError("ERR_SHUTTING_DOWN", "the distributor is stopping: the task was not dispatched");
}
