import { MemorySaver } from "@langchain/langgraph";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RemoteAgent } from "../../../src/agents/worker/remote/index.js";
import { isInputRequired } from "../../../src/core/state/input-required.js";
import { a2aAgentHandler, type Task, type TaskHandler } from "../../../src/index.js";
import { type EdgeAgent, startEdgeAgent } from "../../helpers/a2a-edge-agent.js";
import { captureLogger, type LogEntry } from "../../helpers/capture-logger.js";
import { TestCluster } from "../../helpers/cluster.js";
import { testEngines } from "../../helpers/engines.js";
import { freePort } from "../../helpers/free-port.js";
import { sleep, until } from "../../helpers/wait.js";

/**
 * The bridge to a remote A2A agent (the SDK's own server classes) at its edges: an answered
 * remote task that moves straight from its question to its end, a new question after an answer,
 * an answer forwarded by an attempt that died, failures of the agent's transport, and how the
 * text of several artifacts is joined.
 */

const SKILLS = ["ask", "slowask", "twice", "again", "texts", "chunks", "die"];

const handlersFor = (url: string) => {
  const out: Record<string, TaskHandler<Task>> = {};
  for (const skill of SKILLS)
    out[`edge_${skill}`] = a2aAgentHandler(url, { skill }) as unknown as TaskHandler<Task>;
  return out;
};

/** Until the task waits for input with `question` (any, when undefined). */
async function waitingFor(c: TestCluster, id: string, question?: unknown, timeoutMs = 10_000) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const t = await c.coordinator.core.getTask(id);
    const asks = t?.status === "input_required";
    if (asks && (question === undefined || JSON.stringify(t.input_request) === JSON.stringify(question)))
      return t;
    if (performance.now() > deadline)
      throw new Error(
        `task ${id} is ${t?.status} asking ${JSON.stringify(t?.input_request)}, not ${JSON.stringify(question)}`,
      );
    await sleep(20);
  }
}

