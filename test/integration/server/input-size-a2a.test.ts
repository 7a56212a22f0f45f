import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HandlerContext, JsonValue, Task, TaskHandler } from "../../../src/index.js";
import { type RunningServer, startCoordinatorServer } from "../../../src/server/coordinator-server.js";
import { TestCluster } from "../../helpers/cluster.js";
import { until } from "../../helpers/wait.js";

/**
 * An answer too large for its task (ERR_INPUT_TOO_LARGE: with it, the task could no longer be
 * sent to a distributor) at the coordinator's HTTP entries: REST says 413; over A2A it is the
 * request's error (-32602) and the task is still INPUT_REQUIRED, not a task shown FAILED
 * ("Agent execution error") while it waits on.
 */

const LIMIT = 64 * 1024;

describe("an answer too large for its task, over REST and A2A", () => {
  let cluster: TestCluster;
  let server: RunningServer;
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${server.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", "a2a-version": "1.0" },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const answerOverA2A = (taskId: string, data: JsonValue) =>
    post("/a2a/jsonrpc", {
      jsonrpc: "2.0",
      id: 1,
      method: "SendMessage",
      params: { message: { messageId: randomUUID(), role: "ROLE_USER", taskId, parts: [{ data }] } },
    });

  beforeAll(async () => {
    const ask = (_task: Task, ctx: HandlerContext): JsonValue => {
      if (ctx.inputs.length < 1) ctx.requestInput({ what: "anything" });
      return { given: ctx.inputs.length };
    };
    cluster = new TestCluster(
      { url: `memory://input-size-a2a-${process.pid}` },
      { handlers: { ask } as Record<string, TaskHandler<Task>> },
    );
    await cluster.startOne();
    // What a coordinator listening over HTTP sets from its body limit (in-process, none).
    cluster.coordinator.core.input.limitTaskSize(LIMIT);
    server = await startCoordinatorServer(cluster.coordinator, { port: 0 });
  });

  afterAll(async () => {
    await server?.close();
    await cluster?.stop();
  });

  it("is refused with its reason and the task keeps waiting; a smaller one is taken", async () => {
    const id = cluster.id("asks");
    await cluster.coordinator.submitTask({ task_id: id, task_type: "ask", payload: {} });
    await until(
      "the task asks",
      async () => (await cluster.coordinator.core.getTask(id))?.status === "input_required",
    );
    const big = { text: "x".repeat(LIMIT) };

    const rest = await post(`/tasks/${id}/input`, { value: big });
    expect(rest.status).toBe(413);
    expect(rest.body.error).toMatchObject({ code: "ERR_INPUT_TOO_LARGE" });

    const rpc = await answerOverA2A(id, big);
    expect(rpc.body).toMatchObject({
      error: {
        code: -32602,
        message: expect.stringMatching(/^ERR_INPUT_TOO_LARGE: .*still waits for input/),
      },
    });
    expect(rpc.body.result).toBeUndefined();
    expect(await cluster.coordinator.core.getTask(id)).toMatchObject({ status: "input_required" });

    const small = await answerOverA2A(id, { text: "ok" });
    expect(small.body.error).toBeUndefined();
    expect(await cluster.coordinator.waitForTask(id, 8000)).toMatchObject({
      status: "completed",
      result: { given: 1 },
    });
  });
});
