/**
 * How long a send caught by the attempt's deadline may still take to answer with the remote
 * task's id (so that the task can be canceled) before it is torn down all the same.
 */
export const SEND_GRACE_MS = 10_000;

/**
 * The signal a message that starts a remote task is sent under. It follows the attempt's
 * `deadline` once the remote task's id is known (`known()`). A deadline that passes while the
 * message is on its way does not tear the request down: the agent may have started the task
 * already, and only its answer names it. The send is left up to `graceMs` to answer, and the
 * attempt then cancels the task it names. A deadline already passed sends nothing.
 * `done()`, once the send has ended (answered, failed or torn down), takes its listener off the
 * deadline and clears its grace timer: an attempt that sends again under the same deadline (a
 * remote task lost and sent anew) must not pile up a listener per send.
 */
export function sendSignal(
  deadline: AbortSignal | undefined,
  graceMs = SEND_GRACE_MS,
): { signal: AbortSignal | undefined; known: () => void; done: () => void } {
  if (deadline === undefined) return { signal: undefined, known: () => {}, done: () => {} };
  const controller = new AbortController();
  let named = false;
  let grace: NodeJS.Timeout | undefined;
  const stop = () => {
    clearTimeout(grace);
    controller.abort(deadline.reason);
  };
  const onAbort = () => {
    if (named) return stop();
    grace = setTimeout(stop, graceMs);
    grace.unref();
  };
  if (deadline.aborted) stop();
  else deadline.addEventListener("abort", onAbort, { once: true });
  return {
    signal: controller.signal,
    known: () => {
      named = true;
      if (deadline.aborted) stop();
    },
    done: () => {
      deadline.removeEventListener("abort", onAbort);
      clearTimeout(grace);
    },
  };
}
