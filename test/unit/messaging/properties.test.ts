import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import type { JsonValue } from "../../../src/core/json.js";
import { canonicalJson } from "../../../src/core/messaging/canonical-json.js";
import { A2AClient } from "../../../src/core/messaging/client.js";
import { A2ARouter } from "../../../src/core/messaging/router.js";
import { type A2AMessage, MessageType } from "../../../src/core/messaging/types.js";

const router = new A2ARouter();
const sender = new A2AClient({ agentId: "sender", tokenSecret: "secret", router });
const receiver = new A2AClient({ agentId: "receiver", tokenSecret: "secret", router });
let handled = 0;
for (const type of Object.values(MessageType)) receiver.registerHandler(type, () => void handled++);

afterAll(async () => {
  await sender.close();
  await receiver.close();
});

const json = fc.jsonValue({ maxDepth: 4 }) as fc.Arbitrary<JsonValue>;
const payload = fc.dictionary(fc.string({ maxLength: 8, unit: "grapheme" }), json, { maxKeys: 6 });
const messageType = fc.constantFrom(...Object.values(MessageType));

// Mostly the right thing, sometimes junk: so that every check after the first gets exercised.
const mostly = <T>(good: fc.Arbitrary<T>, junk: fc.Arbitrary<unknown> = json) =>
  fc.oneof({ arbitrary: good, weight: 20 }, { arbitrary: junk, weight: 1 });
const now = Date.now();

/** Shaped like a message, never validly signed (its signature is random). */
const messageLike = fc.record(
  {
    type: mostly(messageType),
    sender: mostly(fc.constant("sender")),
    recipient: mostly(fc.constantFrom("receiver", "receiver", "receiver", "someone-else")),
    payload: mostly(payload),
    metadata: mostly(
      fc.record({
        origin: mostly(fc.constant("sender")),
        version: mostly(fc.constant("v1")),
        timestamp: mostly(
          fc.integer({ min: -900, max: 900 }).map((s) => new Date(now + s * 1000).toISOString()),
          fc.string(),
        ),
        request_id: mostly(fc.uuid()),
        parent_request_id: mostly(fc.option(fc.uuid())),
        sequence_number: mostly(fc.nat(), fc.double()),
      }),
    ),
    signature: mostly(
      fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: 64, maxLength: 64 }),
    ),
  },
  { requiredKeys: ["type", "sender", "recipient", "payload", "metadata"] },
);

describe("properties of handleMessage", () => {
  it("never throws and never reaches a handler, whatever JSON or near-message it is given", async () => {
    const before = handled;
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.anything(), json, messageLike, messageLike), async (value) => {
        expect(await receiver.handleMessage(value)).toBe(false);
      }),
      { numRuns: 1000 },
    );
    expect(handled).toBe(before);
    // The inputs got past the first checks too, or this property would prove little.
    const { rejected } = receiver.stats();
    for (const reason of ["malformed", "bad_signature", "stale", "misdirected"] as const) {
      expect(rejected[reason]).toBeGreaterThan(0);
    }
  });

  it("refuses any single change to a signed message (payload, metadata, type, sender)", async () => {
    const change = fc.oneof(
      fc.record({ where: fc.constant("payload"), key: fc.string({ maxLength: 8 }), value: fc.option(json) }),
      fc.record({
        where: fc.constant("metadata"),
        key: fc.constantFrom(
          "origin",
          "version",
          "timestamp",
          "request_id",
          "parent_request_id",
          "sequence_number",
        ),
        value: fc.oneof(fc.string(), fc.nat(), fc.uuid(), fc.constant(null)),
      }),
      fc.record({ where: fc.constant("type"), value: messageType }),
      fc.record({ where: fc.constant("sender"), value: fc.string({ minLength: 1 }) }),
    );
    await fc.assert(
      fc.asyncProperty(payload, messageType, change, async (body, type, edit) => {
        const original = sender.createMessage("receiver", body, type);
        const copy = structuredClone(original) as A2AMessage;
        if (edit.where === "payload") {
          if (edit.value === null) delete copy.payload[edit.key];
          else copy.payload[edit.key] = edit.value;
        } else if (edit.where === "metadata") {
          (copy.metadata as Record<string, unknown>)[edit.key] = edit.value;
        } else {
          (copy as unknown as Record<string, unknown>)[edit.where] = edit.value;
        }
        fc.pre(canonicalJson(copy) !== canonicalJson(original));
        const rejectedBefore = Object.values(receiver.stats().rejected).reduce((a, b) => a + b, 0);
        const handledBefore = handled;
        expect(await receiver.handleMessage(copy)).toBe(false);
        expect(handled).toBe(handledBefore);
        const rejectedAfter = Object.values(receiver.stats().rejected).reduce((a, b) => a + b, 0);
        expect(rejectedAfter).toBe(rejectedBefore + 1);
      }),
      { numRuns: 500 },
    );
  });

  it("accepts every signed message after a trip through the wire (JSON text), exactly once", async () => {
    await fc.assert(
      fc.asyncProperty(payload, messageType, async (body, type) => {
        const message = sender.createMessage("receiver", body, type);
        const wire = JSON.parse(JSON.stringify(message)) as unknown;
        expect(await receiver.handleMessage(wire)).toBe(true);
        expect(await receiver.handleMessage(JSON.parse(JSON.stringify(message)))).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});

describe("properties of canonicalJson", () => {
  it("keeps a member named __proto__ as a member (fast-check found this one)", () => {
    expect(canonicalJson(JSON.parse('{"b":1,"__proto__":false}'))).toBe('{"__proto__":false,"b":1}');
  });

  it("is a fixed point through JSON.parse and ignores member order", () => {
    fc.assert(
      fc.property(json, (value) => {
        const text = canonicalJson(value);
        expect(canonicalJson(JSON.parse(text))).toBe(text);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
        expect(canonicalJson(reversed(value))).toBe(text);
      }),
      { numRuns: 500 },
    );
  });
});

function reversed(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(reversed);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, JsonValue> = {};
  // defineProperty, not assignment: a member named "__proto__" must stay a member.
  for (const key of Object.keys(value).reverse()) {
    Object.defineProperty(out, key, {
      value: reversed(value[key] as JsonValue),
      enumerable: true,
      writable: true,
    });
  }
  return out;
}

describe("properties of canonical strings", () => {
  it("quotes every string exactly as JSON.stringify does, lone surrogates and controls included", () => {
    const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
    const text = fc.oneof(fc.string({ unit: codeUnit }), fc.string({ unit: "binary" }), fc.string());
    fc.assert(
      fc.property(text, (s) => {
        expect(canonicalJson(s)).toBe(JSON.stringify(s));
        expect(canonicalJson({ [s]: s })).toBe(`{${JSON.stringify(s)}:${JSON.stringify(s)}}`);
      }),
      { numRuns: 2000 },
    );
  });
});
