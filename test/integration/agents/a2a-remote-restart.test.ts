import { MemorySaver } from "@langchain/langgraph";
import { afterEach, describe, expect, it } from "vitest";
import { RemoteAgent } from "../../../src/agents/worker/remote/index.js";
import { readRemoteTask } from "../../../src/agents/worker/remote/remote-task-record.js";
import { isInputRequired } from "../../../src/core/state/input-required.js";
import { startTestAgent, type TestAgent } from "../../helpers/a2a-test-agent.js";
import { sleep, until } from "../../helpers/wait.js";

/**
 * A remote agent that restarts (down for a moment, then back on the same address with its
 * tasks) while one of its tasks is in flight: the calls that find it away (connection refused,
 * reset) are tried again within the reconnect window, and the attempt goes on with the same
 * remote task instead of failing (and spending the task's attempts while the agent is down).
 */
describe.each([
  { streaming: false, name: "polling" },
  { streaming: true, name: "streaming" },
])("a remote agent restarting mid-task ($name card)", ({ streaming }) => {
  let agent: TestAgent | undefined;
  let remote: RemoteAgent | undefined;
  afterEach(async () => {
    remote?.close();
    await agent?.close();
  });

  it("is waited for, and the attempt ends with the same remote task's result", async () => {
    agent = await startTestAgent({ streaming });
    remote = new RemoteAgent({ url: agent.url, pollIntervalMs: 20, reconnectWindowMs: 60_000 });
    const saver = new MemorySaver();
    const taskId = `restart-${streaming}`;
    const run = remote.run({ taskId, data: { ms: 1500 }, skill: "slow", saver });
    await until(
      "the remote task is recorded",
      async () => (await readRemoteTask(saver, taskId)) !== undefined,
      5_000,
      5,
    );
    await agent.close(); // killed: refused from now on, its connections reset
    // A negative check: the attempt must not fail while the agent is down, for longer than the
    // old retries' ~450 ms. The outage's length is the scenario, so a fixed wait.
    await sleep(700);
    await agent.reopen();
    expect(await run).toEqual({ slept_ms: 1500 });
    expect(agent.received.get(taskId)).toBe(1); // not sent again: the same remote task
  });

  it("comes back without its tasks: the work is sent again in the same attempt, which does not fail", async () => {
    agent = await startTestAgent({ streaming });
    remote = new RemoteAgent({ url: agent.url, pollIntervalMs: 20, reconnectWindowMs: 60_000 });
    const saver = new MemorySaver();
    const taskId = `forgot-${streaming}`;
    const run = remote.run({ taskId, data: { ms: 600 }, skill: "slow", saver });
    let first: Awaited<ReturnType<typeof readRemoteTask>>;
    await until(
      "the remote task is recorded",
      async () => {
        first = await readRemoteTask(saver, taskId);
        return first !== undefined;
      },
      5_000,
      5,
    );
    await agent.close();
    // The agent is down a while (the outage is the scenario, so a fixed wait; nothing is to happen in it).
    await sleep(300);
    await agent.reopen({ forgetTasks: true }); // TaskNotFound for the remote task from now on
    // The attempt's outcome is the work's, not "task not found" (which spent one of its attempts).
    expect(await run).toEqual({ slept_ms: 600 });
    expect(agent.received.get(taskId)).toBe(2); // sent again: the first remote task is gone
    const second = await readRemoteTask(saver, taskId);
    expect(second?.remote_task_id).not.toBe(first!.remote_task_id); // a next attempt attaches to it
  });

  it("comes back without its tasks after the answer given here was forwarded: the work is sent again, as in every other loss", async () => {
    agent = await startTestAgent({ streaming });
    remote = new RemoteAgent({ url: agent.url, pollIntervalMs: 20, reconnectWindowMs: 60_000 });
    const saver = new MemorySaver();
    const taskId = `forgot-after-answer-${streaming}`;
    // The first attempt ends with the remote question; the next one forwards its answer.
    const asked = await remote.run({ taskId, data: {}, skill: "ask", saver }).catch((e: unknown) => e);
    expect(isInputRequired(asked)).toBe(true);
    const first = await readRemoteTask(saver, taskId);
    const key = (asked as { key: string }).key;
    const answering = remote
      .run({ taskId, data: {}, skill: "ask", saver, answer: { key, value: { city: "Paris", ms: 60_000 } } })
      .catch((e: unknown) => e);
    await until("the agent has the answer", () => agent!.received.get(taskId) === 2, 20_000);
    // A call after the answer's: the bridge has the reply, and follows the answered task (counted
    // from the answer's arrival: the follow may already have begun when the wait above ended).
    const calls = agent.requestsAtMessage.get(taskId)![1]!;
    await until("the bridge follows the answered task", () => agent!.authorizations.length > calls, 20_000);
    await agent.close();
    await agent.reopen({ forgetTasks: true }); // TaskNotFound for the answered remote task
    // Sent again (not failed with ERR_REMOTE_TASK_LOST): the new remote task asks its question.
    const outcome = await answering;
    expect(outcome).toMatchObject({ code: "INPUT_REQUIRED", request: "Which city?" });
    expect(agent.received.get(taskId)).toBe(3); // the work, its answer, the work again
    const second = await readRemoteTask(saver, taskId);
    expect(second?.remote_task_id).not.toBe(first?.remote_task_id);
  });

  it("fails with the connection's error once the window is spent", async () => {
    agent = await startTestAgent({ streaming });
    remote = new RemoteAgent({ url: agent.url, pollIntervalMs: 20, reconnectWindowMs: 300 });
    const saver = new MemorySaver();
    const taskId = `gone-${streaming}`;
    const run = remote.run({ taskId, data: { ms: 60_000 }, skill: "slow", saver });
    const failed = run.catch((e: unknown) => e);
    await until(
      "the remote task is recorded",
      async () => (await readRemoteTask(saver, taskId)) !== undefined,
      5_000,
      5,
    );
    await agent.close();
    const err = (await failed) as { code?: string; message?: string };
    expect(err.code).toMatch(/^ERR_REMOTE_AGENT_(UNREACHABLE|DISCONNECTED)$/);
    expect(err.message).toMatch(/GetTask|SendStreamingMessage/);
  });
});
