import { AsyncLocalStorage } from "node:async_hooks";
import { A2AError } from "@a2a-js/sdk/errors";
import { STORE_RETRY_AFTER_S, type TriadError } from "../../core/errors.js";

/**
 * The JSON-RPC error of a SendMessage that Triad could not record because its store was
 * unavailable (a Redis down or failing over): code -32603 with reason UNAVAILABLE and
 * `retry_after_s` in its ErrorInfo, the REST API's 503 + Retry-After in A2A terms.
 */
export class StoreUnavailableError extends A2AError {
  override reason = "UNAVAILABLE";

  constructor(cause: TriadError) {
    super({
      message: `unavailable, retry: ${cause.message}`,
      metadata: { code: cause.code, retry_after_s: String(STORE_RETRY_AFTER_S) },
    });
  }
}

/**
 * Carries, from the executor back to the request handler of the same SendMessage, the store
 * error that kept its task from being recorded (the SDK would answer it as a failed task).
 */
export const submitRefusal = new AsyncLocalStorage<{ err?: TriadError }>();
