import type { JsonValue } from "../json.js";

/**
 * A shorter form of some payloads, for peers in other processes that say they read it. The
 * messaging layer knows nothing of what a payload means: the agents give it a codec, and it
 * applies it at the edges of the wire — `encode` to a payload about to be signed for a peer whose
 * message stream announced the codec's `name` (the `Triad-Payload-Codec` header of its 101),
 * `decode` to every admitted message, once its signature held (the signature covers the form that
 * was sent). Handlers, observers and the in-process router only ever see decoded payloads.
 */
export type PayloadCodec = {
  /** What a receiver announces, and a sender looks for: a token (letters, digits, "-", "."). */
  readonly name: string;
  /** The payload as this codec writes it; the payload itself when it has nothing shorter. */
  encode(payload: Record<string, JsonValue>): Record<string, JsonValue>;
  /**
   * The payload as it was before encode(); a payload encode() did not change is returned as it
   * is. Throws (with a message saying what is wrong) on an encoded payload that is malformed.
   */
  decode(payload: Record<string, JsonValue>): Record<string, JsonValue>;
};

/** The 101's header that names the payload codecs the receiving agent reads (comma-separated). */
export const PAYLOAD_CODEC_HEADER = "triad-payload-codec";

/** The codec names of a `Triad-Payload-Codec` header value. */
export function codecNames(header: string | string[] | undefined): ReadonlySet<string> {
  const text = Array.isArray(header) ? header.join(",") : (header ?? "");
  return new Set(
    text
      .split(",")
      .map((name) => name.trim())
      .filter((name) => name.length > 0),
  );
}
