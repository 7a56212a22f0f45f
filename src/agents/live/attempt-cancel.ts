import { TriadError } from "../../core/errors.js";

/** The reason a canceled attempt's ctx.signal carries (its message is the task's error). */
export const CANCELED_REASON = "canceled by client";

/** The error of an attempt its worker stopped under (AttemptCancel.leave). */
export const STOPPED_REASON = "the worker stopped";

/**
 * How a worker tells a running attempt it was canceled: a plain object per attempt (cheaper
 * than an AbortController, which the runner makes only for a handler that looks at its
 * signal). One listener: the runner's, which aborts the handler's signal and ends the attempt.
 */
export class AttemptCancel {
  reason: Error | undefined;
  /** Whether the handler hears of it (its signal fires): not when its worker stops (see leave). */
  tellsHandler = true;
  private listener: (() => void) | undefined;

  get canceled(): boolean {
    return this.reason !== undefined;
  }

  cancel(reason: Error = canceledError()): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    const listener = this.listener;
    this.listener = undefined;
    listener?.();
  }

  /**
   * The worker stopped: the attempt ends here (its timer with it: nothing fires after the stop),
   * and its handler is not told, as when the process exits. No one commits the outcome any more:
   * the task runs again elsewhere, which may take up what the handler left (an A2A agent's task).
   */
  leave(): void {
    if (this.reason !== undefined) return;
    this.tellsHandler = false;
    this.cancel(new TriadError("ERR_WORKER_STOPPED", STOPPED_REASON));
  }

  /** Calls `fn` once when canceled (at once if it already is); the returned function unhooks it. */
  onCancel(fn: () => void): () => void {
    if (this.reason !== undefined) {
      fn();
      return () => {};
    }
    this.listener = fn;
    return () => {
      if (this.listener === fn) this.listener = undefined;
    };
  }
}

/** The abort reason of a canceled attempt: an Error whose message is "canceled by client". */
export function canceledError(message = CANCELED_REASON): TriadError {
  return new TriadError("ERR_TASK_CANCELED", message);
}
