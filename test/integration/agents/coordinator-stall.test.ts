import { describe, expect, it } from "vitest";
import { clusterPerTest, testEngines } from "../../helpers/engines.js";
import { until } from "../../helpers/wait.js";

/** Stops this whole process for `ms`, as SIGSTOP or a long GC pause would: no timer, no I/O. */
function freeze(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * A coordinator that was itself not running (SIGSTOP, a GC pause, a frozen VM) counts only the
 * time it was listening as a distributor's silence: on resuming, its monitor timer fires before
 * the heartbeats that came meanwhile are read. (Found with real processes: a coordinator
 * SIGSTOPped for 2.5 s logged "distributor declared dead; moving its tasks" with tasks: 0 and
 * counted a dead distributor, for one that had heartbeated all along.)
 */
describe.each(testEngines("coordinator-stall"))("a coordinator back from a stall ($name)", (engine) => {
  const cluster = clusterPerTest(engine);

  it("declares none of its live distributors dead, and a task submitted after it runs", async () => {
    const c = cluster({ handlers: { echo: async (task) => ({ echoed: task.payload }) } });
    const d1 = await c.startOne();
    const seen = () => c.coordinator.core.directory.get(d1.agentId)?.lastHeartbeatAt;

    const before = seen();
    await until("a heartbeat of d1 is taken", () => seen() !== before);
    const stats = () => c.coordinator.core.stats.distributorsDead;
    const deadBefore = stats();
    // Three heartbeat timeouts without running (FAST: 400 ms).
    freeze(1_200);
    const frozenAt = seen();
    await until("d1's first heartbeat after the stall is taken", () => seen() !== frozenAt);
    // Two more monitor ticks, with d1 heard.
    const after = seen();
    await until("another heartbeat of d1 is taken", () => seen() !== after);
    expect(stats() - deadBefore, "distributors declared dead by the coordinator").toBe(0);
    expect(c.coordinator.core.directory.get(d1.agentId)?.status).not.toBe("dead");

    const id = c.id("after-stall");
    await c.coordinator.submitTask({ task_id: id, task_type: "echo", payload: { n: 1 } });
    const done = await c.coordinator.waitForTask(id, 10_000);
    expect(done?.status).toBe("completed");
  });
});
