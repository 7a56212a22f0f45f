import { createHmac } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { canonicalJsonWithout } from "../../../src/core/messaging/canonical-json.js";
import { ReceivedLine, splitSignature, withSignature } from "../../../src/core/messaging/signed-line.js";
import type { A2AMessage } from "../../../src/core/messaging/types.js";
import { closeReceivers, handMade, receiver as receiverOf } from "./support.js";

const SECRET = "shared-secret";
const receiver = () => receiverOf(SECRET);

afterEach(closeReceivers);

/** A message's line as this project's senders write it: canonical text with the signature put in. */
function lineOf(message: A2AMessage): string {
  return withSignature(canonicalJsonWithout(message, "signature"), message.signature)!;
}

describe("a signed message as one line", () => {
  it("is the message in canonical member order, and comes apart into the signed text and the signature", () => {
    const message = handMade(SECRET, { payload: { event_type: "x", event_data: { b: [1, "ü"], a: null } } });
    const line = lineOf(message);
    expect(JSON.parse(line)).toEqual(message);
    expect(Object.keys(JSON.parse(line))).toEqual([
      "metadata",
      "payload",
      "recipient",
      "sender",
      "signature",
      "type",
    ]);
    expect(splitSignature(line)).toEqual({
      text: canonicalJsonWithout(message, "signature"),
      signature: message.signature,
    });
  });

  it("does not come apart when written otherwise (seed member order, no signature, junk after it)", () => {
    const message = handMade(SECRET);
    expect(splitSignature(JSON.stringify(message))).toBeNull();
    expect(splitSignature(canonicalJsonWithout(message, "signature"))).toBeNull();
    expect(splitSignature(`${lineOf(message)} `)).toBeNull();
    expect(splitSignature(lineOf(message).replace(message.signature, 'a\\"b'))).toBeNull();
    expect(withSignature("{}", message.signature)).toBeUndefined();
    expect(withSignature(canonicalJsonWithout(message, "signature"), 'a"b')).toBeUndefined();
  });
});

describe("admitting a line", () => {
  it("accepts a line written by a sender here, and the same line again is a duplicate", async () => {
    const { client, handled, events } = receiver();
    const message = handMade(SECRET, { payload: { event_type: "x", event_data: { n: 1 } } });
    expect(await client.handleMessage(new ReceivedLine(lineOf(message)))).toBe(true);
    expect(handled).toEqual([message]);
    expect(await client.handleMessage(new ReceivedLine(lineOf(message)))).toBe(false);
    expect(client.stats().duplicates).toBe(1);
    expect(events).toEqual([]);
  });

  it("checks the signature over the bytes received: a text signed as it is is taken as it is", async () => {
    // Not canonical (1.0, not 1), signed over these very bytes: only a check over the received
    // text accepts it; rebuilding canonical JSON from the parsed object would not match.
    const { client, handled } = receiver();
    const message = handMade(SECRET);
    const text = canonicalJsonWithout(message, "signature").replace(
      '"sequence_number":1',
      '"sequence_number":1.0',
    );
    const signature = createHmac("sha256", SECRET).update(text).digest("hex");
    expect(await client.handleMessage(new ReceivedLine(withSignature(text, signature)!))).toBe(true);
    expect(handled).toHaveLength(1);
    expect(handled[0]?.metadata.sequence_number).toBe(1);
  });

  it("reads a line written another way as an object (seed member order; an escaped character)", async () => {
    const { client, handled, events } = receiver();
    const seedOrder = handMade(SECRET);
    expect(await client.handleMessage(new ReceivedLine(JSON.stringify(seedOrder)))).toBe(true);
    // Canonical member order, but a character escaped: the signature does not hold over the
    // text, it does over the canonical JSON of what the text says.
    const escaped = handMade(SECRET, { payload: { event_type: "x", event_data: { s: "ü" } } });
    const line = lineOf(escaped).replace('"ü"', '"\\u00fc"');
    expect(splitSignature(line)).not.toBeNull();
    expect(await client.handleMessage(new ReceivedLine(line))).toBe(true);
    expect(handled).toEqual([seedOrder, escaped]);
    expect(events).toEqual([]);
  });

  it("refuses a line changed after signing, and one that is not JSON, with the reason", async () => {
    const { client, handled, events } = receiver();
    const message = handMade(SECRET, { payload: { event_type: "x", event_data: { n: 1 } } });
    expect(await client.handleMessage(new ReceivedLine(lineOf(message).replace('"n":1', '"n":2')))).toBe(
      false,
    );
    expect(await client.handleMessage(new ReceivedLine("{not json"))).toBe(false);
    expect(handled).toEqual([]);
    expect(events.map((e) => [e.reason, e.requestId])).toEqual([
      ["bad_signature", message.metadata.request_id],
      ["malformed", null],
    ]);
  });
});
