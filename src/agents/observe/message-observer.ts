import type { A2AMessage } from "../../core/messaging/index.js";
import type { AgentPayload } from "../protocol.js";

/**
 * Sees the payloads an agent sends and receives: how tracing and the coordinator's task
 * history follow tasks without the agents' engines knowing. An observer must not change what a
 * payload means; it may add the optional trace fields of the protocol beside the tasks.
 */
export type MessageObserver = {
  /** Before sending: the payload to send instead (the same one, or it with trace context added). */
  sending?(recipient: string, payload: AgentPayload): AgentPayload;
  /** After the receiver accepted it. */
  sent?(message: A2AMessage, payload: AgentPayload): void;
  /** A validated payload from another agent, before this agent acts on it. */
  received?(message: A2AMessage, payload: AgentPayload): void;
};
