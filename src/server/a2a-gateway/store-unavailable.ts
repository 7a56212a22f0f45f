import { A2AError, RequestMalformedError } from "@a2a-js/sdk/errors";
import { isStoreUnavailable, STORE_RETRY_AFTER_S, type TriadError } from "../../core/errors.js";
import { NOT_WAITING_FOR_INPUT, notWaitingError } from "./input-message.js";

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
 * The request's error for a refusal the executor noted: a store that could not answer is
 * StoreUnavailableError; an input refused (ERR_INPUT_TOO_LARGE: the task, given it, could no
 * longer be sent to a distributor, and still waits) is the request's own fault, -32602; an answer
 * that came second (ERR_NOT_WAITING_FOR_INPUT) is refused as one sent to a task not waiting.
 */
export function refusalError(refused: TriadError): A2AError {
  const { code, message } = refused;
  if (isStoreUnavailable(refused)) return new StoreUnavailableError(refused);
  if (code === NOT_WAITING_FOR_INPUT) return notWaitingError(refused);
  return new RequestMalformedError(`${code}: ${message}`);
}

/** Refusals kept at most (a stream dropped before its first event leaves its refusal behind). */
const MAX_KEPT = 1000;

/**
 * Carries, from the executor back to the request handler of the same SendMessage (by its
 * message's key, message-keys.ts: sender, contextId and messageId), the store error that kept its task from being recorded: the SDK would answer
 * it as a task that failed, the handler answers StoreUnavailableError instead.
 */
export class SubmitRefusals {
  private readonly byMessage = new Map<string, TriadError>();

  note(key: string | undefined, err: TriadError): void {
    if (key === undefined) return;
    this.byMessage.set(key, err);
    if (this.byMessage.size > MAX_KEPT) this.byMessage.delete(this.byMessage.keys().next().value!);
  }

  /** The refusal of this message, if any, forgotten once taken. */
  take(key: string | undefined): TriadError | undefined {
    if (key === undefined) return undefined;
    const err = this.byMessage.get(key);
    this.byMessage.delete(key);
    return err;
  }
}

export const submitRefusals = new SubmitRefusals();
