import { describe, expect, it } from "vitest";
import type { TaskTypeLimit } from "../../../src/agents/limits/limit-spec.js";
import { clusterPerTest, testEngines } from "../../helpers/engines.js";
import { failingStore } from "../../helpers/failing-store.js";
import { PATIENT } from "../../helpers/two-coordinators.js";
import { until } from "../../helpers/wait.js";

/**
 * A task of a limited type whose dispatch fails outright (the store refuses the dispatch script:
 * down, connection lost, a script error) after its slot was taken never started: it goes back
 * to the queue, and its slot and the start that slot counted against its type's rate are given
 * back (bind-slots-1.lua, "not started") — once the store answers again, should it still refuse
 * the give-back. Before, the reservation held the slot until the coordinator's sweeper freed it
 * (never, with the sweeper stopped) and the start stayed counted: a type limited to one start
 * per 1000 s held the task itself back 1000 s, though nothing had started.
 */
describe.each(testEngines("dispatch-failed-limits"))(
  "a limited task whose dispatch failed outright, on $name",
  (engine) => {
    const newCluster = clusterPerTest(engine);

    /** Submits a task of `limit`'s type, its dispatch refused by a store down until it refused more; the task's end. */
    async function failedDispatch(limit: TaskTypeLimit, sweeping: boolean) {
      const ran: string[] = [];
      // Leases and heartbeats of seconds: the outage ends the first dispatch, not the distributor.
      const cluster = newCluster({
        timing: PATIENT,
        handlers: {
          limited: (task) => {
            ran.push(task.taskId);
            return { ok: true };
          },
        },
      });
      const d1 = await cluster.startOne(30_000);
      const coordinator = cluster.coordinator;
      if (!sweeping) coordinator.limits.stop();
      await coordinator.setLimit("limited", limit);
      await until("d1 knows the limit", () => d1.limits.isLimited("limited"), 30_000);

      const task = cluster.id("task");
      let down = false;
      const fault = failingStore(d1.store, () => down);
      // The store goes down as the task's dispatch is sent (its slot, and its start of the rate,
      // taken a moment before): the dispatch script is refused.
      let refusedBefore = -1;
      const dispatchMany = d1.ledger.dispatchMany.bind(d1.ledger);
      d1.ledger.dispatchMany = (plan, distributor, taskIdOf, workerIdOf) => {
        if (refusedBefore < 0 && plan.some((p) => taskIdOf(p) === task)) {
          refusedBefore = fault.refused;
          down = true;
        }
        return dispatchMany(plan, distributor, taskIdOf, workerIdOf);
      };
      expect(await coordinator.submitTask({ task_id: task, task_type: "limited" })).toBe(true);
      // Down while the distributor tries again (the give-back of the slot among its calls).
      await until(
        "the store refused the dispatch and three calls after it",
        () => refusedBefore >= 0 && fault.refused >= refusedBefore + 4,
        30_000,
      );
      down = false;
      const done = await coordinator.waitForTask(task, 30_000);
      expect(done?.status).toBe("completed");
      expect(ran).toEqual([task]);
      await until(
        "its slot is free",
        async () => (await coordinator.listLimits()).find((l) => l.task_type === "limited")?.in_use === 0,
        30_000,
      );
    }

    it("gives back its concurrency slot (the sweeper stopped): the task runs once the store is back", async () => {
      await failedDispatch({ concurrency: 1 }, false);
    }, 90_000);

    it("gives back the start its slot counted against the rate: the task runs once the store is back", async () => {
      // One start per 1000 s: with the failed dispatch's start counted, the task would wait 1000 s.
      await failedDispatch({ rate_per_s: 0.001 }, true);
    }, 90_000);
  },
);
