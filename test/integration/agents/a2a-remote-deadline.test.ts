import { MemorySaver } from "@langchain/langgraph";
import { afterEach, describe, expect, it } from "vitest";
import { RemoteAgent } from "../../../src/agents/worker/remote/index.js";
import { startTestAgent, type TestAgent } from "../../helpers/a2a-test-agent.js";
import { expectNoListenersLeft } from "../../helpers/deadline-listeners.js";
import { until } from "../../helpers/wait.js";

/**
 * An attempt whose deadline passes while the message that starts its remote task is on its way:
 * the agent may have started the task already (it has the message), and only its answer names
 * it. The send is left to be answered, and the task it names canceled; torn down, it left a
 * remote task nobody knew of, running to its end (on a loaded machine, a 400 ms deadline often
 * passed there).
 */
describe.each([
  { streaming: false, name: "polling" },
  { streaming: true, name: "streaming" },
])("an attempt's deadline during its send ($name card)", ({ streaming }) => {
  let agent: TestAgent | undefined;
  let remote: RemoteAgent | undefined;
  let release = () => {};
  afterEach(async () => {
    release();
    remote?.close();
    await agent?.close();
  });

  it("cancels the remote task the send's late answer names, and sends nothing more", async () => {
    agent = await startTestAgent({ streaming });
    remote = new RemoteAgent({ url: agent.url, pollIntervalMs: 20 });
    const taskId = `deadline-in-send-${streaming}`;
    const deadline = new AbortController();
    release = agent.holdAnswers();
    const run = remote.run({
      taskId,
      data: { ms: 60_000 },
      skill: "slow",
      saver: new MemorySaver(),
      signal: deadline.signal,
    });
    const ended = run.then(
      () => "completed",
      (err: unknown) => err,
    );
    await until("the agent has the message and has started its task", () => agent!.started.has(taskId));
    deadline.abort(new Error("task timed out after 400 ms"));
    release(); // the answer, naming the remote task, comes after the deadline
    expect(await ended).toMatchObject({ message: "task timed out after 400 ms" });
    const started = agent.started.get(taskId)!;
    expect(started).toHaveLength(1);
    await until("the remote task is canceled", () => agent!.canceled.has(started[0]!), 15_000);
    expect(agent.received.get(taskId)).toBe(1);
  });
});

/**
 * Many sends under one deadline (an attempt whose remote task is lost and sent again, or a
 * caller that runs several jobs under one signal): each send's listener leaves the deadline when
 * the send ends; they piled up (Node's MaxListenersExceededWarning past 10, a leak for ever).
 */
describe("sends under one deadline", () => {
  let agent: TestAgent | undefined;
  let remote: RemoteAgent | undefined;
  afterEach(async () => {
    remote?.close();
    await agent?.close();
  });

  it("leave no listener on it once they end", async () => {
    // A streaming card: no GetTask polls, whose fetch (undici) keeps its own listener until GC.
    agent = await startTestAgent({ streaming: true });
    remote = new RemoteAgent({ url: agent.url, pollIntervalMs: 20 });
    const r = remote;
    await expectNoListenersLeft(async (deadline) => {
      for (let i = 0; i < 15; i++)
        await r.run({ taskId: `one-deadline-${i}`, data: { i }, skill: "echo", signal: deadline });
    });
  });
});
