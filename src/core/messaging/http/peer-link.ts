import type { Agent as HttpAgent } from "node:http";
import type { Agent as HttpsAgent } from "node:https";
import { TriadError } from "../../errors.js";
import { backoffDelay } from "../backoff.js";
import type { HttpStats } from "../rejections.js";
import type { A2AMessage } from "../types.js";
import { postJson } from "./post.js";
import { type ReadReceipt, readReceipt } from "./receipts.js";
import { openStream, type StreamChannel, type StreamReceipt } from "./stream-channel.js";

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
  /** Send over one message stream (GET /a2a upgraded) rather than a POST per batch, where the peer takes it. */
  streams: boolean;
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
 *
 * With `streams`, the link first asks the peer for a message stream (stream-channel.ts): one
 * upgraded connection on which each flush writes its messages as lines and the peer answers with
 * receipts in order — no HTTP request per batch, which costs both processes more than the
 * messages do. Up to `maxInFlight × maxBatchMessages` messages may be unanswered at once. A
 * stream that breaks sends what it had unanswered again, like a failed POST; a peer that answers
 * the upgrade with anything but 101 (or 408/429/5xx, retried) is sent POSTs from then on.
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
  private peerBytes = Number.POSITIVE_INFINITY;
  private batchMessages: number;
  private closed = false;
  /** Whether this link sends over a stream: until the peer is found not to take them. */
  private streaming: boolean;
  private channel: StreamChannel | null = null;
  /** The payload codecs the peer announced on its last stream (none until one opened). */
  private codecs: ReadonlySet<string> = new Set();
  private opening = false;
  /** Written on the stream and not answered yet, in the order written. */
  private unanswered: Outgoing[] = [];

  constructor(private readonly options: PeerLinkOptions) {
    this.batchBytes = options.maxBatchBytes;
    this.batchMessages = options.maxBatchMessages;
    this.streaming = options.streams;
  }

  get queued(): number {
    return this.queue.length - this.head;
  }

  get idle(): boolean {
    return this.queued === 0 && this.inFlight === 0 && this.unanswered.length === 0;
  }

  /**
   * Resolves when the peer accepted the message (202), rejects with a TriadError otherwise.
   * `wire`: the message's JSON as the sender wrote it already (see signed-line.ts).
   */
  send(message: A2AMessage, timeoutMs: number, wire?: string): Promise<void> {
    const { maxQueued, maxBatchBytes, endpoint } = this.options;
    if (this.closed) return Promise.reject(closedError());
    const json = wire ?? JSON.stringify(message);
    const bytes = Buffer.byteLength(json);
    // Alone it goes as it is (a POST body, or a stream line): exactly the limit fits.
    if (bytes > maxBatchBytes) {
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

  /** Whether the peer announced, on its last message stream, that it reads payload codec `name`. */
  decodes(name: string): boolean {
    return this.codecs.has(name);
  }

  /**
   * Refuses queued messages; POSTs already on the wire still report their outcome. The stream
   * closes: what it had unanswered is refused too (the peer may have taken it).
   */
  close(): void {
    this.closed = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    for (const item of this.dequeue(this.queued)) item.reject(closedError());
    this.channel?.close();
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
    if (this.streaming) {
      this.flushStream();
      return;
    }
    while (this.inFlight < this.options.maxInFlight && this.queued > 0 && this.retryTimer === null) {
      void this.post(this.takeBatch());
    }
  }

  /**
   * The body limit the peer said it takes (HttpTransport.setPeerLimit), when smaller than ours:
   * batches are held to it at once, not first refused (413) and halved.
   */
  limitTo(peerBytes: number | undefined): void {
    this.peerBytes = peerBytes ?? Number.POSITIVE_INFINITY;
  }

  private takeBatch(): Outgoing[] {
    const budget = Math.min(this.batchBytes, this.peerBytes);
    let count = 0;
    // A batch of k messages is `[m1,…,mk]`: the brackets and k-1 commas, k+1 bytes besides them.
    let bytes = 1;
    for (let i = this.head; i < this.queue.length; i++) {
      const size = (this.queue[i] as Outgoing).bytes;
      if (count === this.batchMessages || (count > 0 && bytes + size + 1 > budget)) break;
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
    } else if (retryable(result.status)) {
      this.retryLater(batch, `HTTP ${result.status}`);
    } else {
      this.failures = 0;
      this.settle(batch, result.status, readReceipt(result.body));
    }
    this.schedule();
  }

  private flushStream(): void {
    if (this.retryTimer !== null || this.queued === 0) return;
    const channel = this.channel;
    if (channel === null) {
      if (!this.opening) void this.openChannel();
      return;
    }
    const room = this.options.maxInFlight * this.batchMessages - this.unanswered.length;
    if (room <= 0) return; // written when receipts come
    const batch = this.dequeue(Math.min(room, this.queued));
    const { stats } = this.options;
    stats.streamWrites += 1;
    stats.messagesStreamed += batch.length;
    // Pieces of at most a batch's bytes (no string grows past the body limit), in one syscall.
    const pieces: string[] = [];
    let text = "";
    let bytes = 0;
    for (const item of batch) {
      this.unanswered.push(item);
      if (bytes > 0 && bytes + item.bytes + 1 > this.batchBytes) {
        pieces.push(text);
        text = "";
        bytes = 0;
      }
      text += `${item.json}\n`;
      bytes += item.bytes + 1;
    }
    pieces.push(text);
    channel.write(pieces);
  }

  private async openChannel(): Promise<void> {
    const { endpoint, agent, requestTimeoutMs } = this.options;
    this.opening = true;
    const opened = await openStream(endpoint, agent, requestTimeoutMs);
    this.opening = false;
    if (opened.kind === "open") {
      const channel = opened.channel;
      if (this.closed) {
        channel.close();
        return;
      }
      this.options.stats.streamsOpened += 1;
      this.channel = channel;
      this.codecs = channel.codecs;
      channel.idle();
      channel.onReceipt((receipt) => this.receipted(channel, receipt));
      channel.onClose((reason) => this.lost(channel, reason));
    } else if (opened.kind === "network") {
      this.retryLater([], opened.error.message);
    } else if (retryable(opened.status)) {
      this.retryLater([], `HTTP ${opened.status} to the stream upgrade`);
    } else {
      this.streaming = false; // the peer does not take streams: POSTs from now on
      this.codecs = new Set(); // nor, then, what a stream announced
    }
    this.schedule();
  }

  /** Settles the oldest unanswered messages as a POST of them answered `receipt.status` would. */
  private receipted(channel: StreamChannel, receipt: StreamReceipt): void {
    if (channel !== this.channel) return;
    const batch = this.unanswered.splice(0, receipt.count);
    const { status } = receipt;
    if (retryable(status)) {
      this.retryLater(batch, `HTTP ${status} (${receipt.error?.reason ?? "stream"})`);
    } else {
      this.failures = 0;
      this.settle(batch, status, receipt);
    }
    if (this.unanswered.length === 0) channel.idle();
    this.schedule();
  }

  /** The stream is gone: what it had unanswered is sent again (the peer answers "duplicate" for what it had). */
  private lost(channel: StreamChannel, reason: string): void {
    if (channel !== this.channel) return;
    this.channel = null;
    const batch = this.unanswered;
    this.unanswered = [];
    if (batch.length > 0) this.retryLater(batch, reason);
    this.schedule();
  }

  /** 2xx: everything not listed as refused was accepted. Other statuses: refused, per item if the receipt says. */
  private settle(batch: Outgoing[], status: number, read: ReadReceipt | null): void {
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

/** A status the sender waits out and sends again under the same ids (timeout, throttled, busy, 5xx). */
function retryable(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

function closedError(): TriadError {
  return new TriadError("ERR_A2A_CLOSED", "the A2A client was closed before the message was delivered");
}
