import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_TASK_ID_LENGTH } from "../../../src/core/state/task-id.js";
import { type RunningServer, startCoordinatorServer } from "../../../src/server/coordinator-server.js";
import { sendMessageRpc } from "../../helpers/a2a-rpc.js";
import { TestCluster } from "../../helpers/cluster.js";

/**
 * A message's contextId is kept with its task (its A2A envelope, for as long as the record) and
 * carried in every status update: it is bounded as a task id is (MAX_TASK_ID_LENGTH), and a
 * longer one is refused with Invalid params naming the field, before anything is recorded (a
 * 300,000-character contextId was stored and sent back with every event).
 */

type RpcAnswer = {
  result?: { task?: { id: string; contextId: string } };
  error?: {
    code: number;
    message: string;
    data?: Array<{ reason?: string; metadata?: Record<string, string> }>;
  };
};

describe("an A2A message's contextId", () => {
  let cluster: TestCluster;
  let server: RunningServer;
  const rpc = async (method: string, contextId: string): Promise<RpcAnswer> => {
    const { status, answer } = await sendMessageRpc<RpcAnswer>(
      server.url,
      { contextId, parts: [{ data: { task_type: "echo", payload: {} } }] },
      { method, configuration: { returnImmediately: true } },
    );
    expect(status).toBe(200);
    return answer;
  };

  beforeAll(async () => {
    cluster = new TestCluster({ url: `memory://a2a-context-id-bound-${process.pid}` });
    await cluster.startOne();
    server = await startCoordinatorServer(cluster.coordinator, { port: 0, a2aStartupSettleMs: 0 });
  });

  afterAll(async () => {
    await server?.close();
    await cluster?.stop();
  });

  it("longer than a task id is refused with Invalid params naming it, nothing recorded", async () => {
    const before = await cluster.coordinator.ledger.openTaskIds();
    for (const length of [MAX_TASK_ID_LENGTH + 1, 300_000]) {
      for (const method of ["SendMessage", "SendStreamingMessage"]) {
        const answer = await rpc(method, "c".repeat(length));
        expect(answer.result, `${method} ${length}`).toBeUndefined();
        expect(answer.error?.code).toBe(-32602);
        expect(answer.error?.message).toBe(
          `Invalid params: params.message.contextId is ${length} characters; at most ${MAX_TASK_ID_LENGTH} are taken (as for a task id)`,
        );
        expect(answer.error?.data?.[0]).toMatchObject({
          reason: "INVALID_PARAMS",
          metadata: { field: "params.message.contextId" },
        });
      }
    }
    expect(await cluster.coordinator.ledger.openTaskIds()).toEqual(before);
  });

  it("of exactly a task id's bound is taken, and kept", async () => {
    const contextId = "c".repeat(MAX_TASK_ID_LENGTH);
    const answer = await rpc("SendMessage", contextId);
    expect(answer.error).toBeUndefined();
    expect(answer.result?.task?.contextId).toBe(contextId);
    expect(await cluster.coordinator.waitForTask(answer.result!.task!.id, 30_000)).toMatchObject({
      status: "completed",
    });
  });
});
