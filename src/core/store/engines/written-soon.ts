/**
 * node-redis writes the commands it is given in one socket write per turn of the event loop,
 * scheduled with `setImmediate`: a command issued while the loop handles I/O (a reply, a
 * message) leaves only after every other I/O callback of that turn and the immediates queued
 * before it (the busy poll's, a timer's) have run. A caller awaiting one command after another
 * pays that wait on every round trip, and so does the next step of a pipeline.
 *
 * `writtenSoon(issue)` calls `issue` (which issues commands on a node-redis client) with
 * `setImmediate` standing for `process.nextTick`, so those commands leave as soon as the current
 * callback and its microtasks are done. Everything issued until then still goes in one write
 * (measured: socket writes a task unchanged, one at a time and with 100 calls in flight). Only
 * the client's own scheduling sees the stand-in: it is put back before `issue` returns, and
 * node-redis keeps the handle only to know that a write is pending.
 *
 * This leans on how node-redis 6 schedules its writes (`#scheduleWrite`): should a later
 * release schedule them another way, the stand-in is never called and commands are written as
 * that release writes them.
 */
export function writtenSoon<T>(issue: () => T): T {
  const immediate = globalThis.setImmediate;
  globalThis.setImmediate = soon as unknown as typeof setImmediate;
  try {
    return issue();
  } finally {
    globalThis.setImmediate = immediate;
  }
}

/** What node-redis keeps of a scheduled write: a handle it only tests and then forgets. */
const PENDING = Object.freeze({ soon: true });

function soon(callback: () => void): object {
  process.nextTick(callback);
  return PENDING;
}
