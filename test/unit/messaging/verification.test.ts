import { afterEach, describe, expect, it } from "vitest";
import { type A2AMessage, MessageType } from "../../../src/core/messaging/types.js";
import { closeReceivers, handMade, receiver as receiverOf, signatureOf } from "./support.js";

const SECRET = "shared-secret";
const receiver = (extra: Parameters<typeof receiverOf>[1] = {}) => receiverOf(SECRET, extra);

afterEach(closeReceivers);

describe("handleMessage admits only authentic, fresh, first-seen messages addressed to it", () => {
  it("accepts a message a foreign peer built and signed by hand (HMAC over RFC 8785 JSON)", async () => {
    const { client, handled, events } = receiver();
    const message = handMade(SECRET, { payload: { z: [1, 2.5, "ü"], a: { nested: true } } });
    expect(await client.handleMessage(message)).toBe(true);
    expect(handled).toEqual([message]);
    expect(events).toEqual([]);
    expect(client.stats().accepted).toBe(1);
  });

  it("accepts a Python-style naive UTC timestamp with microseconds", async () => {
    const { client } = receiver();
    const python = new Date().toISOString().replace("Z", "123");
    expect(await client.handleMessage(handMade(SECRET, { metadata: { timestamp: python } }))).toBe(true);
  });

  const tampered: Array<[string, (m: A2AMessage) => void]> = [
    [
      "the payload",
      (m) => {
        m.payload = { ...m.payload, extra: 1 };
      },
    ],
    [
      "the type",
      (m) => {
        m.type = MessageType.REQUEST;
      },
    ],
    [
      "the sender",
      (m) => {
        m.sender = "mallory";
      },
    ],
    [
      "the origin",
      (m) => {
        m.metadata.origin = "mallory";
      },
    ],
    [
      "the request id",
      (m) => {
        m.metadata.request_id = "00000000-0000-4000-8000-000000000000";
      },
    ],
    [
      "the parent",
      (m) => {
        m.metadata.parent_request_id = "x";
      },
    ],
    [
      "the sequence number",
      (m) => {
        m.metadata.sequence_number += 1;
      },
    ],
    [
      "the timestamp",
      (m) => {
        m.metadata.timestamp = new Date(Date.now() - 1000).toISOString();
      },
    ],
  ];
  it.each(tampered)(
    "refuses a message whose %s changed after signing (bad_signature)",
    async (_what, change) => {
      const { client, handled, events } = receiver();
      const message = handMade(SECRET);
      change(message);
      expect(await client.handleMessage(message)).toBe(false);
      expect(handled).toEqual([]);
      expect(events.map((e) => e.reason)).toEqual(["bad_signature"]);
    },
  );

  const forged: Array<[string, (m: A2AMessage) => void]> = [
    [
      "an empty signature",
      (m) => {
        m.signature = "";
      },
    ],
    [
      "a signature made with another secret",
      (m) => {
        m.signature = signatureOf(m, "other-secret");
      },
    ],
    [
      "the right signature in upper case",
      (m) => {
        m.signature = m.signature.toUpperCase();
      },
    ],
    [
      "the right signature cut short",
      (m) => {
        m.signature = m.signature.slice(0, 62);
      },
    ],
  ];
  it.each(forged)("refuses %s", async (_what, forge) => {
    const { client, events } = receiver();
    const message = handMade(SECRET);
    forge(message);
    expect(await client.handleMessage(message)).toBe(false);
    expect(events[0]?.reason).toBe("bad_signature");
    expect(client.stats().rejected.bad_signature).toBe(1);
  });

  it("refuses a message with its signature key missing altogether", async () => {
    const { client, events } = receiver();
    const { signature: _s, ...unsigned } = handMade(SECRET);
    expect(await client.handleMessage(unsigned)).toBe(false);
    expect(events[0]).toMatchObject({ reason: "bad_signature", detail: "message is not signed" });
  });

  it("refuses stale and future timestamps beyond maxClockSkewSeconds, accepts within", async () => {
    const now = Date.UTC(2025, 0, 1);
    const { client, events } = receiver({ now: () => now, maxClockSkewSeconds: 300 });
    const at = (offsetS: number) =>
      handMade(SECRET, { metadata: { timestamp: new Date(now + offsetS * 1000).toISOString() } });
    expect(await client.handleMessage(at(-301))).toBe(false);
    expect(await client.handleMessage(at(301))).toBe(false);
    expect(await client.handleMessage(at(-299))).toBe(true);
    expect(await client.handleMessage(at(299))).toBe(true);
    expect(events.map((e) => e.reason)).toEqual(["stale", "stale"]);
  });

  it("refuses a message addressed to another agent, even correctly signed (misdirected)", async () => {
    const { client, events } = receiver();
    expect(await client.handleMessage(handMade(SECRET, { recipient: "someone-else" }))).toBe(false);
    expect(events[0]).toMatchObject({ reason: "misdirected", sender: "peer" });
  });

  it("hands a duplicate request id to no handler and counts it apart from rejections", async () => {
    const { client, handled, events } = receiver();
    const message = handMade(SECRET);
    expect(await client.handleMessage(message)).toBe(true);
    expect(await client.handleMessage(structuredClone(message))).toBe(false);
    expect(handled).toHaveLength(1);
    expect(events).toEqual([]);
    const stats = client.stats();
    expect(stats.duplicates).toBe(1);
    expect(Object.values(stats.rejected).reduce((a, b) => a + b, 0)).toBe(0);
  });

  it("tracks request ids per sender: the same id from two senders is two messages", async () => {
    const { client, handled } = receiver();
    const id = "11111111-2222-4333-8444-555555555555";
    expect(await client.handleMessage(handMade(SECRET, { sender: "a", metadata: { request_id: id } }))).toBe(
      true,
    );
    expect(await client.handleMessage(handMade(SECRET, { sender: "b", metadata: { request_id: id } }))).toBe(
      true,
    );
    expect(handled).toHaveLength(2);
  });

  const malformed: Array<[string, (m: Record<string, unknown>) => unknown]> = [
    ["a string", () => "hello"],
    ["null", () => null],
    ["an array", (m) => [m]],
    ["an extra top-level key", (m) => ({ ...m, key_id: "k1" })],
    ["an unknown type", (m) => ({ ...m, type: "gossip" })],
    ["an empty sender", (m) => ({ ...m, sender: "" })],
    ["a payload that is an array", (m) => ({ ...m, payload: [] })],
    ["a payload with a Date", (m) => ({ ...m, payload: { when: new Date() } })],
    ["a payload with NaN", (m) => ({ ...m, payload: { n: Number.NaN } })],
    ["a payload nested 100 deep", (m) => ({ ...m, payload: { deep: nest(100) } })],
    ["metadata missing a key", (m) => ({ ...m, metadata: dropKey(m.metadata, "sequence_number") })],
    ["metadata with an extra key", (m) => ({ ...m, metadata: { ...(m.metadata as object), key_id: 1 } })],
    [
      "a request id that is not a UUID",
      (m) => ({ ...m, metadata: { ...(m.metadata as object), request_id: "42" } }),
    ],
    [
      "a negative sequence number",
      (m) => ({ ...m, metadata: { ...(m.metadata as object), sequence_number: -1 } }),
    ],
    [
      "a timestamp that is not ISO 8601",
      (m) => ({ ...m, metadata: { ...(m.metadata as object), timestamp: "now" } }),
    ],
  ];
  it.each(malformed)("refuses %s as malformed", async (_what, mangle) => {
    const { client, handled, events } = receiver();
    const value = mangle(handMade(SECRET) as unknown as Record<string, unknown>);
    expect(await client.handleMessage(value)).toBe(false);
    expect(handled).toEqual([]);
    expect(events.map((e) => e.reason)).toEqual(["malformed"]);
  });

  it("never throws on hostile objects: throwing getters, proxies, cycles", async () => {
    const { client, events } = receiver();
    const getter = Object.defineProperty({}, "type", {
      enumerable: true,
      get: () => {
        throw new Error("boom");
      },
    });
    const proxy = new Proxy(
      {},
      {
        ownKeys: () => {
          throw new Error("trap");
        },
      },
    );
    const cyclic: Record<string, unknown> = handMade(SECRET) as unknown as Record<string, unknown>;
    (cyclic.payload as Record<string, unknown>).self = cyclic;
    for (const value of [getter, proxy, cyclic]) expect(await client.handleMessage(value)).toBe(false);
    expect(events.map((e) => e.reason)).toEqual(["malformed", "malformed", "malformed"]);
  });

  it("reports each rejection once to every listener, and a throwing listener breaks nothing", async () => {
    const { client, events } = receiver();
    const seen: string[] = [];
    client.onRejected(() => {
      throw new Error("bad logger");
    });
    const stop = client.onRejected((e) => seen.push(e.reason));
    expect(await client.handleMessage(handMade("wrong"))).toBe(false);
    stop();
    expect(await client.handleMessage(handMade("wrong"))).toBe(false);
    expect(seen).toEqual(["bad_signature"]);
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({ via: "direct", sender: "peer" });
  });
});

function nest(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

function dropKey(obj: unknown, key: string): Record<string, unknown> {
  const copy = { ...(obj as Record<string, unknown>) };
  delete copy[key];
  return copy;
}
