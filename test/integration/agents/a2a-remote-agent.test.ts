import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { A2AAgentBridge } from "../../../src/agents/worker/remote/index.js";
import { REMOTE_TASK_NAMESPACE } from "../../../src/agents/worker/remote/remote-task-record.js";
import { a2aAgentHandler, type Task, type TaskHandler } from "../../../src/index.js";
import { agentList } from "../../../src/server/coordinator-api.js";
import { startTestAgent, type TestAgent } from "../../helpers/a2a-test-agent.js";
import { FAST, TestCluster } from "../../helpers/cluster.js";
import { testEngines } from "../../helpers/engines.js";
import { freePort } from "../../helpers/free-port.js";
import { until } from "../../helpers/wait.js";

/**
 * A remote A2A agent (the SDK's own server classes) as a Triad worker: each skill's outcome
 * becomes the task's, a crashed bridging worker's successor attaches to the remote task instead
 * of sending the work again, and an attempt that runs out of time cancels its remote task.
 */

/** Until the distributor has stored the remote task id of `taskId` (what the next attempt is seeded with). */
async function recorded(c: TestCluster, taskId: string): Promise<void> {
  const store = c.distributors.get("d1")!.checkpoints;
  const config = { configurable: { thread_id: taskId, checkpoint_ns: REMOTE_TASK_NAMESPACE } };
  await until(
    `the remote task of ${taskId} is recorded`,
    async () => (await store.getTuple(config)) !== undefined,
    15_000,
    10,
  );
}

const handlersFor = (url: string, extra: Record<string, TaskHandler<Task>> = {}) => {
  const out: Record<string, TaskHandler<Task>> = { ...extra };
  for (const skill of ["echo", "words", "fail", "ask", "slow"]) {
    out[`remote_${skill}`] = a2aAgentHandler(url, { skill }) as unknown as TaskHandler<Task>;
  }
  return out;
};

describe.each([
  { streaming: true, name: "streaming" },
  { streaming: false, name: "polling" },
])("an A2A agent behind a worker ($name card)", ({ streaming }) => {
  const [engine] = testEngines(`a2a-remote-${streaming}`);
  let agent: TestAgent;
  let cluster: TestCluster | undefined;

  beforeAll(async () => {
    await engine!.setup();
    agent = await startTestAgent({ streaming });
  });
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });
  afterAll(async () => {
    await agent.close();
    await engine!.teardown();
  });

  const start = async () => {
    cluster = new TestCluster(engine!.config(), { handlers: handlersFor(agent.url) });
    await cluster.startOne();
    return cluster;
  };

  it("a completed remote task is the result: its data part, or its text parts joined", async () => {
    const c = await start();
    const id = c.id("echo");
    await c.coordinator.submitTask({
      task_id: id,
      task_type: "remote_echo",
      payload: { city: "Lyon", n: 2 },
    });
    expect(await c.coordinator.waitForTask(id, 10_000)).toMatchObject({
      status: "completed",
      result: { city: "Lyon", n: 2 },
    });
    const words = c.id("words");
    await c.coordinator.submitTask({ task_id: words, task_type: "remote_words", payload: {} });
    expect(await c.coordinator.waitForTask(words, 10_000)).toMatchObject({
      status: "completed",
      result: "hello world",
    });
    expect(agent.received.get(id)).toBe(1);
    // The worker's heartbeat says which agent it bridges; the coordinator lists it (GET /agents, the dashboard).
    const worker = () => agentList(c.coordinator).find((a) => a.id === c.id("w1"));
    await until(
      "the worker's remote agent to reach the coordinator",
      () => (worker()?.remote_agents as Array<{ name: string }> | undefined)?.[0]?.name === "Test agent",
      5000,
      10,
    );
    expect(worker()?.remote_agents).toEqual([
      { name: "Test agent", url: agent.url, skills: ["echo", "words", "fail", "ask", "slow"] },
    ]);
  });

  it("a failed remote task fails the attempt with the remote agent's message", async () => {
    const c = await start();
    const id = c.id("fail");
    await c.coordinator.submitTask({ task_id: id, task_type: "remote_fail", payload: { why: "too long" } });
    const done = await c.coordinator.waitForTask(id, 10_000);
    expect(done).toMatchObject({ status: "failed" });
    expect(done?.error).toContain("the payload was refused: too long");
  });

  it("a remote task that asks for input makes the Triad task wait with its question; the input given here goes to the same remote task", async () => {
    const c = await start();
    const id = c.id("ask");
    await c.coordinator.submitTask({ task_id: id, task_type: "remote_ask", payload: {} });
    await until(
      "the task waits for input",
      async () => (await c.coordinator.core.getTask(id))?.status === "input_required",
      10_000,
    );
    const waiting = await c.coordinator.core.getTask(id);
    expect(waiting).toMatchObject({ status: "input_required", input_request: "Which city?" });
    expect(agent.received.get(id)).toBe(1);
    expect(await c.coordinator.provideInput(id, "Paris")).toBe(true);
    const done = await c.coordinator.waitForTask(id, 10_000);
    expect(done).toMatchObject({ status: "completed", result: { city: "Paris" }, inputs: ["Paris"] });
    // The work once, the answer once; the agent completes "ask" only for a message naming its task.
    expect(agent.received.get(id)).toBe(2);
  });

  it("a Triad task canceled while its remote task runs cancels that remote task (CancelTask)", async () => {
    const c = await start();
    const id = c.id("canceled");
    const before = agent.canceled.size;
    await c.coordinator.submitTask({ task_id: id, task_type: "remote_slow", payload: { ms: 60_000 } });
    await recorded(c, id);
    expect(await c.coordinator.cancelTask(id)).toBe(true);
    // The cancel reaches the bridging worker's attempt (its signal), which cancels the remote task.
    await until("the remote task to be canceled", () => agent.canceled.size > before, 5000, 10);
    expect(agent.received.get(id)).toBe(1);
    expect((await c.coordinator.waitForTask(id, 5000))?.status).toBe("abandoned");
  });

  it("after the bridging worker crashes mid-task, the next attempt attaches to the same remote task", async () => {
    const c = await start();
    const id = c.id("slow");
    await c.coordinator.submitTask({ task_id: id, task_type: "remote_slow", payload: { ms: 1500 } });
    await until("the remote agent to receive the work", () => agent.received.get(id) === 1, 5000, 10);
    await recorded(c, id);
    await c.crash(c.workers.get("w1")!);
    await c.startWorker("w2", "d1");
    const done = await c.coordinator.waitForTask(id, 15_000);
    expect(done).toMatchObject({ status: "completed", result: { slept_ms: 1500 }, assigned_to: c.id("w2") });
    expect(done?.attempts).toBe(2);
    expect(agent.received.get(id)).toBe(1);
  });
});

