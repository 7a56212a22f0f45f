import { TriadError } from "../../../core/errors.js";

/**
 * The codes of a call to a remote A2A agent that failed below A2A (the connection, HTTP): an
 * attempt that fails with one of them says which agent, which call and why, and is logged.
 */
export const REMOTE_CALL_CODES = new Set([
  /** Nothing answers at the agent's address (connection refused, host not found). */
  "ERR_REMOTE_AGENT_UNREACHABLE",
  /** The agent closed the connection before its answer was complete (it died, a proxy cut it). */
  "ERR_REMOTE_AGENT_DISCONNECTED",
  /** The connection or the answer took too long (the HTTP client's own timeouts). */
  "ERR_REMOTE_AGENT_TIMEOUT",
  /** HTTP 401/403: the bearer token (TRIAD_A2A_AGENT_TOKEN) is missing or refused. */
  "ERR_REMOTE_AGENT_UNAUTHORIZED",
  /** Anything else the agent or its transport answered instead of a result (HTTP 5xx, a JSON-RPC error). */
  "ERR_REMOTE_AGENT",
]);

/** An HTTP answer of the agent that no A2A client can read past (401/403): thrown by statusCheckingFetch. */
export class RemoteHttpStatusError extends Error {
  constructor(
    readonly status: number,
    readonly statusText: string,
  ) {
    super(`HTTP ${status}${statusText ? ` ${statusText}` : ""}`);
    this.name = "RemoteHttpStatusError";
  }
}

/**
 * `fetch`, except that a 401 or 403 answer is thrown as a RemoteHttpStatusError: the SDK's
 * transports turn such answers into "An unexpected error occurred." (streaming) or a message that
 * does not say why, and the status is all that matters then.
 */
export function statusCheckingFetch(base: typeof fetch): typeof fetch {
  return async (input, init) => {
    const response = await base(input, init);
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel().catch(() => {});
      throw new RemoteHttpStatusError(response.status, response.statusText);
    }
    return response;
  };
}

/** The OS / undici codes on the cause chain of a failed fetch (AggregateError's members too). */
function causeCodes(err: unknown): string[] {
  const codes: string[] = [];
  const seen = new Set<unknown>();
  const walk = (e: unknown, depth: number) => {
    if (e === null || typeof e !== "object" || seen.has(e) || depth > 6) return;
    seen.add(e);
    const { code, name, cause, errors } = e as {
      code?: unknown;
      name?: unknown;
      cause?: unknown;
      errors?: unknown;
    };
    if (typeof code === "string") codes.push(code);
    if (name === "TimeoutError") codes.push("TimeoutError");
    if (Array.isArray(errors)) for (const m of errors) walk(m, depth + 1);
    walk(cause, depth + 1);
  };
  walk(err, 0);
  return codes;
}

const UNREACHABLE: Record<string, string> = {
  ECONNREFUSED: "connection refused (ECONNREFUSED); is the agent running at that address?",
  ENOTFOUND: "host not found (ENOTFOUND)",
  EAI_AGAIN: "host name lookup failed (EAI_AGAIN)",
  EHOSTUNREACH: "host unreachable (EHOSTUNREACH)",
  ENETUNREACH: "network unreachable (ENETUNREACH)",
};
const DISCONNECTED: Record<string, string> = {
  ECONNRESET: "the connection was reset (ECONNRESET); did the agent stop?",
  EPIPE: "the connection was closed (EPIPE); did the agent stop?",
  UND_ERR_SOCKET: "the agent closed the connection before its answer was complete; did it stop?",
  UND_ERR_CLOSED: "the connection was closed before the answer was complete; did the agent stop?",
};
const TIMEOUT: Record<string, string> = {
  ETIMEDOUT: "timed out connecting (ETIMEDOUT)",
  UND_ERR_CONNECT_TIMEOUT: "timed out connecting",
  UND_ERR_HEADERS_TIMEOUT: "timed out waiting for the answer's headers",
  UND_ERR_BODY_TIMEOUT: "timed out waiting for the answer's body",
  TimeoutError: "timed out",
};

