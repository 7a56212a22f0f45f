import { describe, expect, it } from "vitest";
import { A2ARouter, CoordinatorAgent, DistributorAgent } from "../../../src/index.js";
import { FAST } from "../../helpers/cluster.js";
import { stopsPerTest, testEngines } from "../../helpers/engines.js";

/**
 * registerWorker (seed: register_worker) on a worker the distributor does not know gives it the
 * capacity the distributor assumes for a worker until it says (its `workerCapacity` option), as
 * a worker met any other way is given. Before, it was given 16 whatever the option said.
 */

/** Heartbeats far apart: no worker heartbeat comes to state a capacity while the test looks. */
const QUIET = { ...FAST, heartbeatIntervalMs: 60_000, heartbeatTimeoutMs: 180_000 };

describe.each(testEngines("register-worker-capacity"))("registerWorker on $name", (engine) => {
  const stops = stopsPerTest(engine);

  it("gives a worker it does not know the distributor's workerCapacity, and keeps a known one's", async () => {
    const run = Math.random().toString(36).slice(2, 7);
    const redis = engine.config();
    const router = new A2ARouter();
    const c = new CoordinatorAgent({ agentId: `c-${run}`, redis, a2a: { router }, timing: QUIET });
    stops.push(() => c.cleanup());
    await c.initialize();
    const d = new DistributorAgent({
      agentId: `d-${run}`,
      coordinatorId: c.agentId,
      redis,
      a2a: { router },
      timing: QUIET,
      workerCapacity: 3,
    });
    stops.push(() => d.cleanup());
    await d.initialize();

    expect(await d.registerWorker("w-new")).toBe(true);
    expect(d.core.registry.get("w-new")?.capacity).toBe(3);
    // The pool's capacity, as its heartbeats tell the coordinator: what the option says.
    expect(d.core.heartbeat(null).capacity).toBe(3);

    // A worker that said its capacity keeps it when registered again by this call.
    d.core.onWorkerRegister("w-said", null, 5);
    await d.registerWorker("w-said");
    expect(d.core.registry.get("w-said")?.capacity).toBe(5);
  }, 60_000);
});
