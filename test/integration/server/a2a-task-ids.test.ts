import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_SHARDS, shardOf } from "../../../src/agents/ledger/shards.js";
import { type RunningServer, startCoordinatorServer } from "../../../src/server/coordinator-server.js";
import { a2aCall } from "../../helpers/a2a-rpc.js";
import { clusterPerTest, testEngines } from "../../helpers/engines.js";

/**
 * A task id holding a lone UTF-16 surrogate has no UTF-8 form: Redis is sent U+FFFD in its
 * place, so on Redis GetTask "a\uD80D" read the task stored as "a\uFFFD" (the two fall in one
 * shard). The gateway refuses such ids (params.id, a message's taskId and contextId) with
 * Invalid params naming the field, before the store is asked, on every engine.
 */

type RpcAnswer = {
  result?: { id?: string; task?: { id: string } };
  error?: { code: number; message: string; data?: Array<{ metadata?: Record<string, string> }> };
};

describe.each(testEngines("a2a-task-ids"))("A2A ids that are not well-formed Unicode, on $name", (engine) => {
  const cluster = clusterPerTest(engine);
  let server: RunningServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  // JSON.stringify writes a lone surrogate as \ud800: the server reads it back as one.
  const rpc = (method: string, params: unknown) => a2aCall<RpcAnswer>(server!.url, method, params);

  it("GetTask, CancelTask and SubscribeToTask refuse a lone-surrogate id with Invalid params; the U+FFFD task is not read", async () => {
    const c = cluster();
    const coordinator = await c.startCoordinator();
    server = await startCoordinatorServer(coordinator, { port: 0, a2aStartupSettleMs: 0 });
    // The shard is FNV-1a over UTF-16 units mod 16: it depends only on each unit's low four
    // bits, so "\uD80D" (a lone surrogate) and "\uFFFD" put an id in one shard, where the
    // store, sent U+FFFD for the lone surrogate, read the other task.
    const base = `t-${randomUUID()}-`;
    expect(shardOf(`${base}\uD80D`, DEFAULT_SHARDS)).toBe(shardOf(`${base}\uFFFD`, DEFAULT_SHARDS));
    expect(await coordinator.submitTask({ task_id: `${base}\uFFFD`, task_type: "echo" })).toBe(true);
    // The well-formed id is read as it is.
    expect((await rpc("GetTask", { id: `${base}\uFFFD` })).result?.id).toBe(`${base}\uFFFD`);

    for (const method of ["GetTask", "CancelTask", "SubscribeToTask"]) {
      const answer = await rpc(method, { id: `${base}\uD80D` });
      expect(answer.result, method).toBeUndefined();
      expect(answer.error?.code, method).toBe(-32602);
      expect(answer.error?.message).toBe(
        "Invalid params: params.id must be well-formed Unicode (lone surrogate at index 39)",
      );
      expect(answer.error?.data?.[0]?.metadata).toEqual({ field: "params.id" });
    }
    // Nothing changed: the U+FFFD task was not canceled.
    expect((await coordinator.core.getTask(`${base}\uFFFD`))?.status).toBe("pending");
  });

  it("a message whose taskId or contextId holds a lone surrogate is refused with Invalid params naming the field", async () => {
    const c = cluster();
    const coordinator = await c.startCoordinator();
    server = await startCoordinatorServer(coordinator, { port: 0, a2aStartupSettleMs: 0 });
    const message = (extra: Record<string, unknown>) => ({
      messageId: randomUUID(),
      role: "ROLE_USER",
      parts: [{ data: { task_type: "echo", payload: {} }, mediaType: "application/json" }],
      ...extra,
    });
    for (const [field, extra] of [
      ["taskId", { taskId: "x\uDC00" }],
      ["contextId", { contextId: "ctx-\uD83D" }],
    ] as const) {
      for (const method of ["SendMessage", "SendStreamingMessage"]) {
        const answer = await rpc(method, { message: message(extra) });
        expect(answer.error?.code, `${method} ${field}`).toBe(-32602);
        expect(answer.error?.message).toMatch(
          new RegExp(`^Invalid params: params\\.message\\.${field} must be well-formed Unicode`),
        );
        expect(answer.error?.data?.[0]?.metadata).toEqual({ field: `params.message.${field}` });
      }
    }
  });
});
