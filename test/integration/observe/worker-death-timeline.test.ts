import { describe, expect, it } from "vitest";
import type { Task } from "../../../src/index.js";
import { taskView } from "../../../src/server/dashboard/task-view.js";
import { FAST } from "../../helpers/cluster.js";
import { clusterPerTest, testEngines } from "../../helpers/engines.js";
import { until } from "../../helpers/wait.js";

/**
 * The task page's history of a task whose worker died while its attempt ran, and whose own
 * distributor (alive) took the attempt back and ran it again on another worker. No coordinator
 * event marks that (the task never left its distributor), and the page showed the second
 * attempt alone: the first, and the worker that died under it, were invisible. The distributor
 * now tells the taken-back attempt with the task's end, as it tells a failed attempt it retried.
 */
describe.each(testEngines("worker-death-timeline"))("a task whose worker died ($name)", (engine) => {
  const cluster = clusterPerTest(engine);

  it("shows the attempt the dead worker held, taken back, then the one that committed", async () => {
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const ranOn: string[] = [];
    const c = cluster({
      timing: FAST,
      handlers: {
        held: async (task: Task) => {
          ranOn.push(task.assignedTo ?? "?");
          if (ranOn.length === 1) await gate; // the first attempt never ends
          return { ok: true };
        },
      },
    });
    try {
      await c.startCoordinator();
      await c.startDistributor("d1");
      const w1 = await c.startWorker("w1", "d1");
      await c.ready();
      const id = c.id("taken-back");
      await c.coordinator.submitTask({ task_id: id, task_type: "held", payload: {} });
      await until("w1 runs it", () => ranOn.length === 1);

      await c.crash(w1);
      const w2 = await c.startWorker("w2", "d1");
      const done = await c.coordinator.waitForTask(id, 20_000);
      expect(done).toMatchObject({ status: "completed", assigned_to: w2.agentId });

      const view = await taskView(c.coordinator, id);
      const steps = view!.timeline.map(
        (s) => `${s.event}:${"attempt" in s && s.attempt !== undefined ? s.attempt : ""}`,
      );
      expect(steps).toEqual(["submitted:", "assigned:", "retried:1", "started:2", "committed:2"]);
      const [, , retried, started, committed] = view!.timeline;
      expect(retried).toMatchObject({
        worker: w1.agentId,
        error: `worker ${w1.agentId} went silent (declared dead): its attempt was taken back and run again`,
      });
      expect(started).toMatchObject({ worker: w2.agentId, attempt: 2 });
      expect(committed).toMatchObject({ status: "completed", worker: w2.agentId, distributor: c.id("d1") });
    } finally {
      release();
    }
  }, 60_000);
});
