import { createHmac, randomUUID } from "node:crypto";
import { isTriadError } from "../../../src/core/errors.js";
import { canonicalJson } from "../../../src/core/messaging/canonical-json.js";
import { A2AClient } from "../../../src/core/messaging/client.js";
import type { RejectionEvent } from "../../../src/core/messaging/rejections.js";
import { type A2AMessage, MessageType } from "../../../src/core/messaging/types.js";

/** HMAC-SHA256 over JCS of the message without `signature`, computed here, not by the code under test. */
export function signatureOf(message: object, secret: string): string {
  const { signature: _drop, ...unsigned } = message as Record<string, unknown>;
  return createHmac("sha256", secret).update(canonicalJson(unsigned)).digest("hex");
}

type Overrides = Partial<Omit<A2AMessage, "metadata">> & { metadata?: Partial<A2AMessage["metadata"]> };

/** A message from `sender` to `recipient`, built and signed by hand (as a foreign peer would). */
export function handMade(secret: string, overrides: Overrides = {}): A2AMessage {
  const sender = overrides.sender ?? "peer";
  const message: A2AMessage = {
    type: overrides.type ?? MessageType.EVENT,
    sender,
    recipient: overrides.recipient ?? "me",
    payload: overrides.payload ?? { event_type: "ping", event_data: {} },
    metadata: {
      origin: sender,
      version: "v1",
      timestamp: new Date().toISOString(),
      request_id: randomUUID(),
      parent_request_id: null,
      sequence_number: 1,
      ...overrides.metadata,
    },
    signature: "",
  };
  message.signature = overrides.signature ?? signatureOf(message, secret);
  return message;
}

/** Resolves after the current macrotask queue drained (handlers started by receive() ran). */
export const tick = () => new Promise((resolve) => setImmediate(resolve));

/** The TriadError code `work` throws or rejects with ("no error" when it does not). */
export async function codeOf(work: () => unknown): Promise<string> {
  try {
    await work();
  } catch (err) {
    return isTriadError(err) ? err.code : `not a TriadError: ${String(err)}`;
  }
  return "no error";
}

const receivers: A2AClient[] = [];

/**
 * Agent "me" (no router) holding `secret`, with what it handled and what it refused (every
 * message type handled); closeReceivers() closes every one made since.
 */
export function receiver(secret: string, extra: Partial<ConstructorParameters<typeof A2AClient>[0]> = {}) {
  const events: RejectionEvent[] = [];
  const handled: A2AMessage[] = [];
  const client = new A2AClient({
    agentId: "me",
    tokenSecret: secret,
    router: null,
    onRejected: (e) => events.push(e),
    ...extra,
  });
  for (const type of Object.values(MessageType)) client.registerHandler(type, (m) => handled.push(m));
  receivers.push(client);
  return { client, events, handled };
}

export async function closeReceivers(): Promise<void> {
  await Promise.all(receivers.splice(0).map((c) => c.close()));
}
