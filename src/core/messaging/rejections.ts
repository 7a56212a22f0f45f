/**
 * Why an incoming message was refused before any handler saw it.
 * - malformed: not the seed's message format (wrong/missing/extra fields, not JSON, too deep).
 * - bad_signature: missing, ill-formed, or made with no key in our keyring (forged or tampered).
 * - stale: timestamp further than the skew window from our clock, or older than the replay
 *   cache can still vouch for (see ReplayCache).
 * - misdirected: addressed to another agent (a signed message must not be replayable elsewhere).
 * - too_large: an HTTP body over the size limit, refused before parsing.
 * - busy: too many handlers in flight; the sender retries later (HTTP 503), nothing is lost.
 * - throttled: the peer's address spent its budget of failed messages (bad signatures and the
 *   like); its bodies are refused unread, unparsed and unhashed until the budget refills (HTTP
 *   429 with Retry-After).
 * - unauthorized: authentic, but its sender may not say it: a result for an attempt that was
 *   dispatched to another worker, a task's end reported by a distributor that does not hold the
 *   task. Refused by the agent after admission (via "agent"), counted here all the same.
 * A duplicate (a request id already accepted from that sender) is not a rejection: a sender's
 * retry gets its ACK again, and it is counted on its own.
 */
export type RejectionReason =
  | "malformed"
  | "bad_signature"
  | "stale"
  | "misdirected"
  | "too_large"
  | "busy"
  | "throttled"
  | "unauthorized";

export const REJECTION_REASONS: readonly RejectionReason[] = [
  "malformed",
  "bad_signature",
  "stale",
  "misdirected",
  "too_large",
  "busy",
  "throttled",
  "unauthorized",
];

/** What the agent layer gets to log once and turn into a metric. */
export type RejectionEvent = {
  reason: RejectionReason;
  /** What exactly was wrong, e.g. "metadata.request_id must be a UUID". */
  detail: string;
  /** The claimed sender and request id when the message got far enough to have them (unauthenticated!). */
  sender: string | null;
  requestId: string | null;
  /**
   * "http" (with the peer's address), "router" (in-process), "direct" (handleMessage called by
   * hand), or "agent" (admitted, then refused by the agent: see `unauthorized`).
   */
  via: "http" | "router" | "direct" | "agent";
  remoteAddress?: string;
};

export type HandlerErrorEvent = { error: unknown; messageType: string; sender: string; requestId: string };

/** Counters for `A2AClient.stats()`; every one only ever grows. */
export type A2AStats = {
  /** Messages this client created and signed (its last sequence_number). */
  created: number;
  /** Messages whose send() resolved: accepted by their receiver. */
  sent: number;
  /** Messages verified and accepted (each request id once). */
  accepted: number;
  /** Authentic re-sends of an accepted request id: acknowledged again, never handled twice. */
  duplicates: number;
  rejected: Record<RejectionReason, number>;
  /** Accepted, but no handler was registered for the type (and it answered no pending request). */
  unhandled: number;
  handlerErrors: number;
  /** Accepted messages by the id of the key whose signature matched (rotation progress). */
  verifiedByKey: Record<string, number>;
  /** Requests waiting for their response right now. */
  pendingRequests: number;
  replayCache: { size: number; capacity: number };
  http: HttpStats;
};

export type HttpStats = {
  /** POST /a2a requests sent, and the messages they carried (more messages than posts = batching). */
  posts: number;
  messagesPosted: number;
  /** Message streams opened (GET /a2a upgraded), the writes made on them, and the messages those carried. */
  streamsOpened: number;
  streamWrites: number;
  messagesStreamed: number;
  /** POSTs that failed on the network or with 5xx/503 and were tried again. */
  retries: number;
  /** Messages given up on (ERR_A2A_UNREACHABLE). */
  undelivered: number;
  /** Messages waiting in per-peer send queues right now. */
  queued: number;
  /** POST /a2a requests this agent's server answered. */
  requestsServed: number;
};

export function emptyRejectionCounts(): Record<RejectionReason, number> {
  return {
    malformed: 0,
    bad_signature: 0,
    stale: 0,
    misdirected: 0,
    too_large: 0,
    busy: 0,
    throttled: 0,
    unauthorized: 0,
  };
}
