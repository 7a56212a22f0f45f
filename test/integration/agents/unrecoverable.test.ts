import { Annotation, END, START, StateGraph } from "@langchain/langgraph";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { TaskEvent } from "../../../src/agents/observe/task-history.js";
import { a2aAgentHandler, type Task, type TaskHandler, UnrecoverableError } from "../../../src/index.js";
import { taskView } from "../../../src/server/dashboard/task-view.js";
import { type EdgeAgent, startEdgeAgent } from "../../helpers/a2a-edge-agent.js";
import { TestCluster } from "../../helpers/cluster.js";
import { testEngines } from "../../helpers/engines.js";

/**
 * A handler that knows another try cannot help fails its task at once (SPEC "Retries"):
 * UnrecoverableError (or an error named so, as BullMQ's, or one with `retryable: false`) ends the
 * task failed after one attempt, whatever retries it has left; any other error is retried. A
 * remote A2A agent that refuses the token (HTTP 401) or the task (REJECTED) does the same.
 */

/** An error of another library with the same name (a handler moved from BullMQ throws its own). */
class ForeignUnrecoverable extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnrecoverableError";
  }
}

const State = Annotation.Root({ n: Annotation<number> });
const failingGraph = new StateGraph(State)
  .addNode("check", () => {
    throw new UnrecoverableError("the graph found the input wrong");
  })
  .addEdge(START, "check")
  .addEdge("check", END)
  .compile() as unknown as TaskHandler<Task>;

describe.each(testEngines("unrecoverable", { cluster: true }))("unrecoverable failures ($name)", (engine) => {
  let agent: EdgeAgent;
  let cluster: TestCluster | undefined;
  const runs = new Map<string, number>();
  const ran = (type: string) => runs.set(type, (runs.get(type) ?? 0) + 1);

  beforeAll(async () => {
    await engine.setup();
    agent = await startEdgeAgent({ streaming: false, token: "right-token" });
  });
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });
  afterAll(async () => {
    await agent.close();
    await engine.teardown();
  });

  const handlers = (): Record<string, TaskHandler<Task>> => ({
    fatal: () => {
      ran("fatal");
      throw new UnrecoverableError("bad input: no such account");
    },
    foreign: () => {
      ran("foreign");
      throw new ForeignUnrecoverable("BullMQ says stop");
    },
    flagged: () => {
      ran("flagged");
      throw Object.assign(new Error("flagged not retryable"), { retryable: false });
    },
    flaky: () => {
      ran("flaky");
      throw new Error("try again");
    },
    graph: failingGraph,
    refused_token: a2aAgentHandler(agent.url, {
      skill: "texts",
      token: "wrong-token",
    }) as unknown as TaskHandler<Task>,
    refused_task: a2aAgentHandler(agent.url, {
      skill: "no-such-skill",
      token: "right-token",
    }) as unknown as TaskHandler<Task>,
  });

  const start = async () => {
    cluster = new TestCluster(engine.config(), { handlers: handlers() });
    await cluster.startOne();
    return cluster;
  };

  // Every type has 2 retries here (TestCluster's coordinator): 3 attempts unless one says stop.
  const runTask = async (c: TestCluster, type: string) => {
    const id = `${type}-${engine.name}-${Math.random().toString(36).slice(2, 7)}`;
    expect(await c.coordinator.submitTask({ task_id: id, task_type: type, payload: {} })).toBe(true);
    const reply = await c.coordinator.waitForTask(id, 15_000);
    expect(reply, `task ${id} ended`).not.toBeNull();
    return (await c.coordinator.core.getTask(id))!;
  };

  /** The committed step of the task's history, as the dashboard's task page (GET /tasks/:id/history) has it. */
  const committedStep = async (c: TestCluster, id: string) => {
    const view = await taskView(c.coordinator, id);
    const step = view?.timeline.find((s) => s.event === "committed");
    return step as TaskEvent | undefined;
  };

  it("UnrecoverableError, an error named so, and retryable: false end the task failed after one attempt; any other error is retried", async () => {
    const c = await start();
    for (const [type, error] of [
      ["fatal", "bad input: no such account"],
      ["foreign", "BullMQ says stop"],
      ["flagged", "flagged not retryable"],
    ] as const) {
      const task = await runTask(c, type);
      expect(task, type).toMatchObject({ status: "failed", attempts: 1, error });
      expect(runs.get(type), `${type}'s handler runs`).toBe(1);
      // The history says why it failed with retries left: not retryable.
      await expect
        .poll(() => committedStep(c, task.task_id), { timeout: 5000 })
        .toMatchObject({ status: "failed", attempt: 1, reason: "not_retryable", error });
    }
    const flaky = await runTask(c, "flaky");
    expect(flaky).toMatchObject({ status: "failed", attempts: 3, error: "try again" });
    expect(runs.get("flaky")).toBe(3);
    // Out of retries is not "not retryable": the history shows its two retries and no reason.
    await expect
      .poll(() => committedStep(c, flaky.task_id), { timeout: 5000 })
      .toMatchObject({ status: "failed", attempt: 3 });
    expect((await committedStep(c, flaky.task_id))?.reason).toBeUndefined();
    const events = c.coordinator.observer.history.get(flaky.task_id).map((e) => e.event);
    expect(events.filter((e) => e === "retried")).toHaveLength(2);
  });

  it("a LangGraph node throwing UnrecoverableError fails its task after one attempt", async () => {
    const c = await start();
    expect(await runTask(c, "graph")).toMatchObject({
      status: "failed",
      attempts: 1,
      error: "the graph found the input wrong",
    });
  });

  it("a remote agent refusing the bearer token (401) or the task (REJECTED) fails the task after one attempt", async () => {
    const c = await start();
    const token = await runTask(c, "refused_token");
    expect(token).toMatchObject({ status: "failed", attempts: 1 });
    expect(token.error).toMatch(
      /HTTP 401 unauthorized: the bearer token sent \(TRIAD_A2A_AGENT_TOKEN\) was refused/,
    );
    const task = await runTask(c, "refused_task");
    expect(task).toMatchObject({ status: "failed", attempts: 1 });
    expect(task.error).toMatch(/no skill "no-such-skill"/);
  });
});
