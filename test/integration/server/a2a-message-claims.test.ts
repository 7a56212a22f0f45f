import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  CoordinatorAgent,
  DistributorAgent,
  type JsonValue,
  RedisClient,
  type RedisConfig,
  type Task,
  type TaskHandler,
  WorkerAgent,
} from "../../../src/index.js";
import { clusterTaskTypes } from "../../../src/server/a2a-gateway/cluster-task-types.js";
import { claimMessage, claimName } from "../../../src/server/a2a-gateway/message-claims.js";
import { type RunningServer, startCoordinatorServer } from "../../../src/server/coordinator-server.js";
import { type RpcMessage, sendMessageRpc } from "../../helpers/a2a-rpc.js";
import { FAST, FaultyRouter } from "../../helpers/cluster.js";
import { testEngines } from "../../helpers/engines.js";
import { until } from "../../helpers/wait.js";

/**
 * A message sent twice (a client retrying SendMessage after a timeout, to the same coordinator
 * or another of the cluster) is one task: the second send answers the task the first started,
 * and the work runs once. The claim is in the store the coordinators share (a Lua script and
 * its embedded twin), so this holds on every engine.
 */

const TIMING = { ...FAST, heartbeatTimeoutMs: 5000 };

type RpcAnswer = {
  result?: { task?: { id: string; contextId: string; status: { state: string } } };
  error?: unknown;
};

class Two {
  readonly router = new FaultyRouter();
  readonly coordinators: CoordinatorAgent[] = [];
  readonly servers: RunningServer[] = [];
  /** Runs of the `count` handler, by the payload's tag. */
  readonly runs = new Map<string, number>();
  private readonly stops: Array<() => Promise<void>> = [];
  private readonly run = Math.random().toString(36).slice(2, 7);

  constructor(private readonly redis: RedisConfig) {}

  async start(): Promise<void> {
    for (const i of [1, 2]) {
      this.coordinators.push(
        new CoordinatorAgent({
          agentId: `c${i}-${this.run}`,
          redis: this.redis,
          a2a: { router: this.router },
          timing: TIMING,
          placementTimeoutMs: 20_000,
        }),
      );
    }
    await Promise.all(this.coordinators.map((c) => c.initialize()));
    for (const c of this.coordinators) this.servers.push(await startCoordinatorServer(c, { port: 0 }));
    const d = new DistributorAgent({
      agentId: `d-${this.run}`,
      coordinatorId: this.coordinators[0]!.agentId,
      redis: this.redis,
      a2a: { router: this.router },
      timing: TIMING,
    });
    await d.initialize();
    const count = async (task: Task): Promise<JsonValue> => {
      const tag = String((task.payload as { tag?: unknown }).tag);
      this.runs.set(tag, (this.runs.get(tag) ?? 0) + 1);
      return { tag };
    };
    const w = new WorkerAgent({
      agentId: `w-${this.run}`,
      distributorId: d.agentId,
      a2a: { router: this.router },
      timing: TIMING,
      handlers: { count } as Record<string, TaskHandler<Task>>,
    });
    await w.initialize();
    this.stops.push(
      () => w.cleanup(),
      () => d.cleanup(),
    );
    await until("every coordinator knows the worker's task types", () =>
      this.coordinators.every((c) => (c.core.directory.get(d.agentId)?.capacity ?? 0) > 0),
    );
    this.distributor = d.agentId;
  }

  private distributor = "";

  /** A second worker, running `late` (counted as `count` is), known to every coordinator. */
  async lateWorker(): Promise<void> {
    const late = async (task: Task): Promise<JsonValue> => {
      const tag = String((task.payload as { tag?: unknown }).tag);
      this.runs.set(tag, (this.runs.get(tag) ?? 0) + 1);
      return { tag };
    };
    const w = new WorkerAgent({
      agentId: `w-late-${this.run}`,
      distributorId: this.distributor,
      a2a: { router: this.router },
      timing: TIMING,
      handlers: { late } as Record<string, TaskHandler<Task>>,
    });
    await w.initialize();
    this.stops.unshift(() => w.cleanup());
    await until(
      "every coordinator knows the late worker's task type",
      () => this.coordinators.every((c) => clusterTaskTypes(c).types.includes("late")),
      20_000,
    );
  }

  /** SendMessage to coordinator `i` (blocking: answered with the finished task), for `tenant` if given. */
  async send(i: number, message: RpcMessage, tenant?: string): Promise<RpcAnswer> {
    const { status, answer } = await sendMessageRpc<RpcAnswer>(
      this.servers[i]!.url,
      message,
      tenant === undefined ? {} : { tenant },
    );
    expect(status).toBe(200);
    return answer;
  }

  /** SendStreamingMessage to coordinator `i`: its events' results, in order. */
  async stream(i: number, message: Record<string, unknown>): Promise<Array<Record<string, unknown>>> {
    const res = await fetch(`${this.servers[i]!.url}/a2a/jsonrpc`, {
      method: "POST",
      headers: { "content-type": "application/json", "a2a-version": "1.0" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "SendStreamingMessage", params: { message } }),
    });
    const text = await res.text();
    return text
      .split("\n\n")
      .filter((block) => block.startsWith("data:"))
      .map((block) => (JSON.parse(block.slice(5)) as { result: Record<string, unknown> }).result);
  }

  async stop(): Promise<void> {
    for (const s of this.stops) await s().catch(() => {});
    for (const s of this.servers) await s.close().catch(() => {});
    for (const c of this.coordinators) await c.cleanup().catch(() => {});
  }
}

const message = (tag: string, extra: Record<string, unknown> = {}) => ({
  messageId: `m-${randomUUID()}`,
  role: "ROLE_USER",
  parts: [{ data: { task_type: "count", payload: { tag } }, mediaType: "application/json" }],
  ...extra,
});

