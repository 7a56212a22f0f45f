import { describe, expect, it } from "vitest";
import type { Task } from "../../../src/index.js";
import { FAST } from "../../helpers/cluster.js";
import { clusterPerTest, testEngines } from "../../helpers/engines.js";
import { until } from "../../helpers/wait.js";

/**
 * A worker whose shutdown timeout runs out while attempts still run: its last heartbeat says it
 * stops and lists them. Those it never started (its backlog) are handed back and run elsewhere
 * once; those it was running, abandoned with the process, run again elsewhere — none is lost,
 * and a task that ended before the stop is not run again.
 */
describe.each(testEngines("worker-shutdown-timeout"))("a worker's shutdown timeout on $name", (engine) => {
  const cluster = clusterPerTest(engine);

  it("runs what it still ran and what it held elsewhere, each task to its end, none lost", async () => {
    const ran = new Map<string, string[]>();
    const w1Gate: { open?: () => void } = {};
    const w1Held = new Promise<void>((r) => {
      w1Gate.open = r;
    });
    const c = cluster({
      concurrency: 1,
      timing: FAST,
      handlers: {
        work: async (task: Task) => {
          ran.set(task.taskId, [...(ran.get(task.taskId) ?? []), task.assignedTo ?? "?"]);
          if (task.assignedTo === c.id("w1") && (task.payload as { hold?: boolean }).hold) await w1Held;
          return { ok: true };
        },
      },
    });
    await c.startOne();
    const w1 = c.workers.get("w1")!;
    const quick = c.id("quick");
    await c.coordinator.submitTask({ task_id: quick, task_type: "work", payload: {} });
    expect(await c.coordinator.waitForTask(quick, 10_000)).toMatchObject({ status: "completed" });
    const ids = Array.from({ length: 3 }, (_, i) => c.id(`t${i}`));
    for (const id of ids)
      await c.coordinator.submitTask({ task_id: id, task_type: "work", payload: { hold: true } });
    await until("w1 runs one and holds the others", () => w1.core.load === 1 && w1.core.backlogSize >= 1);
    await c.startWorker("w2", "d1");
    expect(await w1.shutdown(300)).toBe(false); // out of time: one still runs
    for (const id of ids) {
      const done = await c.coordinator.waitForTask(id, 10_000);
      expect(done, id).toMatchObject({ status: "completed" });
    }
    w1Gate.open?.(); // the abandoned attempt ends after its worker left: its outcome goes nowhere
    const runsOf = (id: string) => ran.get(id) ?? [];
    // The one w1 ran: again on w2. Those it held: on w2 only. The one that ended before: once.
    const running = ids.filter((id) => runsOf(id).includes(c.id("w1")));
    expect(running.length).toBe(1);
    for (const id of ids)
      expect(runsOf(id), id).toEqual(running.includes(id) ? [c.id("w1"), c.id("w2")] : [c.id("w2")]);
    expect(runsOf(quick)).toEqual([c.id("w1")]);
  }, 60_000);
});
