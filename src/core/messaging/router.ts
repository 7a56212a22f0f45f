import { TriadError } from "../errors.js";
import { deepFreeze, jsonCopy } from "../json.js";
import { checkKnownKeys, type KeysOf } from "../known-keys.js";
import { optionsObject, shownValue } from "../option-kinds.js";
import { backoffDelay } from "./backoff.js";
import { assertPlainPayload } from "./plain-json.js";
import type { RejectionReason } from "./rejections.js";
import type { A2AMessage } from "./types.js";

/** The answer of a receiver to one delivered message: the in-process twin of HTTP 202 / 4xx. */
export type Delivery =
  | { accepted: true; duplicate: boolean }
  | { accepted: false; reason: RejectionReason | "no_route"; detail: string };

/** What a router delivers to: an A2AClient, or anything that behaves like one. */
export interface RouterEndpoint {
  /** Verifies, handles and resolves once the handler finished (seed semantics). */
  handleMessage(message: unknown): Promise<boolean>;
  /** Verifies and starts the handler without waiting for it, like a 202 over HTTP. */
  receive(message: unknown, via: "router"): Delivery;
  /**
   * The same, for a message handed over as the exact text its signature covers (the canonical
   * JSON without `signature`): the receiver checks the signature over that text and parses it,
   * which is what the wire copy and the canonicalising would otherwise cost.
   */
  receiveSigned?(text: string, signature: string, via: "router"): Delivery;
  /**
   * Unsigned delivery (a router not `signed`): a message another agent of this process built,
   * admitted without a signature check. It is the receiver's own copy (jsonCopy: what its JSON
   * text would parse to), which shares nothing with the sender's — or, for a message its sender
   * handed over (see A2ARouter.deliver), the sender's own objects, which neither side changes.
   */
  receiveTrusted?(message: unknown, via: "router"): Delivery;
}

/** Every A2ARouter option and its type: a misspelt one (`signd`) was ignored. */
const ROUTER_KEYS: KeysOf<A2ARouterOptions> = {
  maxHeldPerAgent: "number",
  maxHeldAgents: "number",
  signed: "boolean",
  freezeHandedOver: "boolean",
};

export type A2ARouterOptions = {
  /** Messages held per unregistered agent; the oldest is dropped beyond that. Default 1,000. */
  maxHeldPerAgent?: number;
  /** Unregistered agents with held messages; the longest-held is dropped beyond that. Default 1,000. */
  maxHeldAgents?: number;
  /**
   * Whether the messages agents of this process build for each other are signed by the sender
   * and verified by the receiver on their way through the router. Default false: inside one
   * process a signature proves nothing (every agent there can read every key), so the router
   * hands each message over as a JSON copy, unsigned, which costs a fraction of the canonical
   * form and two HMACs. True: every delivery is signed and verified, as over HTTP. Messages to
   * HTTP peers are always signed; messages given to send() or routeMessage() are always verified.
   */
  signed?: boolean;
  /**
   * Deep-freezes every message handed over without a copy (A2AClient.sendEvent's `handOver`), so
   * that code changing such a message after it was sent, or one it received, throws instead of
   * reaching into the other agent; and refuses one that is not plain JSON (ERR_INVALID_MESSAGE),
   * which its sender does not check (it built it from values checked where they came in).
   * Default: the environment variable TRIAD_FREEZE_HANDED_OVER is "1" (the test suite sets it);
   * it costs two walks of every such message.
   */
  freezeHandedOver?: boolean;
};

/**
 * The in-process transport: agents registered with the same router reach each other without a
 * network. Each delivery is a copy made through JSON, exactly what the wire would carry, so a
 * handler never shares objects with its sender. Messages for an agent that is not registered
 * are held (bounded) for `getMessages`, which is how a test inspects what was sent.
 */
export class A2ARouter {
  private readonly agents = new Map<string, RouterEndpoint>();
  private readonly held = new Map<string, A2AMessage[]>();
  private readonly maxHeldPerAgent: number;
  private readonly maxHeldAgents: number;
  private droppedCount = 0;
  /** See A2ARouterOptions.signed. */
  readonly signed: boolean;
  private readonly freezeHandedOver: boolean;

  constructor(options: A2ARouterOptions = {}) {
    optionsObject("new A2ARouter()", options);
    checkKnownKeys("new A2ARouter()", options, ROUTER_KEYS);
    this.maxHeldPerAgent = options.maxHeldPerAgent ?? 1_000;
    this.maxHeldAgents = options.maxHeldAgents ?? 1_000;
    this.signed = options.signed ?? false;
    this.freezeHandedOver = options.freezeHandedOver ?? process.env.TRIAD_FREEZE_HANDED_OVER === "1";
  }

  /** Whether a message its sender builds for `agentId` goes unsigned (see A2ARouterOptions.signed). */
  trusts(agentId: string): boolean {
    return !this.signed && this.agents.get(agentId)?.receiveTrusted !== undefined;
  }

  /** Registers `client` as `agentId`, replacing whoever had that id. */
  registerAgent(agentId: string, client: RouterEndpoint): void {
    // A client of 5 was registered, and every message routed to it then threw inside the router.
    if (typeof agentId !== "string" || agentId.length === 0)
      throw new TriadError(
        "ERR_INVALID_ARGUMENT",
        `registerAgent: agentId must be a non-empty string (got ${shownValue(agentId)})`,
      );
    if (typeof client?.handleMessage !== "function" || typeof client.receive !== "function")
      throw new TriadError(
        "ERR_INVALID_ARGUMENT",
        `registerAgent: client must be an A2AClient (got ${shownValue(client)})`,
      );
    this.agents.set(agentId, client);
  }

