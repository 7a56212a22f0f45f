import { type EventLoopUtilization, performance } from "node:perf_hooks";

/** How long one reading of the event loop's utilisation is reused before it is taken again. */
const WINDOW_MS = 50;

let last: EventLoopUtilization | undefined;
let lastAt = Number.NEGATIVE_INFINITY;
let utilization = 0;

/**
 * The share of the last ~50 ms this process's event loop spent at work rather than waiting
 * (0 to 1), from `performance.eventLoopUtilization()`. Read lazily: no timer, at most one
 * reading per window however often it is asked. A process near 1 has no time to spare, which is
 * when batching harder pays: fewer, larger messages cost less CPU per task.
 */
export function eventLoopUtilization(now = performance.now()): number {
  if (now - lastAt < WINDOW_MS) return utilization;
  const current = performance.eventLoopUtilization();
  if (last !== undefined) utilization = performance.eventLoopUtilization(current, last).utilization;
  last = current;
  lastAt = now;
  return utilization;
}

/**
 * Below this share of its time at work the process is quiet: batching buys it nothing (there is
 * CPU to spare for one message or script call per item), so batches go out at once instead of
 * waiting a linger. A lone task then crosses the three tiers with no linger at any hop.
 */
export const QUIET_UTILIZATION = 0.5;

/** True while this process's event loop was at work less than QUIET_UTILIZATION of the last ~50 ms. */
export function quiet(now?: number): boolean {
  return eventLoopUtilization(now) < QUIET_UTILIZATION;
}

/**
 * quiet(), or `lone()`: the agent has at most one task in hand, so there is nothing a linger
 * could batch with it however busy the process is (with an A2A agent's HTTP calls, say). A
 * lone task is then never held for a batch; under load (many tasks in hand) lingers apply.
 */
export function quietOr(lone: () => boolean): () => boolean {
  return () => lone() || quiet();
}
