import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { DistributorAgent, Task, WorkerAgent } from "../../../src/index.js";
import { taskView } from "../../../src/server/dashboard/task-view.js";
import { FaultyRouter } from "../../helpers/cluster.js";
import { testEngines } from "../../helpers/engines.js";
import { PATIENT, shardsSplit, standbyPair } from "../../helpers/two-coordinators.js";
import { until } from "../../helpers/wait.js";

/**
 * With several coordinators each one takes its own shards' tasks off a distributor declared
 * dead. That reassignment is recorded in the store, in the step that decides it
 * (reassigned-tasks-1.lua): the cluster's `reassigned` count keeps it when the coordinator that
 * took the tasks off is killed before writing its own counts, and every coordinator's task page
 * shows it, not only the page of the one that moved the task.
 */
describe.each(testEngines("reassigned-coordinators"))(
  "reassignments with several coordinators on $name",
  (engine) => {
    const stops: Array<() => Promise<unknown>> = [];
    beforeAll(() => engine.setup());
    afterEach(async () => {
      for (const stop of stops.splice(0).reverse()) await stop().catch(() => {});
    });
    afterAll(() => engine.teardown());

    /** A crash: timers stop and the agent leaves the router, nothing handed back. */
    async function crash(agent: DistributorAgent | WorkerAgent, router: FaultyRouter) {
      router.frozen.add(agent.agentId);
      (agent as unknown as { stopTimers(): void }).stopTimers();
      if ("lease" in agent.core) await (agent as DistributorAgent).core.stop(false);
      else (agent as WorkerAgent).core.stop();
      await agent.a2a.close();
    }

    it("counts a reassignment once in the store, kept when its coordinator dies, and shows it on every coordinator's task page", async () => {
      const router = new FaultyRouter();
      const run = Math.random().toString(36).slice(2, 7);
      const { c1, c2, d, w } = await standbyPair({
        router,
        redis: engine.config(),
        run,
        stops,
        timing: PATIENT,
        // The tasks never end on this worker: open on d when it dies.
        worker: { handlers: { held: (_task: Task) => new Promise(() => {}) } },
      });
      await until(
        "each sees the other",
        () => c1.cluster.peers.hasOthers && c2.cluster.peers.hasOthers,
        30_000,
      );
      await shardsSplit(c1, c2);
      // Three tasks in shards c1 owns, three in c2's.
      const mine = (c: typeof c1, id: string) => c.cluster.leases.owned().includes(c.ledger.shardOf(id));
      const ofC1: string[] = [];
      const ofC2: string[] = [];
      for (let i = 0; ofC1.length < 3 || ofC2.length < 3; i++) {
        const id = `held-${run}-${i}`;
        if (mine(c1, id) && ofC1.length < 3) ofC1.push(id);
        else if (mine(c2, id) && ofC2.length < 3) ofC2.push(id);
      }
      const ids = [...ofC1, ...ofC2];
      for (const id of ids)
        expect(await c2.submitTask({ task_id: id, task_type: "held", payload: {} })).toBe(true);
      await until(
        "every task is on d",
        async () => (await c2.ledger.distributorTaskIds(d.agentId)).length === ids.length,
        30_000,
      );
      // c1 never gets to write its counts (killed between its reassignments and its tick's write).
      c1.cluster.counts.write = async () => {};
      await crash(w, router);
      await crash(d, router);
      await until(
        "each coordinator took its own shards' tasks off d",
        () => c1.core.stats.reassigned === ofC1.length && c2.core.stats.reassigned === ofC2.length,
        30_000,
      );
      // c2 serves the page of a task c1 moved: the reassignment is there.
      for (const id of ofC1) {
        const view = await taskView(c2, id);
        expect(view!.timeline.filter((s) => s.event === "reassigned")).toEqual([
          expect.objectContaining({ event: "reassigned", distributor: d.agentId }),
        ]);
      }
      // c1 is killed (-9): its timers stop, its leases and view expire, its messages are lost.
      router.frozen.add(c1.agentId);
      c1.core.stop();
      await c1.cluster.stop({ release: false });
      (c1 as unknown as { stopTimers(): void }).stopTimers();
      await until(
        "c2 lists c1 dead",
        () => c2.cluster.peers.dead().some((g) => g.view.id === c1.agentId),
        30_000,
      );
      await c2.cluster.counts.tick(() => false);
      expect(c2.cluster.counts.totals().reassigned).toBe(ids.length);
      // c2 took c1's shards: their tasks, still on the dead d, are not counted again.
      await until("c2 owns every shard", () => c2.cluster.leases.owned().length === 16, 30_000);
      await c2.cluster.counts.tick(() => false);
      expect(c2.cluster.counts.totals().reassigned).toBe(ids.length);
      expect(c2.core.stats.reassigned).toBe(ofC2.length);
    }, 120_000);
  },
);