  /** Removes `agentId` (only if it is still `client`, when given, so a newer holder of the id stays). */
  unregisterAgent(agentId: string, client?: RouterEndpoint): boolean {
    if (client !== undefined && this.agents.get(agentId) !== client) return false;
    return this.agents.delete(agentId);
  }

  hasAgent(agentId: string): boolean {
    return this.agents.has(agentId);
  }

  /**
   * Delivers to the recipient's handleMessage and resolves with its result (true: verified and
   * handled). A message for an agent that is not registered is held, and resolves false.
   */
  async routeMessage(message: A2AMessage): Promise<boolean> {
    const recipient = recipientOf(message);
    const client = recipient === null ? undefined : this.agents.get(recipient);
    if (client === undefined) {
      if (recipient !== null) this.hold(recipient, message);
      return false;
    }
    return client.handleMessage(wireCopy(message));
  }

  /**
   * The transport path of A2AClient.send(): accepted or refused by the recipient, handler not
   * awaited. `signedText` is the canonical text the message's signature covers, when the sender
   * has it at hand (it just signed it): the recipient then gets that text, not a copy of the object.
   * `unsigned`: the sending client built the message itself, unsigned, for a route this router
   * trusts(); the recipient gets a copy (what its JSON text would parse to) and checks no
   * signature. `handOver` as well: the sender gives the message up (it built every object in it
   * for this delivery, or no longer changes them) and the recipient gets the message itself,
   * which it must not change either; the copy is what a delivery costs most in one process.
   */
  deliver(message: A2AMessage, signedText?: string, unsigned = false, handOver = false): Delivery {
    const recipient = recipientOf(message);
    const client = recipient === null ? undefined : this.agents.get(recipient);
    if (client === undefined) {
      if (recipient !== null) this.hold(recipient, message);
      return { accepted: false, reason: "no_route", detail: `no agent ${String(recipient)} in this process` };
    }
    if (unsigned && !this.signed && client.receiveTrusted !== undefined) {
      // Built unsigned by an agent of this process for this route (see trusts()).
      if (!handOver) return client.receiveTrusted(jsonCopy(message), "router");
      return client.receiveTrusted(this.freezeHandedOver ? audited(message) : message, "router");
    }
    if (signedText !== undefined && client.receiveSigned !== undefined) {
      return client.receiveSigned(signedText, message.signature, "router");
    }
    return client.receive(wireCopy(message), "router");
  }

  /** Takes (and forgets) what is held for `agentId`, oldest first. */
  getMessages(agentId: string): A2AMessage[] {
    const messages = this.held.get(agentId) ?? [];
    this.held.delete(agentId);
    return messages;
  }

  /** Held messages dropped because a bound was reached. */
  get dropped(): number {
    return this.droppedCount;
  }

  private hold(agentId: string, message: A2AMessage): void {
    let queue = this.held.get(agentId);
    if (queue === undefined) {
      if (this.held.size >= this.maxHeldAgents) {
        const [oldestAgent, oldestQueue] = this.held.entries().next().value as [string, A2AMessage[]];
        this.held.delete(oldestAgent);
        this.droppedCount += oldestQueue.length;
      }
      queue = [];
      this.held.set(agentId, queue);
    }
    queue.push(wireCopy(message));
    if (queue.length > this.maxHeldPerAgent) {
      queue.shift();
      this.droppedCount += 1;
    }
  }
}

let shared: A2ARouter | undefined;

/** The process-wide router every A2AClient joins unless its config names another (or null). */
export function defaultRouter(): A2ARouter {
  shared ??= new A2ARouter();
  return shared;
}

/**
 * The in-process half of A2AClient.send(): resolves when the recipient accepted the message.
 * The router answers at once; only "busy" is worth waiting out (the receiver's handlers drain),
 * with backoff until `timeoutMs`. Rejects with ERR_A2A_NO_ROUTE or ERR_A2A_REJECTED.
 */
export async function deliverInProcess(
  router: A2ARouter | null,
  message: A2AMessage,
  timeoutMs: number,
  signedText?: string,
  unsigned = false,
  handOver = false,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    const delivery: Delivery = router
      ? router.deliver(message, signedText, unsigned, handOver)
      : { accepted: false, reason: "no_route", detail: "this client has no in-process router" };
    if (delivery.accepted) return;
    const left = deadline - performance.now();
    if (delivery.reason === "busy" && left > 0) {
      // The last try is at the deadline, not a whole backoff after it.
      await new Promise((resolve) => setTimeout(resolve, Math.min(backoffDelay(attempt), left)));
      continue;
    }
    const { recipient, metadata } = message;
    if (delivery.reason === "no_route") {
      throw new TriadError(
        "ERR_A2A_NO_ROUTE",
        `no route to ${recipient}: not a known HTTP peer (setPeer) and ${delivery.detail}`,
        { recipient },
      );
    }
    throw new TriadError(
      "ERR_A2A_REJECTED",
      `${recipient} refused ${metadata.request_id}: ${delivery.reason} (${delivery.detail})`,
      { reason: delivery.reason, detail: delivery.detail, requestId: metadata.request_id },
    );
  }
}

function recipientOf(message: unknown): string | null {
  try {
    const recipient = (message as { recipient?: unknown } | null)?.recipient;
    return typeof recipient === "string" ? recipient : null;
  } catch {
    return null;
  }
}

// What the wire would carry. Something JSON cannot copy is passed on as is, for the receiver to refuse.
function wireCopy(message: A2AMessage): A2AMessage {
  try {
    const text = JSON.stringify(message);
    return text === undefined ? message : (JSON.parse(text) as A2AMessage);
  } catch {
    return message;
  }
}

/** A handed-over message, checked as its sender checks an unsigned one, then frozen. */
function audited(message: A2AMessage): A2AMessage {
  assertPlainPayload(message.payload);
  return deepFreeze(message);
}
