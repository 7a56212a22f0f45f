import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_TASK_ID_LENGTH } from "../../../src/core/state/task-id.js";
import { type RunningServer, startCoordinatorServer } from "../../../src/server/coordinator-server.js";
import { a2aCall } from "../../helpers/a2a-rpc.js";
import { TestCluster } from "../../helpers/cluster.js";

/**
 * The ids an A2A request names are strings (A2A 1.0: Message.taskId and contextId, GetTask's id,
 * ListTasks' contextId) of at most a task id's length: a number was taken as its string (taskId
 * 5 named the task "5"), and a 100,000-character id was looked up and repeated whole in the
 * "unknown task" error. Each is refused with Invalid params naming the field, before any
 * lookup, and no error repeats more than a bounded prefix of what the client sent.
 */

type RpcAnswer = {
  result?: { task?: { id: string; contextId: string }; tasks?: unknown[] };
  error?: {
    code: number;
    message: string;
    data?: Array<{ reason?: string; metadata?: Record<string, string> }>;
  };
};

/** The most of a client's id an error may repeat, and then some words around it. */
const MAX_ERROR_MESSAGE = 400;

describe("the ids an A2A request names", () => {
  let cluster: TestCluster;
  let server: RunningServer;
  const rpc = (method: string, params: unknown) => a2aCall<RpcAnswer>(server.url, method, params);
  const message = (extra: Record<string, unknown>) => ({
    message: {
      messageId: randomUUID(),
      role: "ROLE_USER",
      parts: [{ data: { task_type: "echo", payload: {} } }],
      ...extra,
    },
    configuration: { returnImmediately: true },
  });
  const expectInvalid = (answer: RpcAnswer, field: string, message: string, what: string) => {
    expect(answer.result, what).toBeUndefined();
    expect(answer.error?.code, what).toBe(-32602);
    expect(answer.error?.message, what).toBe(`Invalid params: ${field} ${message}`);
    expect(answer.error?.data?.[0], what).toMatchObject({ reason: "INVALID_PARAMS", metadata: { field } });
  };

  beforeAll(async () => {
    cluster = new TestCluster({ url: `memory://a2a-id-params-${process.pid}` });
    await cluster.startOne();
    server = await startCoordinatorServer(cluster.coordinator, { port: 0, a2aStartupSettleMs: 0 });
  });

  afterAll(async () => {
    await server?.close();
    await cluster?.stop();
  });

  it("a message's taskId or contextId that is not a string is refused naming the field", async () => {
    // The task "5" exists: taskId 5 must not name it.
    expect(await cluster.coordinator.submitTask({ task_id: "5", task_type: "echo" })).toBe(true);
    expect(await cluster.coordinator.waitForTask("5", 30_000)).toMatchObject({ status: "completed" });
    const before = await cluster.coordinator.ledger.openTaskIds();
    for (const field of ["taskId", "contextId"]) {
      for (const [value, shown] of [
        [5, "5"],
        [true, "true"],
        [{ id: "5" }, "an object"],
        [["5"], "an array"],
      ] as const) {
        for (const method of ["SendMessage", "SendStreamingMessage"]) {
          expectInvalid(
            await rpc(method, message({ [field]: value })),
            `params.message.${field}`,
            `must be a string, got ${shown}`,
            `${method} ${field} ${shown}`,
          );
        }
      }
    }
    expect(await cluster.coordinator.ledger.openTaskIds()).toEqual(before);
  });

  it("a task id longer than MAX_TASK_ID_LENGTH is refused naming the field and its length, not looked up nor repeated", async () => {
    for (const length of [MAX_TASK_ID_LENGTH + 1, 100_000]) {
      const id = "t".repeat(length);
      const why = `is ${length} characters; at most ${MAX_TASK_ID_LENGTH} are taken (as for a task id)`;
      for (const method of ["SendMessage", "SendStreamingMessage"]) {
        const answer = await rpc(method, message({ taskId: id }));
        expectInvalid(answer, "params.message.taskId", why, `${method} ${length}`);
      }
      for (const method of ["GetTask", "CancelTask", "SubscribeToTask"]) {
        const answer = await rpc(method, { id });
        expectInvalid(answer, "params.id", why, `${method} ${length}`);
      }
    }
  });

  it("a task id that is not a string is shown bounded", async () => {
    for (const method of ["GetTask", "CancelTask", "SubscribeToTask"]) {
      const answer = await rpc(method, { id: ["t".repeat(100_000)] });
      expect(answer.error?.code, method).toBe(-32602);
      expect(answer.error!.message.length, method).toBeLessThan(MAX_ERROR_MESSAGE);
    }
  });

  it("an unknown task id within the bound is TaskNotFound, its error bounded", async () => {
    const id = `u${"x".repeat(MAX_TASK_ID_LENGTH - 1)}`;
    for (const [method, params] of [
      ["GetTask", { id }],
      ["SendMessage", message({ taskId: id })],
    ] as const) {
      const answer = await rpc(method, params);
      expect(answer.error?.code, method).toBe(-32001);
      expect(answer.error!.message.length, method).toBeLessThan(MAX_ERROR_MESSAGE);
    }
  });

  it("ListTasks' contextId longer than a task id, or not a string, is refused naming params.contextId", async () => {
    for (const length of [MAX_TASK_ID_LENGTH + 1, 100_000]) {
      expectInvalid(
        await rpc("ListTasks", { contextId: "c".repeat(length) }),
        "params.contextId",
        `is ${length} characters; at most ${MAX_TASK_ID_LENGTH} are taken (as for a task id)`,
        `${length}`,
      );
    }
    expectInvalid(
      await rpc("ListTasks", { contextId: 5 }),
      "params.contextId",
      "must be a string, got 5",
      "5",
    );
    // Within the bound it filters as before.
    const contextId = "c".repeat(MAX_TASK_ID_LENGTH);
    const sent = await rpc("SendMessage", message({ contextId }));
    expect(sent.error).toBeUndefined();
    const listed = await rpc("ListTasks", { contextId });
    expect(listed.error).toBeUndefined();
    expect(listed.result?.tasks).toHaveLength(1);
  });
});
