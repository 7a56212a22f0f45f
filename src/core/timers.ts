/**
 * The longest delay a Node.js timer takes (2^31 - 1 ms, ~24.8 days). A longer one is set to 1 ms
 * with a TimeoutOverflowWarning: a timer re-armed for a due time further off than that would
 * fire every millisecond.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * `ms` as a timer's delay: at least 0, at most MAX_TIMER_MS. For a timer whose callback looks
 * again at what is due and re-arms (so firing early only costs a look).
 */
export function timerDelay(ms: number): number {
  return Math.min(MAX_TIMER_MS, Math.max(0, ms));
}
