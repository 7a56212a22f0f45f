import { TriadError } from "../core/errors.js";
import { checkKnownKeys } from "../core/known-keys.js";
import { MAX_TIMER_MS } from "../core/timers.js";

/**
 * How fast agents notice each other (ARCHITECTURE invariant 3): a heartbeat every second,
 * dead after three missed, tasks moved within one more monitor tick.
 */
export type Timing = {
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  /** How often monitorWorkers / monitorDistributors run. */
  monitorIntervalMs: number;
  /** TTL of a distributor's shared-state lease; renewed every third of it. */
  leaseTtlMs: number;
  /**
   * Under load, how long messages between agents may wait to be batched: a peer gets at most
   * one message of a kind per this many ms (an idle peer gets the first one at once).
   */
  batchLingerMs: number;
  /**
   * While this process is busy (its event loop at work most of the time), how long the
   * coordinator gathers submitted tasks for a distributor into one assignment, instead of
   * batchLingerMs. Batches formed at the entry travel as batches through every later hop, so
   * per-message costs are paid per batch exactly when CPU is short. An idle coordinator still
   * sends the first task at once.
   */
  busyAssignLingerMs: number;
  /**
   * How long an agent declared dead stays listed as dead (GET /agents, triad status, the
   * dashboard, /metrics) before it is forgotten; one that heartbeats again comes back as new.
   * A dead distributor is forgotten only once no task is recorded on it any more, a dead worker
   * only once none of its attempts is held for it.
   */
  deadRetentionMs: number;
};

export const DEFAULT_TIMING: Timing = {
  heartbeatIntervalMs: 1000,
  heartbeatTimeoutMs: 3000,
  monitorIntervalMs: 500,
  leaseTtlMs: 3000,
  batchLingerMs: 2,
  busyAssignLingerMs: 10,
  deadRetentionMs: 600_000,
};

/** The timings that may be 0 (the rest must be positive). */
const NON_NEGATIVE = new Set(["batchLingerMs", "busyAssignLingerMs", "deadRetentionMs"]);

/** The timing keys, for the check that a given one is known. */
const TIMING_KEYS = Object.fromEntries(Object.keys(DEFAULT_TIMING).map((key) => [key, true as const]));

export function resolveTiming(partial: Partial<Timing> = {}): Timing {
  // null (or 5) was spread as nothing: the defaults, without a word.
  if (typeof partial !== "object" || partial === null || Array.isArray(partial)) {
    throw new TriadError(
      "ERR_INVALID_CONFIG",
      `timing must be an object of milliseconds (got ${partial === null ? "null" : typeof partial})`,
    );
  }
  // An unknown key was reported as a wrong value ("timing.heartbeatMs must be a ... (got 500)").
  checkKnownKeys("timing", partial, TIMING_KEYS, "timing.");
  const t = { ...DEFAULT_TIMING, ...partial };
  for (const [name, value] of Object.entries(t)) {
    const least = NON_NEGATIVE.has(name) ? 0 : Number.MIN_VALUE;
    if (typeof value !== "number" || !Number.isFinite(value) || value < least || value > MAX_TIMER_MS) {
      throw new TriadError(
        "ERR_INVALID_CONFIG",
        `timing.${name} must be a ${least === 0 ? "non-negative" : "positive"} number of milliseconds up to ${MAX_TIMER_MS} (got ${value})`,
      );
    }
  }
  if (t.heartbeatTimeoutMs <= t.heartbeatIntervalMs) {
    throw new TriadError(
      "ERR_INVALID_CONFIG",
      `timing.heartbeatTimeoutMs (${t.heartbeatTimeoutMs} ms) must be longer than timing.heartbeatIntervalMs (${t.heartbeatIntervalMs} ms): an agent would be declared dead between two of its heartbeats (3 x the interval is the default)`,
    );
  }
  return t;
}

/** Retries of failed tasks, per task type; `default` for the rest. */
export type RetryPolicy = { maxRetries: number; backoffMs: number };
export type RetryPolicies = { default: RetryPolicy } & Record<string, RetryPolicy>;
export const DEFAULT_RETRY: RetryPolicy = { maxRetries: 2, backoffMs: 200 };

/**
 * The policy of `taskType`: its own entry, else `default`. Own entries only — a task type is
 * named by the client, and "constructor" or "__proto__" must not find Object.prototype's.
 */
export function retryPolicyFor(policies: RetryPolicies, taskType: string): RetryPolicy {
  if (Object.hasOwn(policies, taskType)) return policies[taskType]!;
  return Object.hasOwn(policies, "default") ? policies.default : DEFAULT_RETRY;
}