/** Why a call failed, in a few words, and the code that goes with it. */
export function callFailure(
  err: unknown,
  tokenSent: boolean,
): { code: string; cause: string; status?: number } {
  if (err instanceof RemoteHttpStatusError) {
    const hint = tokenSent
      ? "the bearer token sent (TRIAD_A2A_AGENT_TOKEN) was refused; check TRIAD_A2A_AGENT_TOKEN"
      : "no bearer token was sent; set TRIAD_A2A_AGENT_TOKEN";
    return {
      code: "ERR_REMOTE_AGENT_UNAUTHORIZED",
      cause: `HTTP ${err.status} ${err.status === 401 ? "unauthorized" : "forbidden"}: ${hint}`,
      status: err.status,
    };
  }
  for (const code of causeCodes(err)) {
    if (UNREACHABLE[code]) return { code: "ERR_REMOTE_AGENT_UNREACHABLE", cause: UNREACHABLE[code] };
    if (DISCONNECTED[code]) return { code: "ERR_REMOTE_AGENT_DISCONNECTED", cause: DISCONNECTED[code] };
    if (TIMEOUT[code]) return { code: "ERR_REMOTE_AGENT_TIMEOUT", cause: TIMEOUT[code] };
  }
  const e = err as { message?: unknown; name?: unknown };
  let said = typeof e?.message === "string" && e.message !== "" ? e.message : String(err);
  // The SDK's base error without a message of its own: its class says more.
  if (said === "An unexpected error occurred." && typeof e.name === "string") said = `${e.name}: ${said}`;
  if (said === "terminated" || said === "fetch failed") said = `${said} (no cause given)`;
  return { code: "ERR_REMOTE_AGENT", cause: said.length > 300 ? `${said.slice(0, 300)}…` : said };
}

/**
 * A failed call to the agent as the attempt's error: which agent (name and URL), which call (the
 * A2A method, and the remote task when known) and why. The token is never part of it.
 */
export function remoteCallError(
  err: unknown,
  where: {
    agent: string;
    url: string;
    operation: string;
    remoteTask?: string | undefined;
    tokenSent: boolean;
  },
): TriadError {
  const { code, cause, status } = callFailure(err, where.tokenSent);
  const who = where.agent
    ? `the A2A agent "${where.agent}" at ${where.url}`
    : `the A2A agent at ${where.url}`;
  const call = where.remoteTask ? `${where.operation} (remote task ${where.remoteTask})` : where.operation;
  const error = new TriadError(code, `${who}: ${call} failed: ${cause}`, {
    agent_url: where.url,
    operation: where.operation,
    ...(where.remoteTask ? { remote_task: where.remoteTask } : {}),
    ...(status !== undefined ? { http_status: status } : {}),
    // A refused token is refused again: the task fails without its retries (fix the token, resubmit).
    ...(code === "ERR_REMOTE_AGENT_UNAUTHORIZED" ? { retryable: false } : {}),
  });
  (error as { cause?: unknown }).cause = err;
  return error;
}

/** A failed call to a remote agent (remoteCallError), as opposed to the remote task's own failure. */
export function isRemoteCallError(err: unknown): err is TriadError {
  return err instanceof TriadError && REMOTE_CALL_CODES.has(err.code) && err.details?.operation !== undefined;
}

/**
 * Refuses a bearer token no HTTP header can carry (a newline, a space, a character outside
 * ASCII: a file read with its line end, say), naming the character, never the token. Sent, every
 * call failed in fetch ("invalid header value"), and the card was read again for ever.
 */
export function checkBearerToken(token: string, url: string): void {
  const bad = [...token].find((c) => !/[\x21-\x7e]/.test(c));
  if (bad === undefined) return;
  const at = `U+${bad.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
  const what =
    bad === " "
      ? "a space"
      : /\s/.test(bad)
        ? `a line end or other whitespace (${at})`
        : `the character ${at}`;
  throw new TriadError(
    "ERR_INVALID_ARGUMENT",
    `the bearer token for the A2A agent at ${url} (TRIAD_A2A_AGENT_TOKEN, or the handler's token) holds ${what}, which an HTTP header cannot carry: set it to the token alone`,
  );
}
