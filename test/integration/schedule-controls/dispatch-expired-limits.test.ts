import { describe, expect, it } from "vitest";
import { FAST } from "../../helpers/cluster.js";
import { clusterPerTest, testEngines } from "../../helpers/engines.js";
import { until } from "../../helpers/wait.js";

/**
 * A task of a limited type that its dispatch ends "expired" (dispatch-tasks-1.lua's -4: it waited
 * at its distributor past its expires_at, behind the limit or a slow pass) never ran, so it takes
 * nothing of its type's limit: its concurrency slot is freed (bind-slots-1.lua, a reservation
 * whose attempt did not start), and the start its slot counted against the type's rate is given
 * back. Before, that start stayed counted: a type limited to one start per 1000 s held its next
 * task back for 1000 s after a task that never ran.
 */

const at = (ms: number) => new Date(Date.now() + ms).toISOString();

describe.each(testEngines("dispatch-expired-limits"))(
  "a task of a limited type ended expired at its dispatch, on $name",
  (engine) => {
    const newCluster = clusterPerTest(engine);

    it("takes neither a concurrency slot nor a start of its type's rate: the next task of the type runs", async () => {
      const ran: string[] = [];
      const cluster = newCluster({
        timing: FAST,
        handlers: {
          limited: (task) => {
            ran.push(task.taskId);
            return { ok: true };
          },
        },
      });
      const d1 = await cluster.startOne(30_000);
      const coordinator = cluster.coordinator;
      // The due sweep would end the task within its second: stopped, to see the dispatch's side.
      (coordinator.core as unknown as { schedule: { stop(): void } }).schedule.stop();
      // One start per 1000 s, one at a time.
      await coordinator.setLimit("limited", { concurrency: 1, rate_per_s: 0.001 });
      await until("d1 knows the limit", () => d1.limits.isLimited("limited"), 30_000);

      const late = cluster.id("late");
      const expiresAt = at(2_000);
      // The distributor is slow: its dispatch of `late` reaches the store after its expires_at
      // (its slot, and its start of the rate, were taken before).
      const dispatchMany = d1.ledger.dispatchMany.bind(d1.ledger);
      d1.ledger.dispatchMany = async (plan, distributor, taskIdOf, workerIdOf) => {
        if (plan.some((p) => taskIdOf(p) === late))
          await until("expires_at has passed", () => Date.now() >= Date.parse(expiresAt) + 5, 10_000);
        return dispatchMany(plan, distributor, taskIdOf, workerIdOf);
      };
      expect(
        await coordinator.submitTask({ task_id: late, task_type: "limited", expires_at: expiresAt }),
      ).toBe(true);
      const done = await coordinator.waitForTask(late, 30_000);
      expect(done).toMatchObject({ status: "abandoned", error: "expired", attempts: 0 });
      await until(
        "its slot is free",
        async () => (await coordinator.listLimits()).find((l) => l.task_type === "limited")?.in_use === 0,
        30_000,
      );

      // With the expired task's start counted, this one would wait 1000 s.
      const next = cluster.id("next");
      expect(await coordinator.submitTask({ task_id: next, task_type: "limited" })).toBe(true);
      expect((await coordinator.waitForTask(next, 30_000))?.status).toBe("completed");
      expect(ran).toEqual([next]);
    }, 90_000);
  },
);
