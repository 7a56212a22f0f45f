import type { FailureBudget } from "./http/failure-budget.js";
import type { ItemResult } from "./http/receipts.js";
import type { Admission, MessageGate } from "./message-gate.js";
import type { PendingRequests } from "./pending-requests.js";
import {
  emptyRejectionCounts,
  type HandlerErrorEvent,
  type RejectionEvent,
  type RejectionReason,
} from "./rejections.js";
import type { Delivery } from "./router.js";
import { type A2AMessage, MessageType } from "./types.js";

export type MessageHandler = (message: A2AMessage) => unknown;

type Via = RejectionEvent["via"];

/** Refusals that cost a peer its budget of failed messages (see FailureBudget): ours to pay for, not its. */
const CHARGED: ReadonlySet<RejectionReason> = new Set([
  "malformed",
  "bad_signature",
  "stale",
  "misdirected",
  "too_large",
]);

/** Whether a refusal is held against the peer's budget of failed messages. */
export function isCharged(reason: RejectionReason): boolean {
  return CHARGED.has(reason);
}

/**
 * The receiving side of one agent, whatever the transport: admits messages through the gate,
 * counts every outcome, tells the listeners about refusals and handler failures, and runs
 * handlers (a RESPONSE that answers a pending request goes to its waiter instead).
 */
export class Inbox {
  readonly handlers = new Map<MessageType, MessageHandler>();
  readonly rejectionListeners = new Set<(event: RejectionEvent) => void>();
  readonly handlerErrorListeners = new Set<(event: HandlerErrorEvent) => void>();
  readonly counts = {
    accepted: 0,
    duplicates: 0,
    unhandled: 0,
    handlerErrors: 0,
    rejected: emptyRejectionCounts(),
    verifiedByKey: {} as Record<string, number>,
  };
  private running = 0;

  constructor(
    private readonly gate: MessageGate,
    private readonly pending: PendingRequests,
    private readonly maxConcurrentHandlers: number,
  ) {}

  /** Seed semantics: true when the message was accepted and a handler (or a waiter) took it. */
  async handleMessage(value: unknown): Promise<boolean> {
    const admission = this.admit(value, "direct");
    return admission.kind === "accept" ? this.dispatch(admission.message) : false;
  }

  /** In-process delivery: the verdict now, the handler started but not awaited. */
  receive(value: unknown, via: Via): Delivery {
    if (this.busy()) return this.refuseBusy(via);
    return this.started(this.admit(value, via));
  }

  /** receive() for a message handed over as the text its signature covers (MessageGate.admitSigned). */
  receiveSigned(text: string, signature: string, via: Via): Delivery {
    if (this.busy()) return this.refuseBusy(via);
    return this.started(this.record(this.gate.admitSigned(text, signature), via));
  }

  /** receive() for a message built unsigned in this process (MessageGate.admitTrusted). */
  receiveTrusted(message: unknown, via: Via): Delivery {
    if (this.busy()) return this.refuseBusy(via);
    return this.started(this.record(this.gate.admitTrusted(message), via));
  }

  /**
   * One HTTP body: a verdict per message, in order, handlers started before the reply goes out.
   * Each message refused costs the peer a token of `budget`; once it has none, the rest of the
   * body is refused as throttled without being checked.
   */
  acceptBatch(values: unknown[], remoteAddress: string, budget?: FailureBudget): ItemResult[] | "busy" {
    if (this.busy()) {
      this.refuseBusy("http", remoteAddress);
      return "busy";
    }
    let spent = false;
    return values.map((value, index): ItemResult => {
      if (spent) {
        const detail = `too many messages from ${remoteAddress} failed admission`;
        const quiet = budget !== undefined && !budget.firstRefusal(remoteAddress);
        const event = { sender: null, requestId: null, via: "http" as const, remoteAddress };
        this.refuse("throttled", detail, event, quiet);
        return { index, outcome: "rejected", reason: "throttled", detail, sender: null, requestId: null };
      }
      const admission = this.admit(value, "http", remoteAddress);
      if (admission.kind === "reject") {
        const { reason, detail, sender, requestId } = admission;
        if (budget !== undefined && CHARGED.has(reason) && !budget.charge(remoteAddress)) spent = true;
        return { index, outcome: "rejected", reason, detail, sender, requestId };
      }
      const { message } = admission;
      if (admission.kind === "accept") void this.dispatch(message);
      return {
        index,
        outcome: admission.kind === "accept" ? "accepted" : "duplicate",
        requestId: message.metadata.request_id,
        sender: message.sender,
      };
    });
  }

