import { afterEach, describe, expect, it } from "vitest";
import { canonicalJsonWithout } from "../../../src/core/messaging/canonical-json.js";
import { A2AClient } from "../../../src/core/messaging/client.js";
import { withSignature } from "../../../src/core/messaging/signed-line.js";
import { type A2AMessage, MessageType } from "../../../src/core/messaging/types.js";

/**
 * Messages sent to one peer in the same tick go as one POST, `[m1,m2,…]`, while that body is
 * within the body limit: the sender's own, or the smaller one its peer said it takes
 * (setPeerLimit). Held here to the byte: a batch whose body is exactly the limit goes as one
 * POST, one byte more as two; and a batch over a limit the peer said goes as two POSTs at once,
 * not as one the peer refuses (413) and that is then halved and sent again.
 */

const LIMIT = 8192;

const clients: A2AClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

/** A message's bytes on the wire: its canonical text with the signature put in (as sent). */
const wireBytes = (m: A2AMessage) =>
  Buffer.byteLength(withSignature(canonicalJsonWithout(m, "signature"), m.signature)!);

/** a -> b over POSTs; `pad(bytes)`: the padding that makes an event exactly `bytes` on the wire. */
async function pair(senderLimit: number, receiverLimit: number) {
  const b = new A2AClient({
    agentId: "b",
    tokenSecret: "batch-body-limit",
    router: null,
    maxBodyBytes: receiverLimit,
    streams: false,
  });
  clients.push(b);
  const got: number[] = [];
  b.registerHandler(MessageType.EVENT, (m) => {
    got.push(wireBytes(m));
  });
  const { url } = await b.listen();
  const a = new A2AClient({
    agentId: "a",
    tokenSecret: "batch-body-limit",
    router: null,
    maxBodyBytes: senderLimit,
    streams: false,
    peers: { b: url },
  });
  clients.push(a);
  // Measured on a message like those sent (same sender, type, and digits of its sequence number).
  const probe = a.createMessage("b", { event_type: "edge", event_data: { text: "" } }, MessageType.EVENT);
  const base = wireBytes(probe);
  const pad = (bytes: number) => ({ text: "y".repeat(bytes - base) });
  /** Two events sent in one tick whose batch body, `[m1,m2]`, is `body` bytes. */
  const sendTwo = async (body: number) => {
    const first = Math.floor((body - 3) / 2);
    await Promise.all([
      a.sendEvent("b", "edge", pad(first)),
      a.sendEvent("b", "edge", pad(body - 3 - first)),
    ]);
    return [first, body - 3 - first];
  };
  return { a, b, got, sendTwo };
}

describe("a batch of messages to one peer, at the body limit (POSTs)", () => {
  it("goes as one POST when its body is exactly the limit, and as two one byte over", async () => {
    const { a, b, got, sendTwo } = await pair(LIMIT, LIMIT);
    const sizes = await sendTwo(LIMIT);
    expect(got).toEqual(sizes);
    expect(a.stats().http).toMatchObject({ posts: 1, messagesPosted: 2 });
    const more = await sendTwo(LIMIT + 1);
    expect(got).toEqual([...sizes, ...more]);
    expect(a.stats().http).toMatchObject({ posts: 3, messagesPosted: 4 });
    expect(b.stats().rejected.too_large).toBe(0);
  });

  it("over the smaller limit the peer said it takes, goes as two POSTs at once: none refused (413)", async () => {
    const { a, b, got, sendTwo } = await pair(4 * LIMIT, LIMIT);
    a.setPeerLimit("b", LIMIT);
    const sizes = await sendTwo(LIMIT + 1);
    expect(got).toEqual(sizes);
    expect(a.stats().http).toMatchObject({ posts: 2, messagesPosted: 2 });
    expect(b.stats().rejected.too_large).toBe(0);
  });

  it("over the peer's limit, when it did not say it (an older peer): refused (413), then sent in smaller POSTs", async () => {
    const { a, b, got, sendTwo } = await pair(4 * LIMIT, LIMIT);
    const sizes = await sendTwo(LIMIT + 1);
    expect(got).toEqual(sizes);
    expect(b.stats().rejected.too_large).toBeGreaterThan(0);
    expect(a.stats().http.posts).toBeGreaterThan(2);
  });
});
