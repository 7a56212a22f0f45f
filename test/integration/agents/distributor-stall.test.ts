import { describe, expect, it } from "vitest";
import { FAST } from "../../helpers/cluster.js";
import { clusterPerTest, testEngines } from "../../helpers/engines.js";
import { until } from "../../helpers/wait.js";

/** Stops this whole process for `ms`, as SIGSTOP or a long GC pause would: no timer, no I/O. */
function freeze(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * A distributor that was itself not running (SIGSTOP, a GC pause, a frozen VM) counts only the
 * time it was listening as a worker's silence. On resuming, its monitor timer fires before the
 * heartbeats sent meanwhile are read: without the credit it declared its live worker dead and
 * took back the attempt it was running (fence moved on), so the task ran a second time.
 */
describe.each(testEngines("distributor-stall"))("a distributor back from a stall ($name)", (engine) => {
  const cluster = clusterPerTest(engine);

  it("declares none of its live workers dead, and the attempt running meanwhile is the one that ends the task", async () => {
    // A lease that outlives the stall: one that lapsed stops the monitor until it is renewed.
    const c = cluster({ timing: { ...FAST, leaseTtlMs: 5_000 } });
    const d1 = await c.startOne();
    const id = c.id("long");
    await c.coordinator.submitTask({ task_id: id, task_type: "sleep", payload: { ms: 2_500 } });
    await until("the attempt is confirmed by the worker", () =>
      d1.core.registry.all().some((w) => w.inFlight.get(id)?.confirmed === true),
    );
    const deadBefore = d1.core.stats.workersDead;
    // Three heartbeat timeouts without running (FAST: 400 ms).
    freeze(1_200);
    const done = await c.coordinator.waitForTask(id, 15_000);
    expect(d1.core.stats.workersDead - deadBefore, "workers declared dead by the distributor").toBe(0);
    expect(done?.status).toBe("completed");
    expect(done?.attempts, "attempts of the task").toBe(1);
  });
});