describe.each([
  { streaming: true, name: "streaming" },
  { streaming: false, name: "polling" },
])("an A2A agent behind a worker: input ($name card)", ({ streaming }) => {
  const [engine] = testEngines(`a2a-edges-${streaming}`);
  let agent: EdgeAgent;
  let cluster: TestCluster | undefined;

  beforeAll(async () => {
    await engine!.setup();
    agent = await startEdgeAgent({ streaming });
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

  it("an answered remote task that goes from its question straight to its end completes here with that answer (not the same question again)", async () => {
    const c = await start();
    const id = c.id("ask");
    await c.coordinator.submitTask({ task_id: id, task_type: "edge_ask", payload: {} });
    await waitingFor(c, id, { question: "what?" });
    expect(await c.coordinator.provideInput(id, { v: 1 })).toBe(true);
    const done = await c.coordinator.waitForTask(id, 10_000);
    expect(done).toMatchObject({ status: "completed", result: { answer: { v: 1 } }, inputs: [{ v: 1 }] });
    expect(agent.received.get(id)).toBe(2); // the work, then the answer: once each
  });

  it("a new question after an answer is asked here, and its answer goes there too", async () => {
    const c = await start();
    const id = c.id("twice");
    await c.coordinator.submitTask({ task_id: id, task_type: "edge_twice", payload: {} });
    await waitingFor(c, id, "first?");
    expect(await c.coordinator.provideInput(id, "a")).toBe(true);
    await waitingFor(c, id, "second?");
    expect(await c.coordinator.provideInput(id, "b")).toBe(true);
    const done = await c.coordinator.waitForTask(id, 10_000);
    expect(done).toMatchObject({ status: "completed", result: { answers: ["a", "b"] }, inputs: ["a", "b"] });
    expect(agent.received.get(id)).toBe(3);
  });

  it("a question asked again in the same words and status message id (a later timestamp) is a new question", async () => {
    const c = await start();
    const id = c.id("again");
    await c.coordinator.submitTask({ task_id: id, task_type: "edge_again", payload: {} });
    await waitingFor(c, id, "which?");
    expect(await c.coordinator.provideInput(id, "a")).toBe(true);
    // Asked again: the second question (the first one's answer was taken, so a value given now
    // answers the second).
    await until("the agent has received the first answer", () => agent.received.get(id) === 2, 10_000, 10);
    await waitingFor(c, id, "which?");
    expect(await c.coordinator.provideInput(id, "b")).toBe(true);
    const done = await c.coordinator.waitForTask(id, 10_000);
    expect(done).toMatchObject({ status: "completed", result: { answers: ["a", "b"] } });
    expect(agent.received.get(id)).toBe(3);
  });

  it("an attempt after one that forwarded the answer and died follows the remote task; the answer is not sent twice", async () => {
    const saver = new MemorySaver();
    const taskId = `forwarded-${streaming}-${Date.now()}`;
    const first = new RemoteAgent({ url: agent.url, pollIntervalMs: 20 });
    let key = "";
    try {
      await first.run({ taskId, data: { ms: 800 }, skill: "slowask", saver });
      throw new Error("the remote task did not ask");
    } catch (err) {
      if (!isInputRequired(err)) throw err;
      expect(err.request).toEqual({ question: "what?" });
      key = err.key;
    }
    // The attempt given the answer forwards it; the remote task works on it for 800 ms ...
    const answer = { key, value: "Lyon" };
    const forwarding = first.run({ taskId, skill: "slowask", saver, answer }).catch((err: unknown) => err);
    await until("the agent has received the answer", () => agent.received.get(taskId) === 2, 10_000, 5);
    expect(agent.received.get(taskId)).toBe(2);
    // ... and the next attempt (another worker: its own client) attaches meanwhile: the remote
    // task still shows the question, but its history has the answer, so it is followed.
    const next = new RemoteAgent({ url: agent.url, pollIntervalMs: 20 });
    try {
      expect(await next.run({ taskId, skill: "slowask", saver, answer })).toEqual({ answer: "Lyon" });
      expect(agent.received.get(taskId)).toBe(2);
      expect(await forwarding).toEqual({ answer: "Lyon" });
    } finally {
      first.close();
      next.close();
    }
  });

  it("the text of separate artifacts is joined with a newline; an artifact's appended chunks make one text", async () => {
    const remote = new RemoteAgent({ url: agent.url, pollIntervalMs: 20 });
    try {
      expect(await remote.run({ taskId: `texts-${streaming}`, data: {}, skill: "texts" })).toBe(
        "hello\nworld",
      );
      expect(await remote.run({ taskId: `chunks-${streaming}`, data: {}, skill: "chunks" })).toBe(
        "part1 part2",
      );
    } finally {
      remote.close();
    }
  });
});

describe.each([
  { streaming: true, name: "streaming" },
  { streaming: false, name: "polling" },
])("an A2A agent behind a worker: its transport failing ($name card)", ({ streaming }) => {
  const failure = async (remote: RemoteAgent, skill: string) => {
    const err = await remote.run({ taskId: `t-${skill}-${streaming}`, data: {}, skill }).then(
      () => undefined,
      (e: unknown) => e as Error & { code?: string },
    );
    expect(err).toBeInstanceOf(Error);
    return err!;
  };

  it("the card read is logged with the agent's name as agent_name: a JSON log's own name (the logger's, triad) is not written twice", async () => {
    const agent = await startEdgeAgent({ streaming });
    const logs: LogEntry[] = [];
    const remote = new RemoteAgent({ url: agent.url, logger: captureLogger(logs, { name: "triad" }) });
    try {
      await remote.connect();
      const read = logs.find((l) => l.msg === "A2A agent card read");
      expect(read?.fields).toMatchObject({ name: "triad", agent_name: "Edge agent", a2a_agent: agent.url });
    } finally {
      remote.close();
      await agent.close();
    }
  });

  it("a card that cannot be read is warned of once, not at every try (the tries at debug)", async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const logs: LogEntry[] = [];
    const remote = new RemoteAgent({ url, logger: captureLogger(logs), maxCardRetryMs: 1 });
    const connecting = remote.connect().catch(() => {});
    const tries = () => logs.filter((l) => l.msg === "cannot read the A2A agent's card; trying again");
    try {
      await until("the card has been tried eight times", () => tries().length >= 8);
      const warned = tries().filter((l) => l.level === "warn");
      expect(warned).toHaveLength(1);
      expect(warned[0]!.fields).toMatchObject({ a2a_agent: url, tries: 1 });
      expect(String(warned[0]!.fields.err)).toContain("connection refused");
      expect(
        tries()
          .slice(1)
          .every((l) => l.level === "debug"),
      ).toBe(true);
    } finally {
      remote.close();
      await connecting;
    }
  });

  it("an agent that is down: the error names the agent, its URL, the call and 'connection refused'; logged at warn", async () => {
    const agent = await startEdgeAgent({ streaming });
    const logs: LogEntry[] = [];
    // No reconnect window: the first refusal is the attempt's (a2a-remote-restart tests the window).
    const remote = new RemoteAgent({ url: agent.url, logger: captureLogger(logs), reconnectWindowMs: 0 });
    await remote.connect();
    await agent.close();
    try {
      const err = await failure(remote, "texts");
      expect(err.code).toBe("ERR_REMOTE_AGENT_UNREACHABLE");
      const call = streaming ? "SendStreamingMessage" : "SendMessage";
      expect(err.message).toBe(
        `the A2A agent "Edge agent" at ${agent.url}: ${call} failed: connection refused (ECONNREFUSED); is the agent running at that address?`,
      );
      const warned = logs.filter((l) => l.level === "warn");
      expect(warned).toHaveLength(1);
      expect(warned[0]!.fields).toMatchObject({ a2a_agent: agent.url, code: "ERR_REMOTE_AGENT_UNREACHABLE" });
      expect(warned[0]!.fields.err).toBe(err.message);
    } finally {
      remote.close();
    }
  });

  it("an agent that dies mid-task: the error names the agent, the call and the remote task, and says the connection went", async () => {
    const agent = await startEdgeAgent({ streaming });
    const logs: LogEntry[] = [];
    // No reconnect window: the first failure is the attempt's (a2a-remote-restart tests the window).
    const remote = new RemoteAgent({
      url: agent.url,
      logger: captureLogger(logs),
      pollIntervalMs: 20,
      reconnectWindowMs: 0,
    });
    try {
      const err = await failure(remote, "die");
      // Streaming: the stream is cut under us. Polling: the next GetTask finds nobody there (or,
      // when one is on its way as the agent stops, its connection is cut).
      const who = /^the A2A agent "Edge agent" at http:\/\/127\.0\.0\.1:\d+: /.source;
      const cut = /the agent closed the connection before its answer was complete; did it stop\?$/.source;
      if (streaming) {
        expect(err.code).toBe("ERR_REMOTE_AGENT_DISCONNECTED");
        expect(err.message).toMatch(
          new RegExp(`${who}SendStreamingMessage \\(remote task [\\w-]+\\) failed: ${cut}`),
        );
      } else {
        expect(["ERR_REMOTE_AGENT_UNREACHABLE", "ERR_REMOTE_AGENT_DISCONNECTED"]).toContain(err.code);
        const refused = /connection refused \(ECONNREFUSED\); is the agent running at that address\?$/.source;
        const why =
          err.code === "ERR_REMOTE_AGENT_UNREACHABLE" ? refused : `(${cut}|the connection was reset)`;
        expect(err.message).toMatch(new RegExp(`${who}GetTask \\(remote task [\\w-]+\\) failed: ${why}`));
      }
      expect(logs.filter((l) => l.level === "warn").map((l) => l.fields.code)).toEqual([err.code]);
    } finally {
      remote.close();
      await agent.close();
    }
  });

  it("an agent refusing the bearer token (HTTP 401): says so and points at TRIAD_A2A_AGENT_TOKEN, without the token", async () => {
    const agent = await startEdgeAgent({ streaming, token: "right-token" });
    const logs: LogEntry[] = [];
    const remote = new RemoteAgent({ url: agent.url, token: "wrong-token", logger: captureLogger(logs) });
    try {
      const err = await failure(remote, "texts");
      expect(err.code).toBe("ERR_REMOTE_AGENT_UNAUTHORIZED");
      const call = streaming ? "SendStreamingMessage" : "SendMessage";
      expect(err.message).toBe(
        `the A2A agent "Edge agent" at ${agent.url}: ${call} failed: HTTP 401 unauthorized: the bearer token sent (TRIAD_A2A_AGENT_TOKEN) was refused; check TRIAD_A2A_AGENT_TOKEN`,
      );
      expect(logs.filter((l) => l.level === "warn").map((l) => l.fields.code)).toEqual([
        "ERR_REMOTE_AGENT_UNAUTHORIZED",
      ]);
      expect(JSON.stringify(logs)).not.toContain("wrong-token");
      expect(JSON.stringify(err)).not.toContain("wrong-token");
    } finally {
      remote.close();
      await agent.close();
    }
  });
});
