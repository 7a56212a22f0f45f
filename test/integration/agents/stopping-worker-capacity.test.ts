import { describe, expect, it } from "vitest";
import { FAST } from "../../helpers/cluster.js";
import { clusterPerTest, testEngines } from "../../helpers/engines.js";
import { until } from "../../helpers/wait.js";

/**
 * A worker that drains (its heartbeat says it stops) takes no new task, so its room is not
 * part of the capacity its distributor reports: a distributor whose only worker stops reports
 * none, and the coordinator places nothing there to wait.
 */
describe.each(testEngines("stopping-worker-capacity"))("a stopping worker's capacity on $name", (engine) => {
  const cluster = clusterPerTest(engine);

  it("is not counted in its distributor's capacity while it drains", async () => {
    const gate: { open?: () => void } = {};
    const held = new Promise<void>((r) => {
      gate.open = r;
    });
    const c = cluster({
      concurrency: 2,
      timing: FAST,
      handlers: {
        work: async () => {
          await held;
          return { ok: true };
        },
      },
    });
    const d1 = await c.startOne();
    const [coordinator, w1] = [c.coordinator, c.workers.get("w1")!];
    expect(d1.core.capacity).toBe(2);
    const id = c.id("held");
    await coordinator.submitTask({ task_id: id, task_type: "work", payload: {} });
    await until("w1 runs it", () => w1.core.load === 1);
    const stopped = w1.shutdown(30_000); // drains: its heartbeats say it stops
    await until("d1 hears w1 stops", () => d1.core.registry.get(c.id("w1"))?.stopping === true);
    expect(d1.core.capacity).toBe(0);
    expect(d1.core.heartbeat(null).capacity).toBe(0);
    await until(
      "the coordinator sees d1 has no room",
      () => coordinator.core.directory.get(c.id("d1"))?.capacity === 0,
    );
    gate.open?.();
    await stopped;
    expect(await coordinator.waitForTask(id, 10_000)).toMatchObject({ status: "completed" });
  }, 60_000);
});
