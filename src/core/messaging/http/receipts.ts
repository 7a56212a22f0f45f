import { randomUUID } from "node:crypto";
import type { JsonValue } from "../../json.js";
import { PROTOCOL_VERSION } from "../message-shape.js";
import type { RejectionReason } from "../rejections.js";
import { formatTimestamp } from "../timestamp.js";
import type { A2AMessage, MessageType } from "../types.js";

/** What became of the message at `index` of a POST body (0 for a single message). */
export type ItemResult =
  | { index: number; outcome: "accepted" | "duplicate"; requestId: string; sender: string }
  | {
      index: number;
      outcome: "rejected";
      reason: RejectionReason;
      detail: string;
      requestId: string | null;
      sender: string | null;
    };

export type RejectedItem = { index: number; request_id: string | null; reason: string; detail: string };

/**
 * The body of a POST /a2a reply: a message in the seed's format, ACK (202) or ERROR (4xx/5xx).
 *
 * Receipts are deliberately unsigned (signature ""), so every handleMessage refuses them. A
 * signed ERROR answering a forged message would hand the forger a genuine message, addressed
 * to whoever they named as sender and answering a request id of their choosing, which they
 * could then deliver to that agent. A receipt only tells the HTTP client what happened.
 */
export function receipt(
  type: MessageType.ACK | MessageType.ERROR,
  agentId: string,
  items: ItemResult[],
  nowMs: number,
  error?: { reason: string; detail: string },
): A2AMessage {
  const accepted = items.filter((i) => i.outcome === "accepted").map((i) => i.requestId);
  const duplicates = items.filter((i) => i.outcome === "duplicate").map((i) => i.requestId);
  const rejected: RejectedItem[] = [];
  for (const i of items) {
    if (i.outcome === "rejected") {
      rejected.push({ index: i.index, request_id: i.requestId, reason: i.reason, detail: i.detail });
    }
  }
  const payload: Record<string, JsonValue> = { accepted, duplicates, rejected };
  if (error !== undefined) {
    payload.error = error.reason;
    payload.detail = error.detail;
  }
  const first = items[0];
  return {
    type,
    sender: agentId,
    recipient: first?.sender ?? "unknown",
    payload,
    metadata: {
      origin: agentId,
      version: PROTOCOL_VERSION,
      timestamp: formatTimestamp(nowMs),
      request_id: randomUUID(),
      parent_request_id: items.length === 1 && first !== undefined ? first.requestId : null,
      // Receipts are not messages this client created, so they do not take a sequence number.
      sequence_number: 0,
    },
    signature: "",
  };
}

/** Why a busy agent refused (503, retried by the sender): POSTs and stream lines alike. */
export const BUSY_DETAIL = "too many messages in flight; retry";

/** Why a peer that spent its failure budget is refused (429), for `retryAfterS` seconds. */
export function throttledDetail(remote: string, retryAfterS: number): string {
  return `too many messages from ${remote} failed admission; retry in ${retryAfterS} s`;
}

/** HTTP status of a refusal: the client retries 503 and gives up on the others. */
export function statusFor(reason: RejectionReason | "not_found" | "method" | "media_type"): number {
  switch (reason) {
    case "malformed":
      return 400;
    case "bad_signature":
    case "stale":
      return 401;
    case "not_found":
      return 404;
    case "method":
      return 405;
    case "too_large":
      return 413;
    case "media_type":
      return 415;
    case "unauthorized":
      return 403;
    case "misdirected":
      return 421;
    case "throttled":
      return 429;
    case "busy":
      return 503;
  }
}

/** What the sender learns from a receipt: the refused items, and the error of the whole body if any. */
export type ReadReceipt = { rejected: RejectedItem[]; error: { reason: string; detail: string } | null };

/** Reads a receipt leniently (any peer may answer); null when the body is not one. */
export function readReceipt(body: string): ReadReceipt | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return null;
  }
  const payload = (parsed as { payload?: unknown } | null)?.payload;
  if (typeof payload !== "object" || payload === null) return null;
  const { rejected, error, detail } = payload as Record<string, unknown>;
  return { rejected: readRejected(rejected), error: readError(error, detail) };
}

/** The refused items a receipt lists (POST body or stream line), read leniently. */
export function readRejected(rejected: unknown): RejectedItem[] {
  const items: RejectedItem[] = [];
  if (!Array.isArray(rejected)) return items;
  for (const r of rejected as unknown[]) {
    const item = r as Partial<RejectedItem> | null;
    if (typeof item?.index === "number") {
      items.push({
        index: item.index,
        request_id: typeof item.request_id === "string" ? item.request_id : null,
        reason: typeof item.reason === "string" ? item.reason : "rejected",
        detail: typeof item.detail === "string" ? item.detail : "",
      });
    }
  }
  return items;
}

/** The error of a whole receipt, if it names one. */
export function readError(error: unknown, detail: unknown): { reason: string; detail: string } | null {
  return typeof error === "string"
    ? { reason: error, detail: typeof detail === "string" ? detail : "" }
    : null;
}