describe.each(testEngines("a2a-message-claims"))("a message sent twice, on $name", (engine) => {
  let two: Two | undefined;
  beforeAll(() => engine.setup(), 60_000);
  afterEach(async () => {
    await two?.stop();
    two = undefined;
  });
  afterAll(() => engine.teardown());

  it("sent again to another coordinator, answers the task the first send started; the work ran once", async () => {
    two = new Two(engine.config());
    await two.start();
    const m = message("retried");
    const first = await two.send(0, m);
    expect(first.error).toBeUndefined();
    expect(first.result?.task?.status.state).toBe("TASK_STATE_COMPLETED");
    for (const i of [1, 0]) {
      const again = await two.send(i, m);
      expect(again.error).toBeUndefined();
      expect(again.result?.task).toMatchObject({
        id: first.result!.task!.id,
        contextId: first.result!.task!.contextId,
        status: { state: "TASK_STATE_COMPLETED" },
      });
    }
    expect(two.runs.get("retried")).toBe(1);
    // Another message with the same content is another task.
    const other = await two.send(1, message("retried"));
    expect(other.result?.task?.id).not.toBe(first.result!.task!.id);
    expect(two.runs.get("retried")).toBe(2);
  });

  it("sent to both coordinators at once, is one task that runs once", async () => {
    two = new Two(engine.config());
    await two.start();
    const m = message("at-once", { contextId: `ctx-${randomUUID()}` });
    const [a, b] = await Promise.all([two.send(0, m), two.send(1, m)]);
    expect(a.result?.task?.id).toEqual(expect.any(String));
    expect(b.result?.task?.id).toBe(a.result?.task?.id);
    expect([a.result?.task?.status.state, b.result?.task?.status.state]).toEqual([
      "TASK_STATE_COMPLETED",
      "TASK_STATE_COMPLETED",
    ]);
    expect(two.runs.get("at-once")).toBe(1);
    // The same messageId in another context is another message.
    const elsewhere = await two.send(0, { ...m, contextId: `ctx-${randomUUID()}` });
    expect(elsewhere.result?.task?.id).not.toBe(a.result?.task?.id);
    expect(two.runs.get("at-once")).toBe(2);
  });

  it("the same messageId and context from two A2A tenants are two messages: each tenant gets its own task", async () => {
    two = new Two(engine.config());
    await two.start();
    const m = message("tenants", { contextId: `ctx-${randomUUID()}` });
    const a = await two.send(0, m, "tenant-a");
    const b = await two.send(1, m, "tenant-b");
    expect(a.error).toBeUndefined();
    expect(b.error).toBeUndefined();
    expect(a.result?.task?.status.state).toBe("TASK_STATE_COMPLETED");
    expect(b.result?.task?.status.state).toBe("TASK_STATE_COMPLETED");
    expect(b.result?.task?.id).not.toBe(a.result?.task?.id);
    expect(two.runs.get("tenants")).toBe(2);
    // Sent again by each tenant: its own task, nothing runs again; without a tenant, a third.
    expect((await two.send(1, m, "tenant-a")).result?.task?.id).toBe(a.result?.task?.id);
    expect((await two.send(0, m, "tenant-b")).result?.task?.id).toBe(b.result?.task?.id);
    expect(two.runs.get("tenants")).toBe(2);
    const none = await two.send(0, m);
    expect([a.result?.task?.id, b.result?.task?.id]).not.toContain(none.result?.task?.id);
    expect(two.runs.get("tenants")).toBe(3);
  });

  it("a message refused (no worker runs its type) is judged afresh when sent again, under the same task id", async () => {
    two = new Two(engine.config());
    await two.start();
    const m = {
      ...message("late"),
      parts: [{ data: { task_type: "late", payload: { tag: "late" } }, mediaType: "application/json" }],
    };
    const refused = await two.send(0, m);
    expect(refused.result?.task?.status.state).toBe("TASK_STATE_REJECTED");
    await two.lateWorker();
    const again = await two.send(1, m);
    expect(again.result?.task).toMatchObject({
      id: refused.result!.task!.id,
      status: { state: "TASK_STATE_COMPLETED" },
    });
    expect(two.runs.get("late")).toBe(1);
  });

  it("sent again as a stream, the stream carries the first send's task; the work ran once", async () => {
    two = new Two(engine.config());
    await two.start();
    const m = message("streamed");
    const first = await two.send(0, m);
    const events = await two.stream(1, m);
    expect(events[0]).toMatchObject({
      task: { id: first.result!.task!.id, status: { state: "TASK_STATE_COMPLETED" } },
    });
    expect(two.runs.get("streamed")).toBe(1);
  });

  it("the claim (script and twin): the first send's task wins, and is forgotten after its time to live", async () => {
    const store = new RedisClient(engine.config());
    expect(await store.connect()).toBe(true);
    try {
      const key = claimName("user", "", "m-1");
      expect(key).toBe(claimName("user", "", "m-1"));
      expect(claimName("user", "ctx", "m-1")).not.toBe(key);
      expect(claimName("other", "", "m-1")).not.toBe(key);
      // A tenant is part of the name; none (or "") keeps the name a message had before tenants.
      expect(claimName("user", "", "m-1", "tenant")).not.toBe(key);
      expect(claimName("user", "", "m-1", "")).toBe(key);
      expect(await store.runScript(claimMessage, [key], ["task-a", 400])).toBe("task-a");
      expect(await store.runScript(claimMessage, [key], ["task-b", 400])).toBe("task-a");
      await until("the claim expires", async () => !(await store.exists(key)), 10_000);
      expect(await store.runScript(claimMessage, [key], ["task-b", 60_000])).toBe("task-b");
    } finally {
      await store.disconnect();
    }
  });
});