  /**
   * Counts a refusal and tells the listeners (unless `quiet`: one of a flood already told of);
   * a listener that throws does not stop the others.
   */
  refuse(
    reason: RejectionReason,
    detail: string,
    event: Omit<RejectionEvent, "reason" | "detail">,
    quiet = false,
  ): void {
    this.counts.rejected[reason] += 1;
    if (quiet) return;
    const full: RejectionEvent = { reason, detail, ...event };
    for (const listener of this.rejectionListeners) {
      try {
        listener(full);
      } catch {
        // A broken log line must not break the receiving side.
      }
    }
  }

  private admit(value: unknown, via: Via, remoteAddress?: string): Admission {
    return this.record(this.gate.admit(value), via, remoteAddress);
  }

  /** Counts an admission, and reports a refusal to the listeners. */
  private record(admission: Admission, via: Via, remoteAddress?: string): Admission {
    if (admission.kind === "accept") {
      this.counts.accepted += 1;
      // keyId "": delivered unsigned inside this process, verified by no key.
      if (admission.keyId !== "")
        this.counts.verifiedByKey[admission.keyId] = (this.counts.verifiedByKey[admission.keyId] ?? 0) + 1;
    } else if (admission.kind === "duplicate") {
      this.counts.duplicates += 1;
    } else {
      const { reason, detail, sender, requestId } = admission;
      this.refuse(reason, detail, {
        sender,
        requestId,
        via,
        ...(remoteAddress === undefined ? {} : { remoteAddress }),
      });
    }
    return admission;
  }

  /** Starts the handler of an admitted message; the verdict for the sender. */
  private started(admission: Admission): Delivery {
    if (admission.kind === "reject")
      return { accepted: false, reason: admission.reason, detail: admission.detail };
    if (admission.kind === "accept") void this.dispatch(admission.message);
    return { accepted: true, duplicate: admission.kind === "duplicate" };
  }

  private busy(): boolean {
    return this.running >= this.maxConcurrentHandlers;
  }

  private refuseBusy(via: Via, remoteAddress?: string): Delivery {
    const detail = `${this.running} handlers in flight (limit ${this.maxConcurrentHandlers})`;
    this.refuse("busy", detail, {
      sender: null,
      requestId: null,
      via,
      ...(remoteAddress === undefined ? {} : { remoteAddress }),
    });
    return { accepted: false, reason: "busy", detail };
  }

  /** Runs what takes an accepted message; never throws. Handlers start synchronously. */
  private async dispatch(message: A2AMessage): Promise<boolean> {
    this.running += 1;
    try {
      if (message.type === MessageType.RESPONSE && this.pending.settle(message)) return true;
      const handler = this.handlers.get(message.type);
      if (handler === undefined) {
        this.counts.unhandled += 1;
        return false;
      }
      await handler(message);
      return true;
    } catch (error) {
      this.counts.handlerErrors += 1;
      const event = {
        error,
        messageType: message.type,
        sender: message.sender,
        requestId: message.metadata.request_id,
      };
      for (const listener of this.handlerErrorListeners) {
        try {
          listener(event);
        } catch {
          // As above: reporting must not fail the agent.
        }
      }
      return false;
    } finally {
      this.running -= 1;
    }
  }
}
