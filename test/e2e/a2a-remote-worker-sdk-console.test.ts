import { randomUUID } from "node:crypto";
import type { Server } from "node:http";
import { agentCardHandler } from "@a2a-js/sdk/server/express";
import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentCard } from "../helpers/a2a-test-agent.js";
import { freePort } from "../helpers/free-port.js";
import { startSideBySide, type TriadProcess } from "../helpers/processes.js";
import { testRedis } from "../helpers/redis-server.js";
import { until } from "../helpers/wait.js";

/**
 * The A2A SDK's client writes some of what it notes with console.* (its HTTP+JSON transport's
 * console.error "Failed to parse SSE event data: …" for an event it cannot read). In a worker
 * bridging an agent (`triad worker --a2a-agent`) run with --log-format json, those were plain
 * (multi-line) text among the JSON lines. They go through the worker's logger instead.
 *
 * The agent here speaks HTTP+JSON only, and its SendStreamingMessage answers an event that is
 * not JSON: the SDK's client says so on the console, then the call fails.
 */

/** An A2A agent whose card offers HTTP+JSON only, and whose message:stream sends an unreadable event. */
async function startGarbledAgent(): Promise<{ url: string; streams: () => number; close(): Promise<void> }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const card = agentCard({
    name: "Garbled agent",
    description: "Sends an SSE event that is not JSON",
    url,
    streaming: true,
    skills: ["garbled"],
  });
  card.supportedInterfaces = [{ url, protocolBinding: "HTTP+JSON", protocolVersion: "1.0", tenant: "" }];
  let streams = 0;
  const app = express();
  app.use("/.well-known/agent-card.json", agentCardHandler({ agentCardProvider: async () => card }));
  app.use((req, res) => {
    if (req.method !== "POST" || req.path !== "/message:stream") {
      res.status(404).json({ error: { code: 404, message: "not here" } });
      return;
    }
    streams++;
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.end("data: this is not JSON\n\n");
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(port, "127.0.0.1", () => resolve(s));
  });
  return {
    url,
    streams: () => streams,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe("a bridging worker's A2A SDK console lines (bin/triad processes, Redis)", () => {
  const env = { TRIAD_SECRET: "a2a-sdk-console-e2e-secret", TRIAD_API_TOKEN: "", TRIAD_LOG_LEVEL: "debug" };
  let redis: Awaited<ReturnType<typeof testRedis>>;
  let agent: Awaited<ReturnType<typeof startGarbledAgent>>;
  const procs: TriadProcess[] = [];
  let coordinatorUrl = "";

  beforeAll(async () => {
    redis = await testRedis();
    agent = await startGarbledAgent();
    const [cp, dp, wp] = await Promise.all([freePort(), freePort(), freePort()]);
    // Side by side, each given its upstream's address before that one listens (an agent waits for it).
    const [c] = await startSideBySide(
      [
        ["coordinator", "--id", "c1", "--redis", redis.url, "--port", String(cp)],
        [
          ...["distributor", "--id", "d1", "--coordinator", `http://127.0.0.1:${cp}`],
          ...["--redis", redis.url, "--port", String(dp)],
        ],
        [
          ...["worker", "--id", "w-garbled", "--distributor", `http://127.0.0.1:${dp}`],
          ...["--port", String(wp), "--a2a-agent", agent.url, "--log-format", "json"],
        ],
      ],
      { env, into: procs },
    );
    coordinatorUrl = c.url;
  }, 60_000);

  afterAll(async () => {
    for (const p of procs) await p.kill();
    await agent?.close();
    await redis?.close();
  });

  it("the SDK client's console.error for an unreadable event is a JSON line of the worker's log; its output has no plain-text line", async () => {
    const w = procs[2]!;
    await w.waitFor(/task type bridged to an A2A agent/, 15_000);
    // Sent before the cluster knows the worker runs "garbled", the task would fail as unknown.
    await until(
      "the coordinator to know the worker runs garbled",
      async () => {
        const agents = JSON.stringify(await (await fetch(`${coordinatorUrl}/agents`)).json());
        return /"id":"w-garbled"[^}]*"task_types":\[[^\]]*"garbled"/.test(agents);
      },
      30_000,
    );
    const id = `garbled-${randomUUID()}`;
    const posted = await fetch(`${coordinatorUrl}/tasks`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ task_id: id, task_type: "garbled", payload: {} }),
    });
    expect(posted.status).toBe(202);
    // The worker's own warning comes after the SDK's line (the SDK writes it, then throws).
    await w.waitFor(/a call to the A2A agent failed; the attempt fails/, 30_000);
    expect(agent.streams()).toBeGreaterThan(0);

    // Its log is on stderr; stdout has its ready line (`ready worker <id> <url>`, for scripts).
    const lines = w.output.split("\n").filter((l) => l !== "" && !/^ready worker w-garbled \S+$/.test(l));
    const notJson = lines.filter((l) => {
      try {
        return typeof JSON.parse(l) !== "object";
      } catch {
        return true;
      }
    });
    expect(notJson).toEqual([]);
    const entries = lines.map((l) => JSON.parse(l) as { level: number; msg: string; source?: string });
    const note = entries.find((e) => e.msg.startsWith("Failed to parse SSE event data"));
    expect(note).toMatchObject({ level: 50, source: "a2a-sdk" });
    expect(note?.msg).toContain("this is not JSON");
  }, 90_000);
});
