import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { PACKED_TASKS } from "../../../src/agents/packed-tasks.js";
import type { JsonObject } from "../../../src/core/json.js";
import { CoordinatorAgent, DistributorAgent, WorkerAgent } from "../../../src/index.js";
import { FAST } from "../../helpers/cluster.js";

/**
 * Between processes the tiers send their task lists as columns (src/agents/packed-tasks.ts),
 * each to a peer whose message stream said it reads them. Three tiers over HTTP, no router: one
 * worker of this release and one that reads no codec (as a worker of an earlier release): every
 * task completes with its own result, the packed lists of all three kinds were decoded on the
 * way, and the older worker was only ever sent lists of dicts.
 */

describe("task lists as columns between processes", () => {
  const agents: Array<{ cleanup(): Promise<void> }> = [];
  const run = Math.random().toString(36).slice(2, 7);
  let coordinator: CoordinatorAgent;
  let older: WorkerAgent;
  /** event_type of every packed payload decoded, by the receiving side's codec. */
  const decoded: string[] = [];

  beforeAll(async () => {
    const decode = PACKED_TASKS.decode;
    vi.spyOn(PACKED_TASKS, "decode").mockImplementation((payload) => {
      const data = payload.event_data as JsonObject | undefined;
      if (data?.packed !== undefined) decoded.push(String(payload.event_type));
      return decode(payload);
    });
    const redis = { url: `memory://packed-wire-${process.pid}-${run}` };
    const a2a = (agentId: string) => ({
      agentId,
      tokenSecret: "packed-wire-secret",
      agentPort: 0,
      host: "127.0.0.1",
      router: null,
    });
    coordinator = new CoordinatorAgent({ agentId: `c-${run}`, redis, a2a: a2a(`c-${run}`), timing: FAST });
    agents.push(coordinator);
    await coordinator.initialize();
    const distributor = new DistributorAgent({
      agentId: `d-${run}`,
      coordinatorId: coordinator.agentId,
      coordinatorUrl: coordinator.url!,
      redis,
      a2a: a2a(`d-${run}`),
      timing: FAST,
    });
    agents.push(distributor);
    await distributor.initialize();
    const current = new WorkerAgent({
      agentId: `w-${run}`,
      distributorId: distributor.agentId,
      distributorUrl: distributor.a2a.url!,
      a2a: a2a(`w-${run}`),
      timing: FAST,
      concurrency: 16,
    });
    older = new WorkerAgent({
      agentId: `old-${run}`,
      distributorId: distributor.agentId,
      distributorUrl: distributor.a2a.url!,
      // No codec: no Triad-Payload-Codec on its streams, and nothing packed is read.
      a2a: { ...a2a(`old-${run}`), payloadCodec: undefined },
      timing: FAST,
      concurrency: 16,
    });
    for (const w of [current, older]) {
      agents.push(w);
      await w.initialize();
    }
    const deadline = performance.now() + 10_000;
    while ((coordinator.core.directory.get(distributor.agentId)?.workers.length ?? 0) < 2) {
      if (performance.now() > deadline) throw new Error("the cluster did not become ready");
      await new Promise((r) => setTimeout(r, 20));
    }
  }, 30_000);

  afterAll(async () => {
    vi.restoreAllMocks();
    for (const a of agents.reverse()) await a.cleanup().catch(() => {});
  });

  it("runs every task through both workers, the lists packed wherever the peer reads them", async () => {
    const toOlder = vi.spyOn(older, "processMessage");
    const rounds = 6;
    const all: Array<{ task_id: string; task_type: string; payload: JsonObject }> = [];
    for (let r = 0; r < rounds; r++) {
      const batch = Array.from({ length: 50 }, (_, i) => ({
        task_id: `p-${run}-${r}-${i}`,
        task_type: "echo",
        payload: { r, i, text: "x".repeat(i) },
      }));
      all.push(...batch);
      await coordinator.submitTasks(batch);
      await Promise.all(batch.map((t) => coordinator.waitForTask(t.task_id, 15_000)));
    }
    // A task with a dependency has a member a column does not carry: its lists go as dicts.
    const first = all[0]!.task_id;
    const dependent = {
      task_id: `dep-${run}`,
      task_type: "echo",
      payload: { dep: true },
      depends_on: [first],
    };
    await coordinator.submitTask(dependent);
    all.push(dependent);
    const done = await Promise.all(all.map((t) => coordinator.waitForTask(t.task_id, 15_000)));
    done.forEach((t, k) => {
      expect(t).toMatchObject({ status: "completed", result: all[k]!.payload });
    });
    expect(new Set(decoded)).toEqual(new Set(["assign_tasks", "execute_tasks", "task_terminal"]));
    // The worker that reads no codec ran its share, from lists of dicts only (it cannot read packed ones).
    expect(done.filter((t) => t?.assigned_to === older.agentId).length).toBeGreaterThan(0);
    const executes = toOlder.mock.calls
      .map(([m]) => m.payload)
      .filter((p) => p.event_type === "execute_tasks");
    expect(executes.length).toBeGreaterThan(1);
    for (const p of executes) {
      expect(p.event_data).toHaveProperty("tasks");
      expect(p.event_data).not.toHaveProperty("packed");
    }
  }, 60_000);
});
