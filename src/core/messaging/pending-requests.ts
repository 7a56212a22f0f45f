import { TriadError } from "../errors.js";
import type { A2AMessage } from "./types.js";

type Waiter = {
  /** Only the agent the request went to may answer it. */
  from: string;
  timer: NodeJS.Timeout;
  resolve: (response: A2AMessage | null) => void;
  reject: (err: Error) => void;
};

/**
 * Requests waiting for their RESPONSE, paired by `parent_request_id`. Every entry leaves on its
 * response, its timeout, its delivery failure or close(), whichever comes first, so nothing is
 * left behind; and there are at most `capacity` at once.
 */
export class PendingRequests {
  private readonly waiters = new Map<string, Waiter>();

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.waiters.size;
  }

  /** Starts waiting for the response to `requestId` from `from`; null after `timeoutMs`. */
  open(requestId: string, from: string, timeoutMs: number): Promise<A2AMessage | null> {
    if (this.waiters.size >= this.capacity) {
      throw new TriadError(
        "ERR_A2A_TOO_MANY_PENDING",
        `${this.capacity} requests are already waiting for a response; await some before sending more`,
      );
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.finish(requestId)?.resolve(null), timeoutMs);
      this.waiters.set(requestId, { from, timer, resolve, reject });
    });
  }

  /** Hands a RESPONSE to the request it answers; false when nobody is waiting for it. */
  settle(response: A2AMessage): boolean {
    const parent = response.metadata.parent_request_id;
    if (parent === null) return false;
    const waiter = this.waiters.get(parent);
    if (waiter === undefined || waiter.from !== response.sender) return false;
    this.finish(parent)?.resolve(response);
    return true;
  }

  /** The request could not be delivered: its caller gets the error now instead of a timeout. */
  fail(requestId: string, err: Error): void {
    this.finish(requestId)?.reject(err);
  }

  /** Everyone still waiting gets null (the client is closing; no response will come). */
  closeAll(): void {
    for (const requestId of [...this.waiters.keys()]) this.finish(requestId)?.resolve(null);
  }

  private finish(requestId: string): Waiter | undefined {
    const waiter = this.waiters.get(requestId);
    if (waiter === undefined) return undefined;
    clearTimeout(waiter.timer);
    this.waiters.delete(requestId);
    return waiter;
  }
}
