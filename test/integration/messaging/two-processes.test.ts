import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { A2AClient } from "../../../src/core/messaging/client.js";
import { MessageType } from "../../../src/core/messaging/types.js";
import { freePort } from "../../helpers/free-port.js";
import { handMade } from "../../unit/messaging/support.js";
import { AgentProcess } from "./agent-process.js";
import { rawPost } from "./raw-http.js";

const SECRET = "two-process-secret";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("A2A between two OS processes over real HTTP", () => {
  let tester: A2AClient;
  let echo: AgentProcess;
  let echoPort: number;
  let echoUrl: string;
  const previous: AgentProcess[] = [];

  async function startEcho(): Promise<void> {
    const started = await AgentProcess.start({
      AGENT_ID: "echo",
      TRIAD_SECRET: SECRET,
      PORT: String(echoPort),
      PEER_ID: "tester",
      PEER_URL: tester.url ?? "",
    });
    echo = started.agent;
    expect(started.port).toBe(echoPort);
  }

  beforeAll(async () => {
    tester = new A2AClient({ agentId: "tester", tokenSecret: SECRET, router: null, sendTimeoutMs: 20_000 });
    await tester.listen();
    echoPort = await freePort();
    echoUrl = `http://127.0.0.1:${echoPort}/a2a`;
    tester.setPeer("echo", `http://127.0.0.1:${echoPort}`);
    await startEcho();
  });

  afterAll(async () => {
    await echo?.stop();
    await tester?.close();
  });

  async function echoStats(): Promise<Record<string, unknown>> {
    const reply = await tester.sendRequest("echo", { op: "stats" }, 10_000);
    return (reply?.payload.data ?? {}) as Record<string, unknown>;
  }

  it("carries a request to the other process and its response back", async () => {
    const reply = await tester.sendRequest("echo", { hello: "world" }, 10_000);
    expect(reply?.sender).toBe("echo");
    const data = reply?.payload.data as { echo: unknown; pid: number };
    expect(data.echo).toEqual({ hello: "world" });
    expect(data.pid).not.toBe(process.pid);
  });

  it("delivers a burst of 300 events in batches, each handled exactly once", async () => {
    const postsBefore = tester.stats().http.posts;
    const sent = await Promise.all(
      Array.from({ length: 300 }, (_, n) => tester.sendEvent("echo", "burst", { n })),
    );
    const ids = sent.map((m) => m.metadata.request_id);
    const last = ids[ids.length - 1];
    await echo.waitFor((l) => l.handled === last);
    const handled = echo.handled();
    for (const id of ids) expect(handled.filter((h) => h === id)).toHaveLength(1);
    expect(tester.stats().http.posts - postsBefore).toBeLessThanOrEqual(4);
  });

  it("refuses a forged message with 401 and an ERROR, and counts it", async () => {
    const forged = handMade("not-the-secret", { sender: "tester", recipient: "echo" });
    const reply = await rawPost(echoUrl, JSON.stringify(forged));
    expect(reply.status).toBe(401);
    expect(reply.json).toMatchObject({ type: "error", sender: "echo", payload: { error: "bad_signature" } });
    expect(echo.handled()).not.toContain(forged.metadata.request_id);
    expect(await echoStats()).toMatchObject({ rejected: { bad_signature: 1 } });
  });

  it("handles a replayed message once (202 duplicate), and refuses an old one replayed later (401 stale)", async () => {
    const captured = JSON.stringify(
      tester.createMessage("echo", { event_type: "x", event_data: {} }, MessageType.EVENT),
    );
    const id = (JSON.parse(captured) as { metadata: { request_id: string } }).metadata.request_id;
    expect((await rawPost(echoUrl, captured)).status).toBe(202);
    const replay = await rawPost(echoUrl, captured);
    expect(replay.status).toBe(202);
    expect(replay.json).toMatchObject({ type: "ack", payload: { duplicates: [id] } });
    // Handled once: its line waited for (it comes through a pipe, later under load), then a pause
    // in which a second handling of the replay would show.
    await echo.waitFor((l) => l.handled === id);
    await sleep(50);
    expect(echo.handled().filter((h) => h === id)).toHaveLength(1);

    const tenMinutesAgo = new Date(Date.now() - 600_000).toISOString();
    const old = handMade(SECRET, {
      sender: "tester",
      recipient: "echo",
      metadata: { timestamp: tenMinutesAgo },
    });
    const stale = await rawPost(echoUrl, JSON.stringify(old));
    expect(stale.status).toBe(401);
    expect(stale.json).toMatchObject({ type: "error", payload: { error: "stale" } });
    expect(await echoStats()).toMatchObject({ duplicates: 1, rejected: { stale: 1 } });
  });

  it("answers an oversized body with 413 and an ERROR, keeping none of it, after earlier requests", async () => {
    const reply = await rawPost(echoUrl, Buffer.alloc(2 * 1024 * 1024, 0x20));
    expect(reply.status).toBe(413);
    expect(reply.json).toMatchObject({ type: "error", payload: { error: "too_large" } });
  });

  it("delivers every message of a stream to a peer killed (-9) and restarted mid-stream", async () => {
    const retriesBefore = tester.stats().http.retries;
    const sends: Promise<string>[] = [];
    const stream = (async () => {
      for (let n = 0; n < 300; n++) {
        sends.push(tester.sendEvent("echo", "stream", { n }).then((m) => m.metadata.request_id));
        if (n % 5 === 4) await sleep(10);
      }
    })();
    await sleep(150);
    const killed = echo;
    previous.push(killed);
    await killed.kill();
    await sleep(400);
    await startEcho();
    await stream;
    const ids = await Promise.all(sends); // none rejected: every one was accepted by one process or the other
    // A 202 is written after the handler printed its line; give the pipe a moment to bring it here.
    const missing = () => {
      const handled = new Set([...killed.handled(), ...echo.handled()]);
      return ids.filter((id) => !handled.has(id));
    };
    for (let i = 0; i < 100 && missing().length > 0; i++) await sleep(50);
    expect(missing()).toEqual([]);
    // Both processes took part: the stream really did span the restart.
    expect(killed.handled().filter((id) => ids.includes(id)).length).toBeGreaterThan(0);
    expect(echo.handled().filter((id) => ids.includes(id)).length).toBeGreaterThan(0);
    expect(tester.stats().http.retries).toBeGreaterThan(retriesBefore);
  });
});
