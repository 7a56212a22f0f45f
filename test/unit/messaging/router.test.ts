import { afterEach, describe, expect, it } from "vitest";
import { isTriadError } from "../../../src/core/errors.js";
import { A2AClient } from "../../../src/core/messaging/client.js";
import { A2ARouter, defaultRouter } from "../../../src/core/messaging/router.js";
import { type A2AMessage, MessageType } from "../../../src/core/messaging/types.js";

const clients: A2AClient[] = [];
function agent(agentId: string, extra: Partial<ConstructorParameters<typeof A2AClient>[0]> = {}) {
  const client = new A2AClient({ agentId, tokenSecret: "secret", ...extra });
  clients.push(client);
  return client;
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

describe("agents created in one process with no transport configured", () => {
  it("find each other through the process-wide router (the seed's Integration Example)", async () => {
    const coordinator = agent("coordinator-1");
    const distributor = agent("distributor-1");
    const worker = agent("worker-1");
    expect(defaultRouter().hasAgent("worker-1")).toBe(true);
    worker.registerHandler(MessageType.REQUEST, (m) =>
      worker.sendResponse(m.sender, m.metadata.request_id, {
        result: "done",
        task: m.payload.task_id ?? null,
      }),
    );
    distributor.registerHandler(MessageType.REQUEST, async (m) => {
      const answer = await distributor.sendRequest("worker-1", m.payload, 1000);
      await distributor.sendResponse(m.sender, m.metadata.request_id, answer?.payload ?? {}, answer !== null);
    });
    const reply = await coordinator.sendRequest("distributor-1", { task_id: "task-1" }, 1000);
    expect(reply?.payload).toEqual({
      success: true,
      data: { success: true, data: { result: "done", task: "task-1" }, error: null },
      error: null,
    });
  });

  it("leave the router when closed, and a newer client with the same id keeps its place", async () => {
    const first = agent("twin");
    const second = agent("twin");
    await first.close();
    expect(defaultRouter().hasAgent("twin")).toBe(true);
    await second.close();
    expect(defaultRouter().hasAgent("twin")).toBe(false);
  });
});

describe("A2ARouter", () => {
  it("routeMessage resolves with the recipient's handleMessage verdict", async () => {
    const router = new A2ARouter();
    const a = agent("a", { router });
    const b = agent("b", { router });
    b.registerHandler(MessageType.EVENT, () => undefined);
    const message = a.createMessage("b", {}, MessageType.EVENT);
    expect(await router.routeMessage(message)).toBe(true);
    expect(await router.routeMessage(message)).toBe(false); // the same request id again
    expect(await router.routeMessage({ ...message, signature: "0".repeat(64) })).toBe(false);
  });

  it("delivers a copy: a handler that mutates the message cannot touch the sender's object", async () => {
    const router = new A2ARouter();
    const a = agent("a", { router });
    const b = agent("b", { router });
    b.registerHandler(MessageType.EVENT, (m) => {
      (m.payload as Record<string, unknown>).mutated = true;
    });
    const message = a.createMessage("b", { n: 1 }, MessageType.EVENT);
    await router.routeMessage(message);
    expect(message.payload).toEqual({ n: 1 });
    expect(a.verify(message)).toBe(true);
  });

  it("holds messages for an agent that is not registered; getMessages takes them once, oldest first", async () => {
    const router = new A2ARouter();
    const a = agent("a", { router });
    const first = a.createMessage("absent", { n: 1 });
    const second = a.createMessage("absent", { n: 2 });
    expect(await router.routeMessage(first)).toBe(false);
    let caught: unknown;
    await a.send(second).catch((err: unknown) => {
      caught = err;
    });
    expect(isTriadError(caught, "ERR_A2A_NO_ROUTE")).toBe(true);
    const held = router.getMessages("absent");
    expect(held.map((m: A2AMessage) => m.payload.n)).toEqual([1, 2]);
    expect(held[0]).toEqual(first);
    expect(router.getMessages("absent")).toEqual([]);
  });

  it("bounds what it holds, per agent and in agents, counting what it dropped", async () => {
    const router = new A2ARouter({ maxHeldPerAgent: 3, maxHeldAgents: 2 });
    const a = agent("a", { router });
    for (let n = 0; n < 5; n++) await router.routeMessage(a.createMessage("x", { n }));
    expect(router.getMessages("x").map((m) => m.payload.n)).toEqual([2, 3, 4]);
    expect(router.dropped).toBe(2);
    await router.routeMessage(a.createMessage("p", {}));
    await router.routeMessage(a.createMessage("q", {}));
    await router.routeMessage(a.createMessage("r", {}));
    expect(router.getMessages("p")).toEqual([]);
    expect(router.getMessages("r")).toHaveLength(1);
    expect(router.dropped).toBe(3);
  });

  it("a sender waits out a receiver that is busy (maxConcurrentHandlers) instead of losing the message", async () => {
    const router = new A2ARouter();
    const a = agent("a", { router });
    const b = agent("b", { router, maxConcurrentHandlers: 1 });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const order: number[] = [];
    b.registerHandler(MessageType.EVENT, async (m) => {
      order.push((m.payload.event_data as { n: number }).n);
      if (order.length === 1) await gate;
    });
    await a.sendEvent("b", "e", { n: 1 }); // accepted; its handler now blocks
    const second = a.sendEvent("b", "e", { n: 2 });
    await new Promise((r) => setTimeout(r, 30));
    expect(order).toEqual([1]);
    expect(b.stats().rejected.busy).toBeGreaterThan(0);
    release();
    await second;
    expect(order).toEqual([1, 2]);
  });
});
