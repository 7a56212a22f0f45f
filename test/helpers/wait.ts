/** Waiting in tests: for a while, or until something holds (polled, with a deadline that fails the test). */

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Resolves once `ok()` holds, polling every `everyMs`; throws "timed out waiting until <what>"
 * after `timeoutMs`.
 */
export async function until(
  what: string,
  ok: () => boolean | Promise<boolean>,
  timeoutMs = 8000,
  everyMs = 20,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await ok())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(everyMs);
  }
}
