/**
 * Every error Triad raises for bad input or an illegal state change is a TriadError with a
 * stable `code`, so callers can branch on the code and users read a message that says what
 * was wrong and where.
 */
export class TriadError extends Error {
  readonly code: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = "TriadError";
    this.code = code;
    this.details = details;
  }
}

export function isTriadError(err: unknown, code?: string): err is TriadError {
  return err instanceof TriadError && (code === undefined || err.code === code);
}

/**
 * Codes of a store that cannot answer now — down, failing over, too slow — as opposed to a
 * request that is wrong: the same request may succeed if sent again a little later.
 */
const STORE_UNAVAILABLE_CODES = new Set([
  "ERR_STORE_UNAVAILABLE",
  "ERR_STORE_TIMEOUT",
  "ERR_NOT_CONNECTED",
  // Fewer replicas than RedisConfig.waitReplicas acknowledged a submit in time.
  "ERR_NOT_REPLICATED",
]);

/** Seconds a client is told to wait (Retry-After) before it sends again to a store that is unavailable. */
export const STORE_RETRY_AFTER_S = 1;

/** The store could not answer (see STORE_UNAVAILABLE_CODES): HTTP 503 with Retry-After. */
export function isStoreUnavailable(err: unknown): err is TriadError {
  return err instanceof TriadError && STORE_UNAVAILABLE_CODES.has(err.code);
}

/** A TriadError that says the store is unavailable, answered 503 with Retry-After at every HTTP edge. */
export function storeUnavailable(
  code: "ERR_STORE_UNAVAILABLE" | "ERR_STORE_TIMEOUT" | "ERR_NOT_CONNECTED" | "ERR_NOT_REPLICATED",
  message: string,
): TriadError {
  return new TriadError(code, message, { status: 503, retryAfterS: STORE_RETRY_AFTER_S });
}

/** The Retry-After (seconds) an error asks of the client, if it asks one. */
export function retryAfterOf(err: unknown): number | undefined {
  const after = err instanceof TriadError ? err.details?.retryAfterS : undefined;
  return typeof after === "number" ? after : undefined;
}
