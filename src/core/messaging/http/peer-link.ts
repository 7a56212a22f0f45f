import type { Agent as HttpAgent } from "node:http";
import type { Agent as HttpsAgent } from "node:https";
import { TriadError } from "../../errors.js";
import { backoffDelay } from "../backoff.js";
import type { HttpStats } from "../rejections.js";
import type { A2AMessage } from "../types.js";
import { postJson } from "./post.js";
import { readReceipt } from "./receipts.js";

type Outgoing = {
  requestId: string;
  recipient: string;
  /** Serialised when queued: what was signed is what goes out, whatever the caller does next. */
  json: string;
  bytes: number;
  /** performance.now() after which the message is given up. */
  deadline: number;
  resolve: () => void;
  reject: (err: Error) => void;
};

export type PeerLinkOptions = {
  endpoint: URL;
  agent: HttpAgent | HttpsAgent;
  maxBatchMessages: number;
  maxBatchBytes: number;
  maxQueued: number;
  maxInFlight: number;
  requestTimeoutMs: number;
  stats: HttpStats;
};

// Smallest batch budget 413 replies may shrink it to (one message always goes alone anyway).
const MIN_BATCH_BYTES = 16 * 1024;

/**
 * The send queue towards one peer endpoint. Messages queued in the same tick leave together as
 * one POST (an array), up to `maxInFlight` POSTs at a time. A POST that meets a network failure
 * or a 5xx goes back to the front of the queue and the whole link waits out a backoff (one
 * timer, not one per message); messages keep their request ids, so a receiver that did take
 * them the first time answers "duplicate" and handles them once. Each message is given up at
 * its own deadline.
 */
export class PeerLink {
  // FIFO as an array and a head index: taking a batch off the front must not move the rest.
  private queue: Outgoing[] = [];
  private head = 0;
  /** No queued message is due before this (performance.now()); scanning for overdue ones waits till then. */
  private nextDeadline = Number.POSITIVE_INFINITY;
  private inFlight = 0;
  private flushScheduled = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private failures = 0;
  private lastError = "";
  private batchBytes: number;
  private batchMessages: number;
  private closed = false;

  constructor(private readonly options: PeerLinkOptions) {
    this.batchBytes = options.maxBatchBytes;
    this.batchMessages = options.maxBatchMessages;
  }

  get queued(): number {
    return this.queue.length - this.head;
  }

  get idle(): boolean {
    return this.queued === 0 && this.inFlight === 0;
  }

  /** Resolves when the peer accepted the message (202), rejects with a TriadError otherwise. */
  send(message: A2AMessage, timeoutMs: number): Promise<void> {
    const { maxQueued, maxBatchBytes, endpoint } = this.options;
    if (this.closed) return Promise.reject(closedError());
    const json = JSON.stringify(message);
    const bytes = Buffer.byteLength(json);
    if (bytes + 2 > maxBatchBytes) {
      return Promise.reject(
        new TriadError(
          "ERR_A2A_TOO_LARGE",
          `message of ${bytes} bytes is over the body limit of ${maxBatchBytes}`,
        ),
      );
    }
    if (this.queued >= maxQueued) {
      return Promise.reject(
        new TriadError("ERR_A2A_QUEUE_FULL", `${maxQueued} messages already wait for ${endpoint.origin}`),
      );
    }
    return new Promise((resolve, reject) => {
      const { request_id: requestId } = message.metadata;
      const deadline = performance.now() + timeoutMs;
      this.queue.push({ requestId, recipient: message.recipient, json, bytes, deadline, resolve, reject });
      this.options.stats.queued += 1;
      if (deadline < this.nextDeadline) this.nextDeadline = deadline;
      this.schedule();
    });
  }

  /** Refuses queued messages; POSTs already on the wire still report their outcome. */
  close(): void {
    this.closed = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    for (const item of this.dequeue(this.queued)) item.reject(closedError());
  }

