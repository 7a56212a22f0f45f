import { afterEach, describe, expect, it } from "vitest";
import { A2AClient } from "../../../src/core/messaging/client.js";
import { A2ARouter } from "../../../src/core/messaging/router.js";
import { type A2AMessage, MessageType } from "../../../src/core/messaging/types.js";
import { codeOf, signatureOf } from "./support.js";

const clients: A2AClient[] = [];
function agent(
  agentId: string,
  router: A2ARouter,
  extra: Partial<ConstructorParameters<typeof A2AClient>[0]> = {},
) {
  const client = new A2AClient({ agentId, tokenSecret: "secret", router, ...extra });
  clients.push(client);
  return client;
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

describe("A2AClient: the seed's usage example", () => {
  it("creates, sends responses and heartbeats, and runs registered handlers", async () => {
    const router = new A2ARouter();
    const client = agent("agent-1", router);
    const peer = agent("agent-2", router);
    const received: A2AMessage[] = [];
    peer.registerHandler(MessageType.RESPONSE, (m) => received.push(m));
    peer.registerHandler(MessageType.HEARTBEAT, (m) => received.push(m));

    const message = client.createMessage("agent-2", { action: "compute" }, MessageType.REQUEST);
    expect(message.type).toBe("request");
    const parentRequestId = message.metadata.request_id;
    await client.sendResponse("agent-2", parentRequestId, { result: 42 }, true);
    await client.sendHeartbeat("agent-2", { status: "active" });

    expect(received.map((m) => [m.type, m.payload])).toEqual([
      ["response", { success: true, data: { result: 42 }, error: null }],
      ["heartbeat", { status: { status: "active" } }],
    ]);
    expect(received[0]?.metadata.parent_request_id).toBe(parentRequestId);
  });
});

describe("A2AClient.createMessage", () => {
  it("writes exactly the seed's message format, signed over RFC 8785 JSON without the signature", () => {
    const client = agent("agent-1", new A2ARouter());
    const message = client.createMessage("agent-2", { key: "value" });
    expect(Object.keys(message)).toEqual(["type", "sender", "recipient", "payload", "metadata", "signature"]);
    expect(Object.keys(message.metadata)).toEqual([
      "origin",
      "version",
      "timestamp",
      "request_id",
      "parent_request_id",
      "sequence_number",
    ]);
    expect(message).toMatchObject({
      type: "request",
      sender: "agent-1",
      recipient: "agent-2",
      payload: { key: "value" },
      metadata: { origin: "agent-1", version: "v1", parent_request_id: null, sequence_number: 1 },
    });
    expect(message.metadata.request_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Math.abs(Date.parse(message.metadata.timestamp) - Date.now())).toBeLessThan(5000);
    expect(message.signature).toBe(signatureOf(message, "secret"));
    expect(client.sign(message)).toBe(message.signature);
    expect(client.verify(message)).toBe(true);
    expect(client.verify({ ...message, payload: { key: "other" } })).toBe(false);
  });

  it("counts sequence_number up by one per message, whatever its type", () => {
    const client = agent("agent-1", new A2ARouter());
    const seqs = [MessageType.REQUEST, MessageType.EVENT, MessageType.HEARTBEAT].map(
      (t) => client.createMessage("x", {}, t).metadata.sequence_number,
    );
    expect(seqs).toEqual([1, 2, 3]);
    expect(client.stats().created).toBe(3);
  });

  it.each([
    ["an empty recipient", (c: A2AClient) => c.createMessage("", {})],
    [
      "a payload that is an array",
      (c: A2AClient) => c.createMessage("x", [] as unknown as Record<string, never>),
    ],
    [
      "a Date in the payload",
      (c: A2AClient) => c.createMessage("x", { when: new Date() as unknown as string }),
    ],
    ["NaN in the payload", (c: A2AClient) => c.createMessage("x", { n: Number.NaN })],
    ["an unknown type", (c: A2AClient) => c.createMessage("x", {}, "gossip" as MessageType)],
    ["an empty parent", (c: A2AClient) => c.createMessage("x", {}, MessageType.RESPONSE, "")],
  ])("refuses %s with ERR_INVALID_MESSAGE", async (_what, make) => {
    const client = agent("agent-1", new A2ARouter());
    expect(await codeOf(() => make(client))).toBe("ERR_INVALID_MESSAGE");
    expect(client.stats().created).toBe(0);
  });

  it("says where the payload is wrong", () => {
    const client = agent("agent-1", new A2ARouter());
    expect(() => client.createMessage("x", { a: [1, { b: undefined as unknown as null }] })).toThrow(
      /payload\.a\[1\]\.b/,
    );
  });
});

describe("A2AClient.sendRequest", () => {
  it("resolves with the RESPONSE whose parent_request_id is the request's id", async () => {
    const router = new A2ARouter();
    const asker = agent("asker", router);
    const answerer = agent("answerer", router);
    answerer.registerHandler(MessageType.REQUEST, async (m) => {
      await answerer.sendEvent(m.sender, "noise", {}); // an unrelated message first
      await answerer.sendResponse(m.sender, m.metadata.request_id, { doubled: (m.payload.n as number) * 2 });
    });
    const [r1, r2] = await Promise.all([
      asker.sendRequest("answerer", { n: 1 }, 2000),
      asker.sendRequest("answerer", { n: 21 }, 2000),
    ]);
    expect(r1?.payload.data).toEqual({ doubled: 2 });
    expect(r2?.payload.data).toEqual({ doubled: 42 });
    expect(asker.stats().pendingRequests).toBe(0);
  });

  it("resolves null on timeout and leaves nothing pending; a late response goes to the RESPONSE handler", async () => {
    const router = new A2ARouter();
    const asker = agent("asker", router);
    const slow = agent("slow", router);
    const late: A2AMessage[] = [];
    asker.registerHandler(MessageType.RESPONSE, (m) => late.push(m));
    let requestId = "";
    slow.registerHandler(MessageType.REQUEST, (m) => {
      requestId = m.metadata.request_id;
    });
    expect(await asker.sendRequest("slow", {}, 30)).toBeNull();
    expect(asker.stats().pendingRequests).toBe(0);
    await slow.sendResponse("asker", requestId, { too: "late" });
    expect(late.map((m) => m.metadata.parent_request_id)).toEqual([requestId]);
  });

  it("does not take a response from an agent the request was not sent to", async () => {
    const router = new A2ARouter();
    const asker = agent("asker", router);
    const target = agent("target", router);
    const impostor = agent("impostor", router);
    const unsolicited: A2AMessage[] = [];
    asker.registerHandler(MessageType.RESPONSE, (m) => unsolicited.push(m));
    let requestId = "";
    target.registerHandler(MessageType.REQUEST, (m) => {
      requestId = m.metadata.request_id;
    });
    const reply = asker.sendRequest("target", {}, 100);
    await new Promise((r) => setImmediate(r));
    await impostor.sendResponse("asker", requestId, { forged: true });
    expect(await reply).toBeNull();
    expect(unsolicited.map((m) => m.sender)).toEqual(["impostor"]);
  });

  it("rejects at once when the request cannot be delivered", async () => {
    const asker = agent("asker", new A2ARouter());
    expect(await codeOf(() => asker.sendRequest("nobody", {}, 5000))).toBe("ERR_A2A_NO_ROUTE");
    expect(asker.stats().pendingRequests).toBe(0);
  });

  it("refuses more than maxPendingRequests waiting at once", async () => {
    const router = new A2ARouter();
    const asker = agent("asker", router, { maxPendingRequests: 2 });
    agent("silent", router);
    const waiting = [asker.sendRequest("silent", {}, 100), asker.sendRequest("silent", {}, 100)];
    expect(await codeOf(() => asker.sendRequest("silent", {}, 100))).toBe("ERR_A2A_TOO_MANY_PENDING");
    expect(await Promise.all(waiting)).toEqual([null, null]);
    expect(asker.stats().pendingRequests).toBe(0);
  });

  it("answers waiting requests with null when the client closes", async () => {
    const router = new A2ARouter();
    const asker = agent("asker", router);
    agent("silent", router);
    const reply = asker.sendRequest("silent", {}, 60_000);
    await asker.close();
    expect(await reply).toBeNull();
    expect(await codeOf(() => asker.sendEvent("silent", "x", {}))).toBe("ERR_A2A_CLOSED");
  });
});

describe("A2AClient payloads of the seed's send helpers", () => {
  it("sendResponse(success=false) carries the payload as error; sendEvent carries type and data", async () => {
    const router = new A2ARouter();
    const a = agent("a", router);
    const b = agent("b", router);
    const got: A2AMessage[] = [];
    b.registerHandler(MessageType.RESPONSE, (m) => got.push(m));
    b.registerHandler(MessageType.EVENT, (m) => got.push(m));
    const sent = await a.sendResponse("b", "11111111-1111-4111-8111-111111111111", { reason: "nope" }, false);
    await a.sendEvent("b", "task_done", { task_id: "t1" });
    expect(sent.type).toBe(MessageType.RESPONSE);
    expect(got.map((m) => m.payload)).toEqual([
      { success: false, data: null, error: { reason: "nope" } },
      { event_type: "task_done", event_data: { task_id: "t1" } },
    ]);
  });
});

describe("A2AClient handlers", () => {
  it("a handler that throws makes handleMessage false, is counted and reported, and the sender still succeeds", async () => {
    const router = new A2ARouter();
    const errors: unknown[] = [];
    const a = agent("a", router);
    const b = agent("b", router, { onHandlerError: (e) => errors.push(e.error) });
    b.registerHandler(MessageType.EVENT, () => {
      throw new Error("handler bug");
    });
    await a.sendEvent("b", "x", {});
    await new Promise((r) => setImmediate(r));
    expect(b.stats().handlerErrors).toBe(1);
    expect(String(errors[0])).toMatch(/handler bug/);
    expect(await b.handleMessage(a.createMessage("b", {}, MessageType.EVENT))).toBe(false);
    expect(b.stats().handlerErrors).toBe(2);
  });

  it("a message with no handler for its type is accepted, counted as unhandled, and handleMessage is false", async () => {
    const router = new A2ARouter();
    const a = agent("a", router);
    const b = agent("b", router);
    expect(await b.handleMessage(a.createMessage("b", {}, MessageType.ACK))).toBe(false);
    expect(b.stats()).toMatchObject({ accepted: 1, unhandled: 1 });
  });
});

describe("A2AClient key rotation", () => {
  it("accepts the previous secret during a rollover and reports which key verified", async () => {
    const router = new A2ARouter({ signed: true });
    const oldSender = agent("old-sender", router, { tokenSecret: "s-2025", keyId: "2025" });
    const receiver = agent("receiver", router, {
      tokenSecret: "s-2026",
      keyId: "2026",
      previousSecrets: { "2025": "s-2025" },
    });
    const newSender = agent("new-sender", router, { tokenSecret: "s-2026", keyId: "2026" });
    const got: string[] = [];
    receiver.registerHandler(MessageType.EVENT, (m) => got.push(m.sender));
    await oldSender.sendEvent("receiver", "x", {});
    await newSender.sendEvent("receiver", "x", {});
    expect(got).toEqual(["old-sender", "new-sender"]);
    expect(receiver.stats().verifiedByKey).toEqual({ "2025": 1, "2026": 1 });

    receiver.keyring.retire("2025");
    expect(await codeOf(() => oldSender.sendEvent("receiver", "x", {}))).toBe("ERR_A2A_REJECTED");
    expect(receiver.stats().rejected.bad_signature).toBe(1);
  });
});

describe("A2AClient config", () => {
  it.each([
    [{ agentId: "", tokenSecret: "s" }],
    [{ agentId: "a", tokenSecret: "" }],
    [{ agentId: "a", tokenSecret: "s", agentPort: 70000 }],
    [{ agentId: "a", tokenSecret: "s", maxClockSkewSeconds: -1 }],
    [{ agentId: "a", tokenSecret: "s", sendTimeoutMs: 400_000 }],
    [{ agentId: "a", tokenSecret: "s", maxBatchMessages: 5000 }],
    [{ agentId: "a", tokenSecret: "s", peers: { b: "ftp://x" } }],
  ])("refuses %j with ERR_INVALID_CONFIG", async (config) => {
    expect(await codeOf(() => new A2AClient({ ...config, router: null }))).toBe("ERR_INVALID_CONFIG");
  });
});
