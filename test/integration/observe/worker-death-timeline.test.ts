import { describe, expect, it } from "vitest";
import type { Task } from "../../../src/index.js";
import { taskView } from "../../../src/server/dashboard/task-view.js";
import { FAST } from "../../helpers/cluster.js";
import { clusterPerTest, testEngines } from "../../helpers/engines.js";
import { heldFirstAttempt } from "../../helpers/held-first-attempt.js";
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
    const { c, ranOn, release } = heldFirstAttempt(cluster);
    try {
      await c.startOne();
      const w1 = c.workers.get("w1")!;
      const id = c.id("taken-back");
      await c.coordinator.submitTask({ task_id: id, task_type: "held", payload: {} });
      await until("w1 runs it", () => ranOn.length === 1);

      await c.crash(w1);
      const w2 = await c.startWorker("w2", "d1");
      const done = await c.coordinator.waitForTask(id, 20_000);
      expect(done).toMatchObject({ status: "completed", assigned_to: w2.agentId });

      // The end may be read from the store before the distributor's report of it (which tells
      // the retries) reaches the coordinator's history: the page shows them once it has.
      const stepsOf = async () =>
        (await taskView(c.coordinator, id))!.timeline.map(
          (s) => `${s.event}:${"attempt" in s && s.attempt !== undefined ? s.attempt : ""}`,
        );
      await expect
        .poll(stepsOf, { timeout: 10_000 })
        .toEqual(["submitted:", "assigned:", "retried:1", "started:2", "committed:2"]);
      const view = await taskView(c.coordinator, id);
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

  it("tells an attempt a stopping worker handed back unrun as handed back, not as a death", async () => {
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const ranOn = new Map<string, string[]>();
    const c = cluster({
      concurrency: 1,
      timing: FAST,
      handlers: {
        held: async (task: Task) => {
          ranOn.set(task.taskId, [...(ranOn.get(task.taskId) ?? []), task.assignedTo ?? "?"]);
          if (task.assignedTo === c.id("w1")) await gate; // w1 never ends what it runs
          return { ok: true };
        },
      },
    });
    try {
      await c.startOne();
      const w1 = c.workers.get("w1")!;
      const ids = Array.from({ length: 3 }, (_, i) => c.id(`h${i}`));
      for (const id of ids) await c.coordinator.submitTask({ task_id: id, task_type: "held", payload: {} });
      await until("w1 runs one and holds the others", () => w1.core.load === 1 && w1.core.backlogSize >= 1);
      const w2 = await c.startWorker("w2", "d1");
      await w1.shutdown(300); // out of time: the one it runs is left; its backlog is handed back
      for (const id of ids)
        expect(await c.coordinator.waitForTask(id, 20_000), id).toMatchObject({ status: "completed" });
      // A task w1 held and never ran: its first attempt went to w1, and came back unrun.
      const heldOnly = ids.find((id) => !(ranOn.get(id) ?? []).includes(w1.agentId));
      expect(heldOnly).toBeDefined();
      const retriedOf = async () =>
        (await taskView(c.coordinator, heldOnly!))!.timeline.filter((s) => s.event === "retried");
      await expect.poll(retriedOf, { timeout: 10_000 }).toEqual([
        expect.objectContaining({
          worker: w1.agentId,
          error: `worker ${w1.agentId} handed the attempt back unrun (stopping, or no room): run again`,
        }),
      ]);
      const view = await taskView(c.coordinator, heldOnly!);
      expect(view!.timeline.at(-1)).toMatchObject({ event: "committed", worker: w2.agentId });
    } finally {
      release();
    }
  }, 60_000);
});
