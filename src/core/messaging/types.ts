import type { JsonValue } from "../json.js";

/** The kinds of A2A message (seed: MessageType). The wire carries the lowercase value. */
export enum MessageType {
  REQUEST = "request",
  RESPONSE = "response",
  HEARTBEAT = "heartbeat",
  EVENT = "event",
  ACK = "ack",
  ERROR = "error",
}

/** Where a message comes from and what it answers (seed: CausalMetadata). */
export type CausalMetadata = {
  origin: string;
  version: string;
  /** ISO 8601, UTC. */
  timestamp: string;
  /** A UUID, unique per message; a re-sent message keeps it. */
  request_id: string;
  parent_request_id: string | null;
  sequence_number: number;
};

/** One message on the wire: exactly the seed's "Message Format", no other top-level keys. */
export type A2AMessage = {
  type: MessageType;
  sender: string;
  recipient: string;
  payload: Record<string, JsonValue>;
  metadata: CausalMetadata;
  signature: string;
};
