import { afterEach, describe, expect, it } from "vitest";
import { isTriadError } from "../../../src/core/errors.js";
import { A2AClient } from "../../../src/core/messaging/client.js";
import type { A2AConfig } from "../../../src/core/messaging/config.js";
import { type A2AMessage, MessageType } from "../../../src/core/messaging/types.js";
import { freePort } from "../../helpers/free-port.js";
import { until } from "../../helpers/wait.js";
import { rawChunkedPost, rawPost } from "./raw-http.js";

const clients: A2AClient[] = [];
const anyAgent = agent;
const anyPair = pair;
function agent(agentId: string, extra: Partial<A2AConfig> = {}) {
  const client = new A2AClient({ agentId, tokenSecret: "secret", router: null, ...extra });
  clients.push(client);
  return client;
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

/** Two agents that know each other only by URL. */
async function pair(extraB: Partial<A2AConfig> = {}, extraA: Partial<A2AConfig> = {}) {
  const a = agent("a", extraA);
  const b = agent("b", extraB);
  const [la, lb] = [await a.listen(), await b.listen()];
  a.setPeer("b", lb.url);
  b.setPeer("a", la.url);
  return { a, b, bUrl: `${lb.url}/a2a` };
}

async function failure(work: Promise<unknown>): Promise<{ code: string; details: Record<string, unknown> }> {
  try {
    await work;
  } catch (err) {
    if (isTriadError(err)) return { code: err.code, details: err.details ?? {} };
    throw err;
  }
  throw new Error("expected a failure");
}

// Every behaviour of the transport holds for both ways of carrying batches: a POST each, and
// one message stream per peer (the default).
describe.each([
  { way: "POST /a2a", streams: false },
  { way: "a message stream", streams: true },
])("A2A over HTTP ($way)", ({ streams }) => {
  function agent(agentId: string, extra: Partial<A2AConfig> = {}) {
    return anyAgent(agentId, { streams, ...extra });
  }
  async function pair(extraB: Partial<A2AConfig> = {}) {
    return anyPair({ streams, ...extraB }, { streams });
  }

  it("listens on a free port when agentPort is 0 and reports it", async () => {
    const a = agent("a");
    const [{ host, port, url }, second] = await Promise.all([a.listen(), a.listen()]);
    expect(second.port).toBe(port); // concurrent calls share one server
    a.setPeer("self", url);
    expect(a.peerUrl("self")).toBe(url);
    expect(a.removePeer("self")).toBe(true);
    expect(a.peerUrl("self")).toBeUndefined();
    expect(host).toBe("127.0.0.1");
    expect(port).toBeGreaterThan(0);
    expect(url).toBe(`http://127.0.0.1:${port}`);
    expect(a.url).toBe(url);
    expect(await a.listen()).toEqual({ host, port, url });
  });

  it("refuses to listen on a port in use with ERR_A2A_LISTEN", async () => {
    const { port } = await agent("a").listen();
    const { code } = await failure(agent("b", { agentPort: port }).listen());
    expect(code).toBe("ERR_A2A_LISTEN");
  });

  it("close() stops listening, refuses what is still queued and frees the port", async () => {
    const port = await freePort();
    const down = agent("down", { agentPort: port });
    const { url } = await down.listen();
    await down.close();
    const a = agent("a", { peers: { down: url } });
    const queued = a.sendEvent("down", "x", {}).catch((e: unknown) => e);
    // Refused connections: it waits in the queue, retried (a window of the scenario, so a fixed wait).
    await new Promise((r) => setTimeout(r, 50));
    await a.close();
    expect(isTriadError(await queued, "ERR_A2A_CLOSED")).toBe(true);
    const again = agent("again", { agentPort: port });
    expect((await again.listen()).port).toBe(port);
  });

  it("carries a request and its response between two agents", async () => {
    const { a, b } = await pair();
    b.registerHandler(MessageType.REQUEST, (m) =>
      b.sendResponse(m.sender, m.metadata.request_id, { pong: m.payload }),
    );
    const reply = await a.sendRequest("b", { ping: 1 }, 5000);
    expect(reply?.payload).toEqual({ success: true, data: { pong: { ping: 1 } }, error: null });
    const { http } = a.stats();
    if (streams) {
      expect([http.posts, http.streamsOpened, http.messagesStreamed]).toEqual([0, 1, 1]);
    } else {
      expect([http.posts, http.streamsOpened]).toEqual([1, 0]);
    }
    // One POST, or one upgrade and one chunk of lines read.
    expect(b.stats().http.requestsServed).toBe(streams ? 2 : 1);
  });

  it("batches the messages sent to one peer in the same tick into few POSTs", async () => {
    const { a, b } = await pair();
    const got: number[] = [];
    b.registerHandler(MessageType.EVENT, (m) => got.push((m.payload.event_data as { n: number }).n));
    await Promise.all(Array.from({ length: 250 }, (_, n) => a.sendEvent("b", "tick", { n })));
    expect(got.sort((x, y) => x - y)).toEqual(Array.from({ length: 250 }, (_, n) => n));
    const { posts, messagesPosted, streamWrites, messagesStreamed } = a.stats().http;
    if (streams) {
      expect([posts, messagesStreamed]).toEqual([0, 250]);
      expect(streamWrites).toBeLessThanOrEqual(3); // all that waits, up to 8 × 100 unanswered, per write
    } else {
      expect([streamWrites, messagesPosted]).toEqual([0, 250]);
      expect(posts).toBeLessThanOrEqual(3); // 100 per POST at most
    }
  });

  it("retries with the same request id until the peer comes up, and it is handled once", async () => {
    const port = await freePort();
    const a = agent("a", { peers: { late: `http://127.0.0.1:${port}` } });
    const sending = a.sendEvent("late", "hello", {});
    // The peer is down a while, its connections refused and retried: the scenario's length.
    await new Promise((r) => setTimeout(r, 300));
    const late = agent("late", { agentPort: port });
    const got: A2AMessage[] = [];
    late.registerHandler(MessageType.EVENT, (m) => got.push(m));
    await late.listen();
    const sent = await sending;
    expect(got.map((m) => m.metadata.request_id)).toEqual([sent.metadata.request_id]);
    expect(a.stats().http.retries).toBeGreaterThan(0);
  });

  it("gives up on an unreachable peer after sendTimeoutMs with ERR_A2A_UNREACHABLE", async () => {
    const port = await freePort();
    const a = agent("a", { peers: { gone: `http://127.0.0.1:${port}` }, sendTimeoutMs: 300 });
    const { code, details } = await failure(a.sendEvent("gone", "x", {}));
    expect(code).toBe("ERR_A2A_UNREACHABLE");
    expect(String(details.lastError)).toMatch(/ECONNREFUSED/);
    expect(a.stats().http.undelivered).toBe(1);
  });

  it("refuses to queue more than maxQueuedPerPeer for a peer that is down", async () => {
    const port = await freePort();
    const a = agent("a", {
      peers: { gone: `http://127.0.0.1:${port}` },
      sendTimeoutMs: 200,
      maxQueuedPerPeer: 2,
    });
    const first = a.sendEvent("gone", "x", {}).catch((e: unknown) => e);
    const second = a.sendEvent("gone", "x", {}).catch((e: unknown) => e);
    expect((await failure(a.sendEvent("gone", "x", {}))).code).toBe("ERR_A2A_QUEUE_FULL");
    expect(isTriadError(await first, "ERR_A2A_UNREACHABLE")).toBe(true);
    expect(isTriadError(await second, "ERR_A2A_UNREACHABLE")).toBe(true);
    expect(a.stats().http.queued).toBe(0);
  });

  it("refuses locally a message bigger than the body limit (ERR_A2A_TOO_LARGE), sending nothing", async () => {
    const { a } = await pair();
    const { code } = await failure(a.sendEvent("b", "big", { blob: "x".repeat(1024 * 1024) }));
    expect(code).toBe("ERR_A2A_TOO_LARGE");
    expect(a.stats().http.posts).toBe(0);
  });

  it("reports a refusal by the peer as ERR_A2A_REJECTED with its reason (wrong secret: 401)", async () => {
    const { a } = await pair({ tokenSecret: "another-secret" });
    const { code, details } = await failure(a.sendEvent("b", "x", {}));
    expect(code).toBe("ERR_A2A_REJECTED");
    expect(details).toMatchObject({ reason: "bad_signature", status: 401 });
  });

  it("waits out a busy peer (503) and delivers", async () => {
    const { a, b } = await pair({ maxConcurrentHandlers: 1 });
    let release: () => void = () => undefined;
    const blocked = new Promise<void>((r) => {
      release = r;
    });
    const got: number[] = [];
    b.registerHandler(MessageType.EVENT, async (m) => {
      got.push((m.payload.event_data as { n: number }).n);
      if (got.length === 1) await blocked;
    });
    await a.sendEvent("b", "e", { n: 1 });
    const second = a.sendEvent("b", "e", { n: 2 });
    // A negative check: the second is not handled while the first's handler is held.
    await new Promise((r) => setTimeout(r, 100));
    expect(got).toEqual([1]);
    release();
    await second;
    expect(got).toEqual([1, 2]);
    expect(b.stats().rejected.busy).toBeGreaterThan(0);
    expect(a.stats().http.retries).toBeGreaterThan(0);
  });
});

describe("POST /a2a refuses bad input with a 4xx and an ERROR receipt", () => {
  it("413 for a body over maxBodyBytes, declared or streamed, and keeps serving", async () => {
    const b = agent("b", { maxBodyBytes: 64 * 1024 });
    const { url, port } = await b.listen();
    const declared = await rawPost(`${url}/a2a`, Buffer.alloc(1024 * 1024, 0x20));
    const streamed = await rawChunkedPost("127.0.0.1", port, "/a2a", " ".repeat(16 * 1024), 16);
    for (const reply of [declared, streamed]) {
      expect(reply.status).toBe(413);
      expect(reply.json).toMatchObject({ type: "error", sender: "b", payload: { error: "too_large" } });
    }
    expect(b.stats().rejected.too_large).toBe(2);
    const a = agent("a", { peers: { b: url } });
    await a.sendEvent("b", "still", {});
    expect(b.stats().accepted).toBe(1);
  });

  it("400 for a body that is not JSON or not a message; 415, 405 and 404 for the wrong request", async () => {
    const b = agent("b");
    const { url } = await b.listen();
    expect((await rawPost(`${url}/a2a`, "{not json")).status).toBe(400);
    const notMessage = await rawPost(`${url}/a2a`, JSON.stringify({ hello: "world" }));
    expect(notMessage.status).toBe(400);
    expect(notMessage.json).toMatchObject({ type: "error", payload: { error: "malformed" } });
    expect((await rawPost(`${url}/a2a`, "[]")).status).toBe(400);
    expect((await rawPost(`${url}/a2a`, "{}", { "content-type": "text/plain" })).status).toBe(415);
    expect((await fetch(`${url}/a2a`, { method: "DELETE" })).status).toBe(405);
    expect((await rawPost(`${url}/elsewhere`, "{}")).status).toBe(404);
    expect(b.stats().rejected.malformed).toBe(4);
  });

  it("421 for a message addressed to another agent", async () => {
    const { a, bUrl } = await pair();
    const reply = await rawPost(bUrl, JSON.stringify(a.createMessage("c", {})));
    expect(reply.status).toBe(421);
    expect(reply.json).toMatchObject({ payload: { error: "misdirected" } });
  });

  it("takes the good messages of a mixed batch (202) and lists the refused ones by index", async () => {
    const { a, b, bUrl } = await pair();
    const got: string[] = [];
    b.registerHandler(MessageType.EVENT, (m) => got.push(m.metadata.request_id));
    const good1 = a.createMessage("b", {}, MessageType.EVENT);
    const forged = { ...a.createMessage("b", {}, MessageType.EVENT), payload: { injected: true } };
    const good2 = a.createMessage("b", {}, MessageType.EVENT);
    const reply = await rawPost(bUrl, JSON.stringify([good1, forged, "junk", good2]));
    expect(reply.status).toBe(202);
    expect(reply.json).toMatchObject({
      type: "ack",
      payload: {
        accepted: [good1.metadata.request_id, good2.metadata.request_id],
        rejected: [
          { index: 1, reason: "bad_signature", request_id: forged.metadata.request_id },
          { index: 2, reason: "malformed", request_id: null },
        ],
      },
    });
    expect(got).toEqual([good1.metadata.request_id, good2.metadata.request_id]);
  });

  it("reads a signed body past one leading UTF-8 byte order mark (not part of what is signed); two are malformed", async () => {
    const { a, b, bUrl } = await pair();
    let handled = 0;
    b.registerHandler(MessageType.EVENT, () => {
      handled++;
    });
    const one = await rawPost(bUrl, `\uFEFF${JSON.stringify(a.createMessage("b", {}, MessageType.EVENT))}`);
    expect(one.status).toBe(202);
    const batch = [a.createMessage("b", {}, MessageType.EVENT), a.createMessage("b", {}, MessageType.EVENT)];
    expect((await rawPost(bUrl, `\uFEFF${JSON.stringify(batch)}`)).status).toBe(202);
    const two = await rawPost(
      bUrl,
      `\uFEFF\uFEFF${JSON.stringify(a.createMessage("b", {}, MessageType.EVENT))}`,
    );
    expect(two.status).toBe(400);
    expect(two.json).toMatchObject({ type: "error", payload: { error: "malformed" } });
    await until("the three accepted are handled", () => handled >= 3, 5_000, 5);
    expect(handled).toBe(3);
  });

  it("acknowledges a re-sent message again (202, listed as duplicate) and handles it once", async () => {
    const { a, b, bUrl } = await pair();
    let handled = 0;
    b.registerHandler(MessageType.EVENT, () => {
      handled++;
    });
    const body = JSON.stringify(a.createMessage("b", {}, MessageType.EVENT));
    const first = await rawPost(bUrl, body);
    const again = await rawPost(bUrl, body);
    expect([first.status, again.status]).toEqual([202, 202]);
    expect(again.json).toMatchObject({
      type: "ack",
      payload: { accepted: [], duplicates: [expect.any(String)] },
    });
    expect(handled).toBe(1);
    expect(b.stats()).toMatchObject({ accepted: 1, duplicates: 1 });
  });

  it("sends unsigned receipts, which no agent will accept as a message", async () => {
    const { a, b, bUrl } = await pair();
    const reply = await rawPost(bUrl, JSON.stringify(a.createMessage("b", {}, MessageType.EVENT)));
    expect(reply.json?.signature).toBe("");
    expect(await a.handleMessage(reply.json)).toBe(false);
    expect(a.stats().rejected.bad_signature).toBe(1);
    void b;
  });
});
