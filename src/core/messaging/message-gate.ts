import { isPlainObject } from "../json.js";
import { withoutBom } from "../json-bom.js";
import type { MessageVerifier } from "./agent-keys.js";
import { canonicalJsonWithout } from "./canonical-json.js";
import { checkMessageShape } from "./message-shape.js";
import type { PayloadCodec } from "./payload-codec.js";
import type { RejectionReason } from "./rejections.js";
import type { ReplayCache } from "./replay-cache.js";
import { ReceivedLine, splitSignature } from "./signed-line.js";
import type { A2AMessage } from "./types.js";

/** The verdict on one incoming message. */
export type Admission =
  | { kind: "accept"; message: A2AMessage; keyId: string }
  | { kind: "duplicate"; message: A2AMessage }
  | {
      kind: "reject";
      reason: RejectionReason;
      detail: string;
      sender: string | null;
      requestId: string | null;
    };

export type MessageGateOptions = {
  agentId: string;
  /** The shared-secret keyring's (the default), or per-agent keys'. */
  verifier: MessageVerifier;
  maxClockSkewMs: number;
  replayCache: ReplayCache;
  /** Wall-clock milliseconds: message timestamps are wall-clock instants. */
  now: () => number;
  /** Decodes what a peer sent in a shorter form (payload-codec.ts), once its signature held. */
  codec?: PayloadCodec | undefined;
};

/**
 * Everything an incoming message must pass before a handler may see it, cheapest check first:
 * shape, addressee, freshness, the signature's form, the signature, then uniqueness of its request id. Admitting a message
 * remembers its request id, so a second copy is a duplicate. Never throws: a hostile object that
 * explodes while being read is malformed.
 */
export class MessageGate {
  constructor(private readonly options: MessageGateOptions) {}

  admit(value: unknown): Admission {
    if (value instanceof ReceivedLine) return this.admitLine(value.text);
    try {
      return this.check(value);
    } catch (err) {
      return unreadable(err, value);
    }
  }

  /**
   * admit() for a message read as one line of text. A line written as signed-line.ts writes
   * (this project's senders) is checked over the bytes received: the text its signature covers is
   * taken out of the line, verified and parsed, with no canonical walk. Any other line, or one
   * whose signature does not hold over that text, is parsed and checked as admit() checks an
   * object (a peer may write members in another order; only canonical text is ever signed).
   */
  admitLine(received: string): Admission {
    // One leading byte order mark is outside the JSON and what its signature covers: read past it.
    const line = withoutBom(received);
    const split = splitSignature(line);
    if (split !== null) {
      const admission = this.admitSigned(split.text, split.signature);
      if (admission.kind !== "reject" || admission.reason !== "bad_signature") return admission;
    }
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      // Kept as its text, which the shape check refuses as malformed.
      value = line;
    }
    return this.admit(value);
  }

  /**
   * admit() for a message handed over as `text`, the canonical JSON its `signature` covers: the
   * signature is checked over that very text, and what is admitted is what the text says. Any
   * text that is not canonical fails the check (only canonical text is ever signed).
   */
  admitSigned(text: string, signature: string): Admission {
    let value: unknown;
    try {
      value = JSON.parse(text);
      if (typeof value === "object" && value !== null && !Array.isArray(value)) {
        (value as Record<string, unknown>).signature = signature;
      }
      return this.check(value, text);
    } catch (err) {
      return unreadable(err, value);
    }
  }

  /**
   * A message an agent of this process built unsigned for this one (an unsigned router, see
   * A2ARouterOptions.signed), handed over as this agent's own copy: checked for its addressee;
   * no signature, freshness or replay check (it was made here, and is delivered once). Never
   * called for what came from outside the process.
   */
  admitTrusted(value: unknown): Admission {
    if (!isPlainObject(value)) return reject("malformed", "message must be a plain object", value);
    const message = value as A2AMessage;
    if (message.recipient !== this.options.agentId) {
      return reject(
        "misdirected",
        `addressed to ${message.recipient}, this is ${this.options.agentId}`,
        message,
      );
    }
    return { kind: "accept", message, keyId: "" };
  }

  /** `signedText`: the text the signature covers, when the message came as text (else its canonical JSON). */
  private check(value: unknown, signedText?: string): Admission {
    const shape = checkMessageShape(value, signedText === undefined);
    if (!shape.ok) return reject("malformed", shape.problem, value);
    const { message, timestampMs } = shape;
    const { agentId, verifier, maxClockSkewMs, replayCache, now, codec } = this.options;
    if (message.recipient !== agentId) {
      return reject("misdirected", `addressed to ${message.recipient}, this is ${agentId}`, message);
    }
    const skew = timestampMs - now();
    if (Math.abs(skew) > maxClockSkewMs) {
      const seconds = Math.round(skew / 1000);
      return reject(
        "stale",
        `timestamp is ${seconds}s from this agent's clock (window ±${maxClockSkewMs / 1000}s)`,
        message,
      );
    }
    const { signature } = message;
    if (!verifier.wellFormed(signature)) {
      // Refused before the canonical walk and the hash: a forger's garbage costs nothing more.
      const has = typeof signature === "string" && signature.length > 0;
      return reject(
        "bad_signature",
        has ? "signature is not of the form expected here" : "message is not signed",
        message,
      );
    }
    const verdict = verifier.verify(
      signedText ?? canonicalJsonWithout(message, "signature"),
      signature,
      message.sender,
    );
    if (!verdict.ok) return reject("bad_signature", verdict.problem, message);
    const { keyId } = verdict;
    if (codec !== undefined) {
      // The signature covers the payload as sent; from here on it is read as it was meant.
      try {
        message.payload = codec.decode(message.payload);
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        return reject("malformed", `payload cannot be read (${codec.name}: ${why})`, message);
      }
    }
    const seen = replayCache.admit(message.sender, message.metadata.request_id, timestampMs);
    if (seen === "duplicate") return { kind: "duplicate", message };
    if (seen === "stale") {
      return reject("stale", "older than the replay cache can vouch for (it is under pressure)", message);
    }
    return { kind: "accept", message, keyId };
  }
}

/** A message that could not even be read (not JSON, or a hostile object that throws). */
function unreadable(err: unknown, value: unknown): Admission {
  return reject(
    "malformed",
    `unreadable message (${err instanceof Error ? err.message : String(err)})`,
    value,
  );
}

function reject(reason: RejectionReason, detail: string, value: unknown): Admission {
  return {
    kind: "reject",
    reason,
    detail,
    sender: claimed(value, "sender"),
    requestId: claimedRequestId(value),
  };
}

// What the (unauthenticated) message says about itself, for the log line; never trusted.
function claimed(value: unknown, key: string): string | null {
  if (typeof value !== "object" || value === null) return null;
  try {
    const field = (value as Record<string, unknown>)[key];
    return typeof field === "string" ? field.slice(0, 256) : null;
  } catch {
    return null;
  }
}

function claimedRequestId(value: unknown): string | null {
  if (typeof value !== "object" || value === null) return null;
  try {
    return claimed((value as Record<string, unknown>).metadata, "request_id");
  } catch {
    return null;
  }
}
