import { TriadError } from "../../../core/errors.js";
import type { Logger } from "../../../core/logger.js";
import { sleep } from "./abortable.js";

/** Default of RemoteAgentOptions.reconnectWindowMs: how long an agent may be away mid-task. */
export const DEFAULT_RECONNECT_WINDOW_MS = 10_000;

/**
 * The agent went away under a call (connection refused: it is restarting; reset: it died under
 * the call). Such a call is tried again, within the reconnect window; any other failure (an A2A
 * error, a timeout, HTTP 401/403) is the attempt's, as before.
 */
export function isAgentAway(err: unknown): boolean {
  return (
    err instanceof TriadError &&
    (err.code === "ERR_REMOTE_AGENT_UNREACHABLE" || err.code === "ERR_REMOTE_AGENT_DISCONNECTED") &&
    err.details?.operation !== undefined
  );
}

/** Connection refused: the request never reached the agent, and can be sent again as it is. */
export function refusedOnly(err: TriadError): boolean {
  return err.code === "ERR_REMOTE_AGENT_UNREACHABLE";
}

/**
 * Runs `call` (which throws remoteCallError()s) and, while it fails because the agent is away
 * (isAgentAway), runs it again: 100 ms later, then twice as long each time up to 2 s, for at most
 * `windowMs` from the first failure. Then the last failure is thrown, as without the window.
 * `retryable(err)` narrows which away-failures are tried again (a SendMessage that may have
 * arrived is not). An abort of `signal` ends the wait with its reason.
 */
export async function reconnecting<T>(
  call: () => Promise<T>,
  o: {
    windowMs: number;
    signal: AbortSignal | undefined;
    log: Logger;
    what: Record<string, unknown>;
    retryable?: (err: TriadError) => boolean;
  },
): Promise<T> {
  let since: number | undefined;
  for (let waitMs = 100; ; waitMs = Math.min(2000, waitMs * 2)) {
    try {
      const result = await call();
      if (since !== undefined)
        o.log.info({ ...o.what, away_ms: Date.now() - since }, "the A2A agent is back; the task goes on");
      return result;
    } catch (err) {
      if (!isAgentAway(err) || (o.retryable && !o.retryable(err as TriadError))) throw err;
      since ??= Date.now();
      const left = since + o.windowMs - Date.now();
      if (left <= 0) throw err;
      if (waitMs === 100)
        o.log.warn(
          { ...o.what, err: (err as Error).message, window_ms: o.windowMs },
          "the A2A agent went away mid-task; trying again until it is back",
        );
      await sleep(Math.min(waitMs, left), o.signal);
    }
  }
}
