import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { A2ARouter, CoordinatorAgent, DistributorAgent, WorkerAgent } from "../../../src/index.js";
import { FAST } from "../../helpers/cluster.js";
import { testEngines } from "../../helpers/engines.js";
import { until } from "../../helpers/wait.js";

/**
 * A coordinator whose shard lease lapsed on its own clock only (a renewal round late under
 * load: the lease in Redis still its own, renewed a moment later with no shard gained, so
 * nothing is rescanned) must not drop the unplaced tasks of that shard. Seen in
 * bench/redis-memory.ts --redis-cpu at load ~8: tasks recorded pending on no distributor,
 * in no coordinator's memory, never placed.
 */

/**
 * Shard leases of about 6 s instead of FAST's 300 ms (their TTL follows the heartbeat timeout,
 * see ownershipTiming): only the lapse the test makes happens. A real one (a renewal round later
 * than the TTL on a loaded machine) lets the lease go in the store too, and it is taken anew,
 * its shard rescanned: not the case under test.
 */
const TIMING = { ...FAST, heartbeatTimeoutMs: 6000 };

type Leases = { held: Map<number, { value: string; until: number }> };
type Placing = { placement: { place(): Promise<void> } };

describe.each(testEngines("placement-lease-lapse", { cluster: true }))(
  "unplaced tasks under a lapsed lease on $name",
  (engine) => {
    beforeAll(() => engine.setup());
    afterAll(() => engine.teardown());

    it("a placement pass while the lease lapsed locally hands the tasks off; they are placed and complete once a distributor comes", async () => {
      const run = Math.random().toString(36).slice(2, 7);
      const router = new A2ARouter();
      const config = engine.config();
      const c = new CoordinatorAgent({ agentId: `c-${run}`, redis: config, a2a: { router }, timing: TIMING });
      const agents: Array<DistributorAgent | WorkerAgent> = [];
      try {
        await c.initialize();
        const ids = Array.from({ length: 20 }, (_, i) => `lapse-${run}-${i}`);
        // No distributor yet: recorded on none, held unplaced.
        expect(
          await c.submitTasks(ids.map((id) => ({ task_id: id, task_type: "echo", payload: {} }))),
        ).toEqual(ids.map(() => true));
        await until("the tasks are held unplaced", () => c.core.unplacedCount === ids.length);
        // All 16 shards its own (under load a lease round may still be on its way).
        await until("it owns the 16 shards", () => c.cluster.leases.owned().length === 16);
        // Every renewal late on this process's clock (the event loop was busy): the leases in
        // Redis are still this coordinator's, so the next round renews them and gains nothing.
        const held = (c.cluster.leases as unknown as Leases).held;
        const values = new Map([...held].map(([shard, h]) => [shard, h.value]));
        for (const h of held.values()) h.until = 0;
        await (c.core as unknown as Placing).placement.place();
        expect(c.core.unplacedCount).toBe(0); // not placed now: not the owner on its own clock
        await until("the leases are renewed", () => c.cluster.leases.owned().length === 16);
        // Renewed, not taken again: no shard was gained, so no rescan placed anything.
        expect(new Map([...held].map(([shard, h]) => [shard, h.value]))).toEqual(values);

        const d = new DistributorAgent({
          agentId: `d-${run}`,
          coordinatorId: c.agentId,
          redis: config,
          a2a: { router },
          timing: TIMING,
        });
        await d.initialize();
        agents.push(d);
        const w = new WorkerAgent({
          agentId: `w-${run}`,
          distributorId: d.agentId,
          a2a: { router },
          timing: TIMING,
          concurrency: 8,
        });
        await w.initialize();
        agents.push(w);
        const done = await Promise.all(ids.map((id) => c.waitForTask(id, 8000)));
        expect(done.map((t) => t?.status ?? "still open")).toEqual(ids.map(() => "completed"));
      } finally {
        for (const a of agents.reverse()) await a.cleanup().catch(() => {});
        await c.cleanup().catch(() => {});
      }
    });
  },
);
