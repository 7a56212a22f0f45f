import { generateKeyPairSync } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { isTooLarge } from "../../../src/agents/split-send.js";
import { StaticKeyDirectory } from "../../../src/core/messaging/agent-keys.js";
import { canonicalJsonWithout } from "../../../src/core/messaging/canonical-json.js";
import { A2AClient } from "../../../src/core/messaging/client.js";
import { withSignature } from "../../../src/core/messaging/signed-line.js";
import { type A2AMessage, MessageType } from "../../../src/core/messaging/types.js";

/**
 * A sender checks a message's size before it signs it (client.ts, `signed`): the canonical text
 * plus what the signature will add, `,"signature":"…"`, whose length is computed from
 * ED25519_SIGNATURE_LENGTH (`ed25519:` and 86 characters of base64url) with per-agent keys. The
 * check's contract: a message goes when its bytes on the wire are within the sender's limit (or
 * the smaller one its recipient said it takes): exactly the limit goes, alone as a POST body or a
 * stream line, with no room kept for a batch's brackets; a receiver takes a body up to its own
 * limit and refuses one byte more (413, too_large). All held here to the byte, over HTTP, with
 * real Ed25519 signatures.
 */

const LIMIT = 8192;

function keyPair() {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return {
    privatePem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}
const keys = { a: keyPair(), b: keyPair() };
const directory = new StaticKeyDirectory({ a: keys.a.publicPem, b: keys.b.publicPem });

const clients: A2AClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

function client(
  agentId: "a" | "b",
  maxBodyBytes: number,
  streams: boolean,
  peers: Record<string, string> = {},
) {
  const c = new A2AClient({
    agentId,
    tokenSecret: "",
    router: null,
    maxBodyBytes,
    streams,
    peers,
    agentKeys: { privateKey: keys[agentId].privatePem, directory },
  });
  clients.push(c);
  return c;
}

/** A message's bytes on the wire: its canonical text with the signature put in (as sent). */
const wireBytes = (m: A2AMessage) =>
  Buffer.byteLength(withSignature(canonicalJsonWithout(m, "signature"), m.signature)!);

/** a -> b over HTTP; `pad(bytes)`: the padding that makes an event exactly `bytes` on the wire. */
async function pair(senderLimit: number, receiverLimit: number, streams: boolean) {
  const b = client("b", receiverLimit, streams);
  const got: number[] = [];
  b.registerHandler(MessageType.EVENT, (m) => {
    got.push(wireBytes(m));
  });
  const { url } = await b.listen();
  const a = client("a", senderLimit, streams, { b: url });
  // Measured on a message like those sent (same sender, type, and digits of its sequence number).
  const probe = a.createMessage("b", { event_type: "edge", event_data: { text: "" } }, MessageType.EVENT);
  expect(probe.signature).toMatch(/^ed25519:[A-Za-z0-9_-]{86}$/);
  const base = wireBytes(probe);
  const pad = (bytes: number) => ({ text: "y".repeat(bytes - base) });
  return { a, b, got, pad };
}

describe.each([
  { streams: true, name: "a message stream" },
  { streams: false, name: "POSTs" },
])("a message signed with an Ed25519 key, at the body limit, over $name", ({ streams }) => {
  it("goes when its bytes on the wire are exactly the sender's limit, and is refused one byte over before it is signed", async () => {
    const { a, b, got, pad } = await pair(LIMIT, LIMIT, streams);
    await a.sendEvent("b", "edge", pad(LIMIT));
    expect(got).toEqual([LIMIT]);
    const sequence = () => a.createMessage("b", {}).metadata.sequence_number;
    const before = sequence();
    const over = await a.sendEvent("b", "edge", pad(LIMIT + 1)).then(
      () => null,
      (err: unknown) => err,
    );
    expect(over).toMatchObject({
      code: "ERR_A2A_TOO_LARGE",
      message: `message of ${LIMIT + 1} bytes is over the body limit of ${LIMIT}`,
    });
    expect(isTooLarge(over)).toBe(true);
    expect(sequence()).toBe(before + 1); // refused before it was signed: it took no sequence number
    expect(got).toEqual([LIMIT]);
    expect(b.stats().rejected.too_large).toBe(0);
  });

  it("goes at exactly the limit its recipient said it takes (smaller than the sender's), and one byte over never leaves", async () => {
    const { a, b, got, pad } = await pair(2 * LIMIT, LIMIT, streams);
    a.setPeerLimit("b", LIMIT);
    await a.sendEvent("b", "edge", pad(LIMIT));
    expect(got).toEqual([LIMIT]);
    const over = await a.sendEvent("b", "edge", pad(LIMIT + 1)).then(
      () => null,
      (err: unknown) => err,
    );
    expect(over).toMatchObject({
      code: "ERR_A2A_TOO_LARGE",
      message: `message of ${LIMIT + 1} bytes is over the body limit of ${LIMIT} that b takes`,
    });
    expect(got).toEqual([LIMIT]);
    expect(b.stats().rejected.too_large).toBe(0);
  });

  it("is taken by a receiver at exactly its limit, and refused (413 too_large) one byte over", async () => {
    const { a, b, got, pad } = await pair(2 * LIMIT, LIMIT, streams);
    await a.sendEvent("b", "edge", pad(LIMIT));
    expect(got).toEqual([LIMIT]);
    const over = await a.sendEvent("b", "edge", pad(LIMIT + 1)).then(
      () => null,
      (err: unknown) => err,
    );
    expect(over).toMatchObject({ code: "ERR_A2A_REJECTED", details: { reason: "too_large", status: 413 } });
    expect(isTooLarge(over)).toBe(true);
    expect(got).toEqual([LIMIT]);
    expect(b.stats().rejected.too_large).toBe(1);
  });
});
