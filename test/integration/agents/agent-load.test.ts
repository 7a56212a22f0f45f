import { describe, expect, it } from "vitest";
import { agentList } from "../../../src/server/coordinator-api.js";
import { FAST } from "../../helpers/cluster.js";
import { clusterPerTest, testEngines } from "../../helpers/engines.js";
import { until } from "../../helpers/wait.js";

type Listed = { load: number; running?: number; queued?: number; capacity?: number };

/**
 * What GET /agents (and so `triad status` and the dashboard) says an agent is doing: `load` is
 * all it holds, which passes a worker's concurrency as soon as tasks queue on it (a worker holds
 * several per slot); `running` is what its handlers run, never more than its capacity, and
 * `queued` the rest.
 */
describe.each(testEngines("agent-load"))("running and queued in the agent list ($name)", (engine) => {
  const cluster = clusterPerTest(engine);

  it("a worker holding more than its concurrency runs its concurrency and queues the rest", async () => {
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const c = cluster({
      concurrency: 2,
      timing: FAST,
      handlers: {
        gated: async () => {
          await gate;
          return { ok: true };
        },
      },
    });
    await c.startOne();
    const ids = Array.from({ length: 10 }, (_, i) => c.id(`t${i}`));
    for (const id of ids) await c.coordinator.submitTask({ task_id: id, task_type: "gated", payload: {} });
    const get = (name: string) =>
      agentList(c.coordinator).find((a) => a.id === c.id(name)) as unknown as Listed;
    // Settled: the distributor reports all ten, and its worker (heartbeats) holds more than it runs.
    await until(
      "the worker holds more than its concurrency",
      () => get("d1").load === ids.length && get("w1").load > 2 && get("w1").running === 2,
    );
    const w1 = get("w1");
    expect(w1.capacity).toBe(2);
    expect(w1.running).toBe(2);
    expect(w1.queued).toBe(w1.load - 2);
    const d1 = get("d1");
    expect(d1).toMatchObject({ load: ids.length, running: 2, queued: ids.length - 2, capacity: 2 });
    expect(get("coordinator")).toMatchObject({ queued: 0 });

    release();
    for (const id of ids)
      expect(await c.coordinator.waitForTask(id, 10_000), id).toMatchObject({ status: "completed" });
    await until("the worker is idle", () => get("w1").load === 0);
    expect(get("w1")).toMatchObject({ running: 0, queued: 0 });
  }, 60_000);
});