  private schedule(): void {
    if (this.flushScheduled || this.retryTimer !== null || this.closed) return;
    this.flushScheduled = true;
    // setImmediate, not a microtask: everything sent during this turn of the event loop,
    // across awaits that already resolved, joins one batch.
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.closed) return;
    this.giveUpOverdue();
    while (this.inFlight < this.options.maxInFlight && this.queued > 0 && this.retryTimer === null) {
      void this.post(this.takeBatch());
    }
  }

  private takeBatch(): Outgoing[] {
    let count = 0;
    let bytes = 2;
    for (let i = this.head; i < this.queue.length; i++) {
      const size = (this.queue[i] as Outgoing).bytes;
      if (count === this.batchMessages || (count > 0 && bytes + size + 1 > this.batchBytes)) break;
      count += 1;
      bytes += size + 1;
    }
    return this.dequeue(count);
  }

  private async post(batch: Outgoing[]): Promise<void> {
    const { endpoint, agent, requestTimeoutMs, stats } = this.options;
    this.inFlight += 1;
    stats.posts += 1;
    stats.messagesPosted += batch.length;
    const body = batch.length === 1 ? (batch[0] as Outgoing).json : `[${batch.map((o) => o.json).join(",")}]`;
    const result = await postJson(endpoint, body, agent, requestTimeoutMs);
    this.inFlight -= 1;
    if (result.kind === "network") {
      this.retryLater(batch, result.error.message);
    } else if (result.status === 413 && batch.length > 1) {
      // The peer takes less than we do: halve the batches (down to one message each) and resend.
      if (this.batchBytes > MIN_BATCH_BYTES)
        this.batchBytes = Math.max(MIN_BATCH_BYTES, this.batchBytes >> 1);
      else this.batchMessages = 1;
      this.requeue(batch);
    } else if (result.status === 408 || result.status === 429 || result.status >= 500) {
      this.retryLater(batch, `HTTP ${result.status}`);
    } else {
      this.failures = 0;
      this.settle(batch, result.status, result.body);
    }
    this.schedule();
  }

  /** 2xx: everything not listed as refused was accepted. Other statuses: refused, per item if the receipt says. */
  private settle(batch: Outgoing[], status: number, body: string): void {
    const read = readReceipt(body);
    const refused = new Map((read?.rejected ?? []).map((r) => [r.index, r]));
    const whole = read?.error ?? {
      reason: `http_${status}`,
      detail: `HTTP ${status} from ${this.options.endpoint.href}`,
    };
    const ok = status >= 200 && status < 300;
    batch.forEach((item, index) => {
      const refusal = refused.get(index) ?? (ok ? undefined : whole);
      if (refusal === undefined) {
        item.resolve();
        return;
      }
      item.reject(
        new TriadError(
          "ERR_A2A_REJECTED",
          `${item.recipient} refused message ${item.requestId}: ${refusal.reason} (${refusal.detail})`,
          {
            reason: refusal.reason,
            detail: refusal.detail,
            status,
            requestId: item.requestId,
          },
        ),
      );
    });
  }

  private retryLater(batch: Outgoing[], error: string): void {
    this.options.stats.retries += 1;
    this.failures += 1;
    this.lastError = error;
    this.requeue(batch);
    if (this.retryTimer === null && !this.closed) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        this.flush();
      }, backoffDelay(this.failures));
    }
  }

  private requeue(batch: Outgoing[]): void {
    if (this.closed) {
      for (const item of batch) item.reject(closedError());
      return;
    }
    // Failures are rare, so rebuilding the queue here is fine; the hot path never does.
    this.queue = [...batch, ...this.queue.slice(this.head)];
    this.head = 0;
    this.options.stats.queued += batch.length;
    for (const item of batch) if (item.deadline < this.nextDeadline) this.nextDeadline = item.deadline;
    this.giveUpOverdue();
  }

  private giveUpOverdue(): void {
    const now = performance.now();
    if (now < this.nextDeadline) return;
    const keep: Outgoing[] = [];
    this.nextDeadline = Number.POSITIVE_INFINITY;
    for (let i = this.head; i < this.queue.length; i++) {
      const item = this.queue[i] as Outgoing;
      if (item.deadline > now) {
        keep.push(item);
        if (item.deadline < this.nextDeadline) this.nextDeadline = item.deadline;
        continue;
      }
      this.options.stats.queued -= 1;
      this.options.stats.undelivered += 1;
      item.reject(
        new TriadError(
          "ERR_A2A_UNREACHABLE",
          `could not deliver ${item.requestId} to ${item.recipient} at ${this.options.endpoint.href}: ${this.lastError || "timed out in the send queue"}`,
          { requestId: item.requestId, endpoint: this.options.endpoint.href, lastError: this.lastError },
        ),
      );
    }
    this.queue = keep;
    this.head = 0;
  }

  private dequeue(count: number): Outgoing[] {
    const taken = this.queue.slice(this.head, this.head + count);
    this.head += taken.length;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.options.stats.queued -= taken.length;
    return taken;
  }
}

function closedError(): TriadError {
  return new TriadError("ERR_A2A_CLOSED", "the A2A client was closed before the message was delivered");
}