describe("an A2A agent behind a worker: a remote agent that forgot the task", () => {
  const [engine] = testEngines("a2a-remote-forgot");
  let cluster: TestCluster | undefined;
  beforeAll(() => engine!.setup());
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });
  afterAll(() => engine!.teardown());

  it("after the worker crashes and the agent restarts empty, the next attempt sends the work again", async () => {
    const first = await startTestAgent();
    const port = Number(new URL(first.url).port);
    cluster = new TestCluster(engine!.config(), {
      handlers: {
        remote_slow: a2aAgentHandler(first.url, { skill: "slow" }) as unknown as TaskHandler<Task>,
      },
    });
    await cluster.startOne();
    const id = cluster.id("forgotten");
    await cluster.coordinator.submitTask({ task_id: id, task_type: "remote_slow", payload: { ms: 600 } });
    await until("the remote agent to receive the work", () => first.received.get(id) === 1, 5000, 10);
    await recorded(cluster, id);
    await cluster.crash(cluster.workers.get("w1")!);
    await first.close();
    const second = await startTestAgent({ port });
    try {
      await cluster.startWorker("w2", "d1");
      const done = await cluster.coordinator.waitForTask(id, 15_000);
      expect(done).toMatchObject({ status: "completed", result: { slept_ms: 600 }, attempts: 2 });
      expect(second.received.get(id)).toBe(1);
    } finally {
      await second.close();
    }
  });
});

