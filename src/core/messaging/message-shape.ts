import { isPlainJson } from "../json.js";
import { isPlainObject, jsonProblem, MAX_JSON_DEPTH } from "./plain-json.js";
import { parseTimestamp } from "./timestamp.js";
import { type A2AMessage, MessageType } from "./types.js";

/** The protocol version this implementation writes into `metadata.version`. */
export const PROTOCOL_VERSION = "v1";

/** Longest agent id, origin or parent_request_id accepted; ids are names, not documents. */
export const MAX_ID_LENGTH = 256;

const MESSAGE_KEYS = ["type", "sender", "recipient", "payload", "metadata", "signature"];
const METADATA_KEYS = [
  "origin",
  "version",
  "timestamp",
  "request_id",
  "parent_request_id",
  "sequence_number",
];
const MESSAGE_TYPES = new Set<string>(Object.values(MessageType));
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/**
 * A message as far as its shape goes: every field of the seed's "Message Format" present with
 * the right type, no other keys, the payload plain JSON. The signature is only required to be
 * present-or-absent here; judging it is the signature check's job (a missing signature is a
 * bad signature, not a malformed message).
 */
export type ShapeCheck =
  | { ok: true; message: A2AMessage; timestampMs: number }
  | { ok: false; problem: string };

/**
 * `walkPayload` false skips the plain-JSON walk of the payload, for a value that JSON.parse just
 * made (it cannot hold anything else) and whose signature is then checked over that very text
 * (so its depth is what a signer allowed).
 */
export function checkMessageShape(value: unknown, walkPayload = true): ShapeCheck {
  if (!isPlainObject(value)) return fail("the message is not a JSON object");
  const extra = Object.keys(value).find((k) => !MESSAGE_KEYS.includes(k));
  if (extra !== undefined) return fail(`unknown top-level key ${JSON.stringify(extra)}`);
  if (typeof value.type !== "string" || !MESSAGE_TYPES.has(value.type)) {
    return fail(`type must be one of ${[...MESSAGE_TYPES].join(", ")}`);
  }
  const idProblem = nameProblem(value.sender, "sender") ?? nameProblem(value.recipient, "recipient");
  if (idProblem !== null) return fail(idProblem);
  if (!isPlainObject(value.payload)) return fail("payload must be a JSON object");
  // The boolean walk first (no path strings built); the one that names the problem only for a payload that has one.
  const payloadProblem =
    walkPayload && !isPlainJson(value.payload, MAX_JSON_DEPTH - 1)
      ? jsonProblem(value.payload, "payload")
      : null;
  if (payloadProblem !== null) return fail(payloadProblem);
  const meta = value.metadata;
  if (!isPlainObject(meta)) return fail("metadata must be a JSON object");
  for (const key of METADATA_KEYS) {
    if (!Object.hasOwn(meta, key)) return fail(`metadata.${key} is missing`);
  }
  const extraMeta = Object.keys(meta).find((k) => !METADATA_KEYS.includes(k));
  if (extraMeta !== undefined) return fail(`unknown metadata key ${JSON.stringify(extraMeta)}`);
  const metaProblem =
    nameProblem(meta.origin, "metadata.origin") ??
    (typeof meta.version === "string" && meta.version.length > 0 && meta.version.length <= 32
      ? null
      : "metadata.version must be a short non-empty string") ??
    (typeof meta.request_id === "string" && UUID.test(meta.request_id)
      ? null
      : "metadata.request_id must be a UUID") ??
    (meta.parent_request_id === null
      ? null
      : nameProblem(meta.parent_request_id, "metadata.parent_request_id")) ??
    (Number.isSafeInteger(meta.sequence_number) && (meta.sequence_number as number) >= 0
      ? null
      : "metadata.sequence_number must be a non-negative integer");
  if (metaProblem !== null) return fail(metaProblem);
  const timestampMs = typeof meta.timestamp === "string" ? parseTimestamp(meta.timestamp) : Number.NaN;
  if (Number.isNaN(timestampMs)) return fail("metadata.timestamp must be an ISO 8601 date-time");
  return { ok: true, message: value as A2AMessage, timestampMs };
}

function nameProblem(value: unknown, what: string): string | null {
  if (typeof value !== "string" || value.length === 0) return `${what} must be a non-empty string`;
  if (value.length > MAX_ID_LENGTH) return `${what} is longer than ${MAX_ID_LENGTH} characters`;
  return null;
}

function fail(problem: string): ShapeCheck {
  return { ok: false, problem };
}
