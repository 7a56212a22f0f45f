import type { AttemptOutcome, CommitVerdict } from "./ledger-verdicts.js";

/** What the ledger tells an observer of its state changes (LedgerOptions.observer). */

/**
 * A state change the ledger made, as its script answered it: an opt-in observation hook for
 * history recorders (the chaos suite's checker). Only changes that took effect are reported,
 * plus results refused by their fence or sent again; nothing is reported for a call that failed.
 */
export type LedgerEvent =
  | { op: "recorded"; task_id: string; distributor: string | null }
  | { op: "assigned"; task_id: string; distributor: string }
  | { op: "dispatched"; task_id: string; distributor: string; worker: string; fence: number }
  | { op: "committed"; task_id: string; fence: number; status: "completed" | "failed" }
  | { op: "retried"; task_id: string; fence: number }
  /** The attempt ended input_required (src/agents/input/): the task waits, on no distributor. */
  | { op: "awaiting_input"; task_id: string; fence: number }
  | { op: "rejected"; task_id: string; fence: number; reason: "stale_fence" }
  /**
   * A result committed already, sent again (its ack, or the reply of the commit itself, was
   * lost: a distributor killed between its commit script and the reply): nothing changed, but
   * the history learns that this attempt's end is in the store (its `committed` line may be
   * missing: see the chaos checker).
   */
  | { op: "resent"; task_id: string; fence: number }
  | { op: "reassigned"; task_id: string; distributor: string; fence: number }
  | { op: "abandoned"; task_id: string; reason: string }
  /**
   * A waiting task was told that one of its dependencies ended with `status` (read from that
   * dependency's record, so a "completed" here proves the dependency had committed).
   */
  | { op: "noticed"; task_id: string; dependency: string; status: string; ready: boolean };

/** Tells `observer` what `pending` did once it is known; the promise itself when nobody observes. */
export function observed<T>(
  observer: ((event: LedgerEvent) => void) | undefined,
  pending: Promise<T>,
  describe: (value: T) => LedgerEvent | null,
): Promise<T> {
  if (observer === undefined) return pending;
  return pending.then((value) => {
    const event = describe(value);
    if (event !== null) tell(observer, event);
    return value;
  });
}

/** observed() for a batch: `describe(value, k)` for each of the values `pending` answers. */
export function observedEach<T>(
  observer: ((event: LedgerEvent) => void) | undefined,
  pending: Promise<T[]>,
  describe: (value: T, k: number) => LedgerEvent | null,
): Promise<T[]> {
  if (observer === undefined) return pending;
  return pending.then((values) => {
    values.forEach((value, k) => {
      const event = describe(value, k);
      if (event !== null) tell(observer, event);
    });
    return values;
  });
}

/** Tells the observer of a state change; a broken recorder must not fail a change that already happened. */
export function tell(observer: (event: LedgerEvent) => void, event: LedgerEvent): void {
  try {
    observer(event);
  } catch {
    // ignored: see above
  }
}

/** The event of a commit with `verdict`. */
export function commitEvent(outcome: AttemptOutcome, verdict: CommitVerdict): LedgerEvent | null {
  const at = { task_id: outcome.taskId, fence: outcome.fence };
  if (verdict === "duplicate") return { op: "resent", ...at }; // nothing changed
  if (verdict === "stale") return { op: "rejected", ...at, reason: "stale_fence" };
  if (verdict === "retry") return { op: "retried", ...at };
  if (verdict === "input_required") return { op: "awaiting_input", ...at };
  return { op: "committed", ...at, status: verdict };
}
