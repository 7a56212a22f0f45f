import { describe, expect, it } from "vitest";
import { taskView } from "../../../src/server/dashboard/task-view.js";
import { clusterPerTest, testEngines } from "../../helpers/engines.js";
import { heldFirstAttempt } from "../../helpers/held-first-attempt.js";
import { until } from "../../helpers/wait.js";

/**
 * The task page's history of a task whose distributor died while its attempt ran: both attempts
 * are shown, in order — the first one's start (kept by the reassignment, as the ledger's
 * started_at is the next attempt's once that one starts), the reassignment, then the second
 * attempt's start and its commit.
 */
describe.each(testEngines("reassigned-timeline"))("a reassigned task's timeline ($name)", (engine) => {
  const cluster = clusterPerTest(engine);

  it("shows the attempt that ran on the dead distributor's worker, then the one that committed", async () => {
    const { c, ranOn, release } = heldFirstAttempt(cluster);
    try {
      const d1 = await c.startOne();
      const w1 = c.workers.get("w1")!;
      const id = c.id("moved");
      await c.coordinator.submitTask({ task_id: id, task_type: "held", payload: {} });
      await until("w1 runs it", () => ranOn.length === 1);
      const first = await c.coordinator.ledger.get(id);
      expect(first?.task).toMatchObject({ status: "in_progress", attempts: 1, assigned_to: w1.agentId });
      const firstStart = first!.task.started_at;

      await c.crash(w1);
      await c.crash(d1);
      await c.startDistributor("d2");
      await c.startWorker("w2", "d2");
      expect(await c.coordinator.waitForTask(id, 10_000)).toMatchObject({ status: "completed", attempts: 2 });

      const view = await taskView(c.coordinator, id);
      const steps = view!.timeline.map(
        (s) => `${s.event}:${"attempt" in s && s.attempt !== undefined ? s.attempt : ""}`,
      );
      expect(steps).toEqual([
        "submitted:",
        "assigned:",
        "started:1",
        "reassigned:1",
        "assigned:",
        "started:2",
        "committed:2",
      ]);
      const [, assigned1, started1, reassigned, assigned2, started2] = view!.timeline;
      expect(assigned1).toMatchObject({ distributor: d1.agentId });
      expect(started1).toEqual({ event: "started", at: firstStart, worker: w1.agentId, attempt: 1 });
      expect(reassigned).toMatchObject({ distributor: d1.agentId, worker: w1.agentId, attempt: 1 });
      expect(assigned2).toMatchObject({ distributor: c.id("d2") });
      expect(started2).toMatchObject({ worker: c.id("w2"), attempt: 2, at: view!.task!.started_at });
    } finally {
      release();
    }
  }, 60_000);
});
