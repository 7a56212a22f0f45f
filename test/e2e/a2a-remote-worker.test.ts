import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REMOTE_TASK_NAMESPACE } from "../../src/agents/worker/remote/remote-task-record.js";
import { StoreCheckpointSaver } from "../../src/index.js";
import { startEdgeAgent } from "../helpers/a2a-edge-agent.js";
import { startTestAgent, type TestAgent } from "../helpers/a2a-test-agent.js";
import { freePort } from "../helpers/free-port.js";
import { startSideBySide, type TriadProcess } from "../helpers/processes.js";
import { testRedis } from "../helpers/redis-server.js";

/**
 * `triad worker --a2a-agent URL` as a process: the agent's skills are its task types, and when
 * the bridging worker is killed (-9) in the middle of a remote task, the worker that takes the
 * task over attaches to that remote task: the remote agent receives the work once.
 */

type TaskJson = { task_id: string; status: string; result: unknown; error: string | null; attempts: number };

describe("triad worker --a2a-agent (bin/triad processes, Redis)", () => {
  const env = {
    TRIAD_SECRET: "a2a-remote-e2e-secret",
    TRIAD_API_TOKEN: "",
    TRIAD_LOG_LEVEL: "info",
    TRIAD_A2A_AGENT_TOKEN: "agent-token",
  };
  let redis: Awaited<ReturnType<typeof testRedis>>;
  let agent: TestAgent;
  const procs: TriadProcess[] = [];
  let coordinatorUrl = "";
  let distributorUrl = "";

  const worker = async (id: string, agentUrl = agent.url, ...more: string[]) => {
    const port = String(await freePort());
    const [w] = await startSideBySide(
      [
        [
          ...["worker", "--id", id, "--distributor", distributorUrl],
          ...["--port", port, "--a2a-agent", agentUrl],
          ...more,
        ],
      ],
      { env, into: procs },
    );
    return w;
  };
  const task = async (id: string): Promise<TaskJson> =>
    (await (await fetch(`${coordinatorUrl}/tasks/${encodeURIComponent(id)}`)).json()) as TaskJson;
  const until = async <T>(
    probe: () => Promise<T | undefined>,
    what: string,
    timeoutMs = 20_000,
  ): Promise<T> => {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const v = await probe();
      if (v !== undefined) return v;
      if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  beforeAll(async () => {
    redis = await testRedis();
    agent = await startTestAgent({ token: "agent-token" });
    const [cp, dp] = await Promise.all([freePort(), freePort()]);
    // Side by side, the distributor given the coordinator's address before that one listens (an
    // agent waits for its upstream): the set-up needs one start-up's bound, not two.
    const [c, d] = await startSideBySide(
      [
        ["coordinator", "--id", "c1", "--redis", redis.url, "--port", String(cp)],
        [
          ...["distributor", "--id", "d1", "--coordinator", `http://127.0.0.1:${cp}`],
          ...["--redis", redis.url, "--port", String(dp)],
        ],
      ],
      { env, into: procs },
    );
    coordinatorUrl = c.url;
    distributorUrl = d.url;
  }, 60_000);

  afterAll(async () => {
    for (const p of procs) await p.kill();
    await agent?.close();
    await redis?.close();
  });

  it("a worker killed -9 mid-task: its successor attaches to the remote task, which received the work once", async () => {
    const first = await worker("w1");
    expect(first.proc.output).toMatch(/task type bridged to an A2A agent/);
    expect(first.proc.output).toMatch(/"taskTypes":\[[^\]]*"slow"/);

    const id = `bridged-${randomUUID()}`;
    const posted = await fetch(`${coordinatorUrl}/tasks`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ task_id: id, task_type: "slow", payload: { ms: 4000 } }),
    });
    expect(posted.status).toBe(202);
    await until(
      async () => (agent.received.get(id) === 1 ? true : undefined),
      "the remote agent to receive the work",
    );
    // The remote task id is in the distributor's store (where the next attempt is seeded from).
    const saver = await StoreCheckpointSaver.fromUrl(redis.url);
    try {
      await until(
        async () =>
          (await saver.getTuple({ configurable: { thread_id: id, checkpoint_ns: REMOTE_TASK_NAMESPACE } })) ??
          undefined,
        "the remote task id to be recorded",
      );
    } finally {
      await saver.end();
    }
    first.proc.signal("SIGKILL");
    await first.proc.exit();

    await worker("w2");
    const done = await until(
      async () => {
        const t = await task(id);
        return t.status === "completed" || t.status === "failed" ? t : undefined;
      },
      "the task to end",
      30_000,
    );
    expect(done).toMatchObject({ status: "completed", result: { slept_ms: 4000 }, attempts: 2 });
    expect(agent.received.get(id)).toBe(1);
    expect(agent.authorizations.every((a) => a === "Bearer agent-token")).toBe(true);
  }, 60_000);

  it("an agent whose card cannot be read yet: the worker says so, runs on, and takes its skills once it can", async () => {
    const port = await freePort();
    const late = await worker("w-late", `http://127.0.0.1:${port}`);
    await late.proc.waitFor(/cannot read the A2A agent's card; trying again/, 15_000);
    expect(late.proc.running).toBe(true);
    const second = await startTestAgent({ port, token: "agent-token" });
    try {
      await late.proc.waitFor(/A2A agent card read/, 30_000);
      await late.proc.waitFor(/task type bridged to an A2A agent/, 5_000);
      const id = `late-${randomUUID()}`;
      await fetch(`${coordinatorUrl}/tasks`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ task_id: id, task_type: "words", payload: {} }),
      });
      const done = await until(async () => {
        const t = await task(id);
        return t.status === "completed" ? t : undefined;
      }, "the words task");
      expect(done.result).toBe("hello world");
      // w2 (of the test above) runs `words` on the first agent: one of the two received it, once.
      expect((second.received.get(id) ?? 0) + (agent.received.get(id) ?? 0)).toBe(1);
    } finally {
      late.proc.signal("SIGTERM");
      await late.proc.exit();
      await second.close();
    }
  }, 60_000);

  it("an agent refusing the worker's bearer token (HTTP 401): the task fails saying so and where, and the worker logs it at warn, never the token", async () => {
    const guarded = await startEdgeAgent({ token: "not-the-worker-token" });
    const w = await worker("w-401", guarded.url);
    try {
      await w.proc.waitFor(/task type bridged to an A2A agent/, 15_000);
      // Only this worker runs "texts": sent before the cluster knows that, it would fail as unknown.
      await until(async () => {
        const agents = (await (await fetch(`${coordinatorUrl}/agents`)).json()) as unknown;
        return JSON.stringify(agents).match(/"id":"w-401"[^}]*"task_types":\[[^\]]*"texts"/)
          ? true
          : undefined;
      }, "the coordinator to know the worker runs texts");
      const id = `refused-${randomUUID()}`;
      await fetch(`${coordinatorUrl}/tasks`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ task_id: id, task_type: "texts", payload: {} }),
      });
      const done = await until(async () => {
        const t = await task(id);
        return t.status === "failed" ? t : undefined;
      }, "the task to fail");
      expect(done.error).toBe(
        `the A2A agent "Edge agent" at ${guarded.url}: SendStreamingMessage failed: HTTP 401 unauthorized: the bearer token sent (TRIAD_A2A_AGENT_TOKEN) was refused; check TRIAD_A2A_AGENT_TOKEN`,
      );
      await w.proc.waitFor(/"code":"ERR_REMOTE_AGENT_UNAUTHORIZED"/, 5_000);
      const warned = w.proc.output.split("\n").filter((l) => l.includes("ERR_REMOTE_AGENT_UNAUTHORIZED"));
      expect(warned.length).toBeGreaterThan(0);
      for (const line of warned) expect(JSON.parse(line)).toMatchObject({ level: 40, task: id });
      expect(w.proc.output).not.toContain(env.TRIAD_A2A_AGENT_TOKEN);
    } finally {
      w.proc.signal("SIGTERM");
      await w.proc.exit();
      await guarded.close();
    }
  }, 60_000);

  it("--a2a-reconnect-window: an agent that dies mid-task is waited for that long (the worker's log says so)", async () => {
    const dying = await startEdgeAgent({ token: "agent-token" });
    const w = await worker("w-window", dying.url, "--a2a-reconnect-window", "1500");
    try {
      await w.proc.waitFor(/task type bridged to an A2A agent/, 15_000);
      // Only this worker runs "die" (see the test above for why the wait); last, as its task may
      // still be retried when the test ends.
      await until(async () => {
        const agents = (await (await fetch(`${coordinatorUrl}/agents`)).json()) as unknown;
        return JSON.stringify(agents).match(/"id":"w-window"[^}]*"task_types":\[[^\]]*"die"/)
          ? true
          : undefined;
      }, "the coordinator to know the worker runs die");
      const id = `window-${randomUUID()}`;
      await fetch(`${coordinatorUrl}/tasks`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ task_id: id, task_type: "die", payload: {} }),
      });
      const line = await w.proc.waitFor(
        /.*the A2A agent went away mid-task; trying again until it is back.*/,
        20_000,
      );
      expect(JSON.parse(line[0]!)).toMatchObject({ window_ms: 1500 });
    } finally {
      w.proc.signal("SIGTERM");
      await w.proc.exit();
      await dying.close();
    }
  }, 60_000);
});
