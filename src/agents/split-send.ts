import { isTriadError } from "../core/errors.js";

/**
 * Errors that say a message can never go, whatever the peer does: it cannot be built and signed
 * (a member not JSON, or nested too deep), or it is larger than the peer takes.
 */
const UNSENDABLE = new Set(["ERR_INVALID_MESSAGE", "ERR_INVALID_JSON", "ERR_A2A_TOO_LARGE"]);

/**
 * Whether `err` says the message was too large: over this agent's own body limit
 * (ERR_A2A_TOO_LARGE, before it left), or refused by the peer as over the peer's
 * (ERR_A2A_REJECTED, reason too_large: HTTP 413, the peer's `maxBodyBytes` smaller than ours).
 * The peer refuses it the same every time: sending it again cannot help.
 */
export function isTooLarge(err: unknown): boolean {
  if (isTriadError(err, "ERR_A2A_TOO_LARGE")) return true;
  return isTriadError(err, "ERR_A2A_REJECTED") && err.details?.reason === "too_large";
}

export function isUnsendable(err: unknown): boolean {
  return isTriadError(err) && (UNSENDABLE.has(err.code) || isTooLarge(err));
}

/**
 * Sends `items` as one message. When that message can never go (see UNSENDABLE), sends each half
 * on its own, down to single items, so that one bad item does not hold its batch-mates back: an
 * item that cannot go even alone is handed to `refuse` with the reason, and the rest go without
 * it. Any other failure (the peer unreachable, busy) rejects as the send did, for the caller's
 * own recovery.
 */
export async function sendSplitting<T>(
  items: T[],
  send: (items: T[]) => Promise<void>,
  refuse: (item: T, reason: string) => unknown,
): Promise<void> {
  try {
    await send(items);
  } catch (err) {
    if (!isUnsendable(err) || items.length === 0) throw err;
    if (items.length === 1) {
      await refuse(items[0]!, (err as Error).message); // it may send the item another way
      return;
    }
    const half = Math.ceil(items.length / 2);
    await Promise.all([
      sendSplitting(items.slice(0, half), send, refuse),
      sendSplitting(items.slice(half), send, refuse),
    ]);
  }
}
