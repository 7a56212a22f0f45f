import { request } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { A2AClient } from "../../../src/core/messaging/client.js";
import type { A2AConfig } from "../../../src/core/messaging/config.js";
import type { PayloadCodec } from "../../../src/core/messaging/payload-codec.js";
import type { RejectionEvent } from "../../../src/core/messaging/rejections.js";
import { type A2AMessage, MessageType } from "../../../src/core/messaging/types.js";
import { until } from "../../helpers/wait.js";

/**
 * A payload codec (src/core/messaging/payload-codec.ts) shortens payloads between processes: a
 * receiver announces it on its message stream's 101, a sender encodes only for a peer that did,
 * and every admitted message is decoded once its signature held. Here over real HTTP streams
 * between two clients, with a codec of the test's own (the messaging layer knows no agent's).
 */

/** Writes { words: [...] } as { joined: "a b c" } for event "say". */
const JOIN: PayloadCodec = {
  name: "join-1",
  encode(payload) {
    const data = payload.event_data as { words?: string[] } | undefined;
    if (payload.event_type !== "say" || !Array.isArray(data?.words)) return payload;
    return { ...payload, event_data: { joined: data.words.join(" ") } };
  },
  decode(payload) {
    const data = payload.event_data as { joined?: unknown } | undefined;
    if (data?.joined === undefined) return payload;
    if (typeof data.joined !== "string") throw new Error("joined must be a string");
    return { ...payload, event_data: { words: data.joined.split(" ") } };
  },
};

const clients: A2AClient[] = [];
function agent(agentId: string, extra: Partial<A2AConfig> = {}) {
  const client = new A2AClient({ agentId, tokenSecret: "codec-secret", router: null, ...extra });
  clients.push(client);
  return client;
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

/** A receiver that records what its handler saw, and the payload codec spy's decode inputs. */
async function receiver(codec?: PayloadCodec) {
  const seen: A2AMessage[] = [];
  const wire: Array<Record<string, unknown>> = [];
  const spy: PayloadCodec | undefined = codec && {
    name: codec.name,
    encode: codec.encode,
    decode: (payload) => {
      wire.push(payload);
      return codec.decode(payload);
    },
  };
  const b = agent("b", spy ? { payloadCodec: spy } : {});
  b.registerHandler(MessageType.EVENT, (m) => {
    seen.push(m);
  });
  const { url } = await b.listen();
  return { b, url, seen, wire };
}

describe("payload codecs between processes", () => {
  it("announces the codec on the stream's 101", async () => {
    const { url } = await receiver(JOIN);
    const headers = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const req = request(`${url}/a2a`, { headers: { Connection: "Upgrade", Upgrade: "triad-a2a-stream" } });
      req.on("upgrade", (res, socket) => {
        socket.destroy();
        resolve(res.headers);
      });
      req.on("error", reject);
      req.end();
    });
    expect(headers["triad-payload-codec"]).toBe("join-1");
  });

  it("encodes for a peer that announced it, and the handler sees the payload as it was meant", async () => {
    const { url, seen, wire } = await receiver(JOIN);
    const a = agent("a", { payloadCodec: JOIN, peers: { b: url } });
    // The first message opens the stream: sent before the peer was heard, it goes as it is.
    await a.sendEvent("b", "say", { words: ["first", "one"] });
    await a.sendEvent("b", "say", { words: ["hello", "packed", "world"] });
    await until("two messages", () => seen.length === 2, 5000, 10);
    expect(seen.map((m) => m.payload.event_data)).toEqual([
      { words: ["first", "one"] },
      { words: ["hello", "packed", "world"] },
    ]);
    expect(wire.map((p) => p.event_data)).toEqual([
      { words: ["first", "one"] },
      { joined: "hello packed world" },
    ]);
  });

  it("sends a peer that announced nothing (an older one) the payload as it is", async () => {
    const { url, seen } = await receiver();
    const a = agent("a", { payloadCodec: JOIN, peers: { b: url } });
    for (let i = 0; i < 3; i++) await a.sendEvent("b", "say", { words: ["plain", String(i)] });
    await until("three messages", () => seen.length === 3, 5000, 10);
    expect(seen.map((m) => m.payload.event_data)).toEqual(
      [0, 1, 2].map((i) => ({ words: ["plain", String(i)] })),
    );
  });

  it("refuses, as malformed and naming the codec, a signed message whose encoded payload cannot be read", async () => {
    const { url, seen, b } = await receiver(JOIN);
    const refused: RejectionEvent[] = [];
    b.onRejected((e) => refused.push(e));
    const a = agent("a", { peers: { b: url } });
    await expect(a.sendEvent("b", "say", { joined: 42 })).rejects.toThrow(/malformed/);
    expect(refused).toMatchObject([
      {
        reason: "malformed",
        detail: expect.stringMatching(/payload cannot be read \(join-1: joined must be a string\)/),
      },
    ]);
    // The receiver goes on serving.
    await a.sendEvent("b", "say", { words: ["still", "here"] });
    await until("the next message", () => seen.length === 1, 5000, 10);
  });
});

describe("payload codec settings", () => {
  it("refuses a codec whose name could not go in a header", () => {
    const codec = { ...JOIN, name: "join\r\nX-Evil: 1" };
    expect(() => agent("bad", { payloadCodec: codec })).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_CONFIG", message: expect.stringMatching(/payloadCodec/) }),
    );
  });
});
