import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { A2AClient, type A2AMessage, MessageType } from "../../src/index.js";
import { FaultProxy, type MessageFaults } from "../helpers/faults.js";

/**
 * The fault proxy is a test tool the chaos suite trusts, so it is tested too: between two real
 * A2A clients over HTTP, each fault does what it says — and the receiver's request-id dedup and
 * the sender's retries do the rest.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("the fault proxy between two A2A agents", () => {
  const closing: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of closing.splice(0)) await close();
  });

  async function link(faults: MessageFaults, random?: () => number) {
    const rx = new A2AClient({ agentId: "rx", tokenSecret: "s", router: null });
    const received: A2AMessage[] = [];
    rx.registerHandler(MessageType.EVENT, (m) => {
      received.push(m);
    });
    const { url } = await rx.listen();
    const proxy = await FaultProxy.start(url, faults, random ? { random } : {});
    const tx = new A2AClient({ agentId: "tx", tokenSecret: "s", router: null, sendTimeoutMs: 5000 });
    tx.setPeer("rx", proxy.url);
    closing.push(
      () => tx.close(),
      () => proxy.close(),
      () => rx.close(),
    );
    const send = (n: number) => tx.sendEvent("rx", "ping", { n });
    return { rx, tx, proxy, received, send };
  }

  it("passes messages and other requests through untouched, and keeps what it saw", async () => {
    const { tx, proxy, received, send } = await link({});
    await send(1);
    expect(received.map((m) => m.payload.event_data)).toEqual([{ n: 1 }]);
    expect(tx.stats().http.streamsOpened).toBe(1); // the sender's message stream ends at the proxy
    expect(proxy.captured).toHaveLength(1);
    expect(await (await fetch(`${proxy.url}/a2a`)).json()).toMatchObject({ agent_id: "rx" });
    expect(proxy.injected).toBe(0);
  });

  it("keeps a character whole when a stream's chunk ends inside it", async () => {
    const { tx, proxy, received } = await link({});
    const bytes = Buffer.from(
      `${JSON.stringify(tx.createMessage("rx", { word: "héllo" }, MessageType.EVENT))}\n`,
    );
    const cut = bytes.indexOf(0xc3) + 1; // between the two bytes of "é"
    const socket = connect(Number(new URL(proxy.url).port), "127.0.0.1");
    socket.write("GET /a2a HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: triad-a2a-stream\r\n\r\n");
    socket.write(bytes.subarray(0, cut));
    await sleep(30);
    socket.write(bytes.subarray(cut));
    while (received.length === 0) await sleep(10);
    socket.destroy();
    expect(received[0]?.payload).toEqual({ word: "héllo" });
  });

  it("drops: the sender is told it was delivered, the receiver never sees it", async () => {
    const { proxy, received, send } = await link({ drop: 1 });
    await send(1);
    await sleep(100);
    expect(received).toEqual([]);
    expect(proxy.counts.dropped).toBe(1);
  });

  it("duplicates: the copy arrives too, and the receiver takes it once by its request id", async () => {
    const { rx, proxy, received, send } = await link({ duplicate: 1 });
    await send(1);
    await sleep(200);
    expect(received).toHaveLength(1);
    expect(rx.stats().duplicates).toBe(1);
    expect(proxy.counts.duplicated).toBe(1);
  });

  it("delays: the message arrives later, after one sent after it", async () => {
    const { proxy, received, send } = await link({ delay: 1, delayMs: [150, 150] });
    await send(1); // resolved at once: the proxy took it
    proxy.faults = {};
    await send(2);
    await sleep(300);
    expect(received.map((m) => (m.payload.event_data as { n: number }).n)).toEqual([2, 1]);
    expect(proxy.counts.delayed).toBe(1);
  });

  it("reorders the messages of one POST", async () => {
    const { proxy, received, send } = await link({ reorder: 1 }, () => 0);
    await Promise.all([1, 2, 3, 4, 5].map(send)); // sent in one tick: one POST
    await sleep(50);
    const order = received.map((m) => (m.payload.event_data as { n: number }).n);
    expect([...order].sort()).toEqual([1, 2, 3, 4, 5]);
    expect(order).not.toEqual([1, 2, 3, 4, 5]);
    expect(proxy.counts.reordered).toBe(1);
  });

  it("partitions: what an isolated sender sends is cut off until the partition heals", async () => {
    const { proxy, received, send } = await link({ isolate: ["tx"] });
    const sent = send(1);
    while (proxy.counts.partitioned === 0) await sleep(10);
    await sleep(100);
    expect(received).toEqual([]);
    proxy.faults = {};
    await sent; // the sender retried, with the same request id, until it got through
    expect(received).toHaveLength(1);
  });

  it("reorders: a chunk held back is overtaken by the next", async () => {
    let rolls = 0;
    // The first POST rolls "reorder" (0 < 1), the second does not (1 is never < 1).
    const { proxy, received, send } = await link({ reorder: 1 }, () => (rolls++ === 0 ? 0 : 1));
    const first = send(1);
    // The first chunk must reach the proxy (and roll) first: on a loaded machine opening the
    // sender's stream can take longer than any fixed wait.
    while (proxy.counts.reordered === 0) await sleep(2);
    await send(2);
    await first;
    expect(received.map((m) => (m.payload.event_data as { n: number }).n)).toEqual([2, 1]);
    expect(proxy.counts.reordered).toBe(1);
  });

  it("refuses a POST (503) or loses its reply: the sender retries, the receiver handles it once", async () => {
    for (const faults of [{ failPost: 1 }, { loseReply: 1 }] as MessageFaults[]) {
      const { rx, proxy, received, send } = await link(faults);
      const sent = send(1);
      while (proxy.injected === 0) await sleep(10);
      proxy.faults = {};
      await sent;
      await sleep(50);
      expect(received).toHaveLength(1);
      expect(rx.stats().duplicates).toBe(faults.loseReply ? 1 : 0);
    }
  });
});