describe("an A2A agent behind a worker: limits, deadlines and the CLI's bridge", () => {
  const [engine] = testEngines("a2a-remote-limits");
  let agent: TestAgent;
  let cluster: TestCluster | undefined;
  beforeAll(async () => {
    await engine!.setup();
    agent = await startTestAgent({ token: "s3cret" });
  });
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });
  afterAll(async () => {
    await agent.close();
    await engine!.teardown();
  });

  it("an attempt that runs out of time cancels its remote task (CancelTask), and the retry sends anew", async () => {
    const slow = a2aAgentHandler(agent.url, {
      skill: "slow",
      token: "s3cret",
    }) as unknown as TaskHandler<Task>;
    cluster = new TestCluster(engine!.config(), {
      handlers: { remote_slow: slow },
      // Nothing here is about failure detection: a worker falsely declared dead on a loaded host
      // (400 ms of silence) has its attempt taken back and sent again (a loaded run received 4).
      timing: { ...FAST, heartbeatTimeoutMs: 20_000 },
    });
    await cluster.startCoordinator();
    const d = await cluster.startDistributor("d1");
    // Long enough for each attempt to reach its send (its first reads the card). A deadline that
    // passes during the send still cancels the task it started (a2a-remote-deadline.test.ts).
    (d.core as unknown as { o: { taskTimeoutMs: number } }).o.taskTimeoutMs = 1500;
    await cluster.startWorker("w1", "d1");
    await cluster.ready();
    const id = cluster.id("late");
    await cluster.coordinator.submitTask({ task_id: id, task_type: "remote_slow", payload: { ms: 60_000 } });
    const done = await cluster.coordinator.waitForTask(id, 40_000);
    expect(done?.status).toBe("failed");
    expect(done?.error).toMatch(/timed out after 1500 ms/);
    // Three attempts (the cluster retries twice): each retry found its remote task canceled, and sent again.
    const started = agent.started.get(id) ?? [];
    expect(agent.received.get(id)).toBe(3);
    expect(started).toHaveLength(3);
    await until(
      "every remote task to be canceled",
      () => started.every((t) => agent.canceled.has(t)),
      15_000,
    );
    expect(agent.authorizations.every((a) => a === "Bearer s3cret")).toBe(true);
  }, 60_000);

  it("a card that cannot be read is read again until it can be; its skills become task types then", async () => {
    const port = Number(new URL(agent.url).port) + 1;
    const late = `http://127.0.0.1:${port}`;
    const registered: string[] = [];
    const bridge = new A2AAgentBridge([late], {
      register: (type) => registered.push(type),
      maxCardRetryMs: 100,
    });
    await bridge.start(300);
    expect(registered).toEqual([]);
    expect(bridge.info()).toEqual([]);
    const second = await startTestAgent({ port });
    try {
      await until("the card to be read", () => registered.length > 0, 5000, 10);
      expect(registered).toEqual(["echo", "words", "fail", "ask", "slow"]);
      expect(bridge.info()).toEqual([
        { name: "Test agent", url: late, skills: ["echo", "words", "fail", "ask", "slow"] },
      ]);
    } finally {
      bridge.close();
      await second.close();
    }
  });

  it("a handler whose agent cannot be reached fails its attempts at once, saying why (and they are retried)", async () => {
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    const handler = a2aAgentHandler(nowhere, { skill: "echo", maxCardRetryMs: 100 });
    cluster = new TestCluster(engine!.config(), {
      handlers: { remote_echo: handler as unknown as TaskHandler<Task> },
    });
    await cluster.startOne();
    const id = cluster.id("nowhere");
    await cluster.coordinator.submitTask({ task_id: id, task_type: "remote_echo", payload: {} });
    const done = await cluster.coordinator.waitForTask(id, 10_000);
    expect(done?.status).toBe("failed");
    expect(done?.attempts).toBe(3);
    expect(done?.error).toMatch(
      new RegExp(`the A2A agent at ${nowhere} cannot be reached yet \\(its card: .+\\)`),
    );
    // Not three attempt timeouts: run with no deadline and no signal at all, an attempt fails of
    // itself, saying why.
    await expect(handler.invoke({}, { configurable: { thread_id: `${id}-direct` } })).rejects.toThrow(
      /cannot be reached yet \(its card: .+\)/,
    );
  });

  it("no more remote tasks in flight to one agent than its cap", async () => {
    const shared = a2aAgentHandler(agent.url, { skill: "slow", token: "s3cret", concurrency: 2 });
    cluster = new TestCluster(engine!.config(), {
      handlers: { remote_slow: shared as unknown as TaskHandler<Task> },
      concurrency: 8,
    });
    await cluster.startOne();
    const ids = [1, 2, 3, 4, 5].map((n) => cluster!.id(`capped-${n}`));
    for (const id of ids)
      await cluster.coordinator.submitTask({ task_id: id, task_type: "remote_slow", payload: { ms: 300 } });
    let most = 0;
    const watch = setInterval(() => {
      most = Math.max(most, shared.agent.cap.active);
    }, 5);
    const done = await Promise.all(ids.map((id) => cluster!.coordinator.waitForTask(id, 15_000)));
    clearInterval(watch);
    expect(done.every((t) => t?.status === "completed")).toBe(true);
    expect(most).toBe(2);
  });
});
