import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { JsonValue, Task, TaskHandler } from "../../../src/index.js";
import { type RunningServer, startCoordinatorServer } from "../../../src/server/coordinator-server.js";
import { a2aCall, sendMessageRpc, taskPart } from "../../helpers/a2a-rpc.js";
import { TestCluster } from "../../helpers/cluster.js";

/**
 * A2A requests name a `tenant`. The gateway serves none of its own, but a message's claim keeps
 * tenants apart, and so do the reads: a task started for one tenant is not found by GetTask,
 * ListTasks, CancelTask or SubscribeToTask sent for another tenant, or for none (TaskNotFound,
 * as for a task that does not exist), and a task started without one is not another tenant's.
 */

type RpcAnswer = {
  result?: { id?: string; task?: { id: string; status: { state: string } }; tasks?: Array<{ id: string }> };
  error?: { code: number; message: string };
};

const TASK_NOT_FOUND = -32001;

describe("A2A tenants: one tenant's tasks are not another's", () => {
  let cluster: TestCluster;
  let server: RunningServer;
  let acmeTask = "";
  let plainTask = "";

  const rpc = (method: string, params: Record<string, unknown>) =>
    a2aCall<RpcAnswer>(server.url, method, params);

  const sendFor = async (tenant: string | undefined): Promise<string> => {
    const { status, answer } = await sendMessageRpc<RpcAnswer>(
      server.url,
      { parts: [taskPart("count", { n: 1 })] },
      tenant === undefined ? {} : { tenant },
    );
    expect(status).toBe(200);
    expect(answer.error).toBeUndefined();
    expect(answer.result?.task?.status.state).toBe("TASK_STATE_COMPLETED");
    return answer.result!.task!.id;
  };

  beforeAll(async () => {
    const count: TaskHandler<Task> = (task: Task): JsonValue => task.payload as JsonValue;
    cluster = new TestCluster({ url: `memory://a2a-tenants-${process.pid}` }, { handlers: { count } });
    await cluster.startOne();
    server = await startCoordinatorServer(cluster.coordinator, { port: 0, a2aStartupSettleMs: 0 });
    acmeTask = await sendFor("acme");
    plainTask = await sendFor(undefined);
  });

  afterAll(async () => {
    await server?.close();
    await cluster?.stop();
  });

  it("GetTask finds a task for its own tenant only", async () => {
    expect((await rpc("GetTask", { id: acmeTask, tenant: "acme" })).result?.id).toBe(acmeTask);
    for (const tenant of ["other", "", undefined]) {
      const answer = await rpc("GetTask", { id: acmeTask, ...(tenant === undefined ? {} : { tenant }) });
      expect(answer.result, `tenant ${tenant}`).toBeUndefined();
      expect(answer.error?.code, `tenant ${tenant}`).toBe(TASK_NOT_FOUND);
    }
    expect((await rpc("GetTask", { id: plainTask })).result?.id).toBe(plainTask);
    expect((await rpc("GetTask", { id: plainTask, tenant: "acme" })).error?.code).toBe(TASK_NOT_FOUND);
  });

  it("ListTasks lists a tenant's tasks to that tenant only", async () => {
    const ids = async (tenant?: string) =>
      ((await rpc("ListTasks", tenant === undefined ? {} : { tenant })).result?.tasks ?? []).map((t) => t.id);
    const acme = await ids("acme");
    expect(acme).toContain(acmeTask);
    expect(acme).not.toContain(plainTask);
    const none = await ids();
    expect(none).toContain(plainTask);
    expect(none).not.toContain(acmeTask);
    const other = await ids("other");
    expect(other).not.toContain(acmeTask);
    expect(other).not.toContain(plainTask);
  });

  it("ListTasks reads the envelopes of the page it answers only, not one per task it filters by tenant", async () => {
    for (let i = 0; i < 4; i++) {
      await sendFor("acme");
      await sendFor(undefined);
    }
    const store = cluster.coordinator.store;
    const envelopeReads = vi.spyOn(store, "get");
    try {
      const reads = () =>
        envelopeReads.mock.calls.filter(([key]) => String(key).startsWith("a2a:task:")).length;
      for (const tenant of ["acme", undefined]) {
        envelopeReads.mockClear();
        const answer = await rpc("ListTasks", { pageSize: 2, ...(tenant === undefined ? {} : { tenant }) });
        expect(answer.result?.tasks, `tenant ${tenant}`).toHaveLength(2);
        // Ten tasks listed, five of each; the two of the page are read, not all ten.
        expect(reads(), `tenant ${tenant}`).toBeLessThanOrEqual(2);
      }
    } finally {
      envelopeReads.mockRestore();
    }
  });

  it("a task whose envelope has no note (written before notes, or by an earlier release) is still its tenant's alone", async () => {
    const store = cluster.coordinator.store;
    const id = `old-envelope-${randomUUID()}`;
    expect(await cluster.coordinator.submitTask({ task_id: id, task_type: "count", payload: { n: 2 } })).toBe(
      true,
    );
    // An envelope as an earlier release wrote it: acme's, with no note beside it.
    const envelope = (await store.get(`a2a:task:${acmeTask}`)) as Record<string, unknown>;
    expect(envelope.triad_tenant).toBe("acme");
    await store.set(`a2a:task:${id}`, { ...envelope, id, contextId: id }, 600);
    const ids = async (tenant?: string) =>
      (
        (await rpc("ListTasks", { pageSize: 100, ...(tenant === undefined ? {} : { tenant }) })).result
          ?.tasks ?? []
      ).map((t) => t.id);
    expect(await ids("acme")).toContain(id);
    expect(await ids()).not.toContain(id);
    expect(await ids("other")).not.toContain(id);
  });

  it("CancelTask and SubscribeToTask of another tenant's task are TaskNotFound", async () => {
    expect((await rpc("CancelTask", { id: acmeTask, tenant: "other" })).error?.code).toBe(TASK_NOT_FOUND);
    expect((await rpc("SubscribeToTask", { id: acmeTask })).error?.code).toBe(TASK_NOT_FOUND);
    // Its own tenant still sees it, as it was.
    const own = await rpc("GetTask", { id: acmeTask, tenant: "acme" });
    expect(own.result?.id).toBe(acmeTask);
  });
});
