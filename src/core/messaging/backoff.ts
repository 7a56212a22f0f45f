/**
 * Delay before retry number `attempt` (1-based): exponential from `baseMs`, capped at `maxMs`,
 * with full jitter so that many senders cut off by the same outage do not come back in step.
 */
export function backoffDelay(attempt: number, baseMs = 25, maxMs = 1_000): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 20));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}
