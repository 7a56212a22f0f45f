import { describe, expect, it } from "vitest";
import type { A2AMessage } from "../../../src/core/messaging/types.js";
import { taskCounts } from "../../../src/server/dashboard/cluster-view.js";
import { FaultyRouter } from "../../helpers/cluster.js";
import { stopsPerTest, testEngines } from "../../helpers/engines.js";
import { twoCoordinators } from "../../helpers/two-coordinators.js";
import { until } from "../../helpers/wait.js";

/**
 * A router that holds the end reports (task_terminal) sent to one coordinator, as if it seemed
 * down: the send fails (the distributor reports to its own coordinator instead), and the held
 * messages reach it later, on release().
 */
class LateReportsRouter extends FaultyRouter {
  holdFor: string | null = null;
  readonly lateReports: Array<Parameters<FaultyRouter["deliver"]>> = [];

  override deliver(message: A2AMessage, signedText?: string, unsigned?: boolean, handOver?: boolean) {
    if (message.recipient === this.holdFor && message.payload.event_type === "task_terminal") {
      this.lateReports.push([message, signedText, unsigned, handOver]);
      return { accepted: false as const, reason: "no_route" as const, detail: "held: it seems down" };
    }
    return super.deliver(message, signedText, unsigned, handOver);
  }

  release(): void {
    this.holdFor = null;
    for (const args of this.lateReports.splice(0)) super.deliver(...args);
  }
}

/**
 * The cluster's completed, failed and abandoned counts (GET /agents' cluster_tasks, `triad
 * status`, the dashboard) count each task's end once, whichever coordinators hear of it: the
 * store counts it in the script that records it (open_end, on every engine). So does
 * `submitted`, counted where the task is recorded (submit-tasks).
 */
describe.each(testEngines("end-counts-coordinators"))(
  "end counts with several coordinators on $name",
  (engine) => {
    const cleanups = stopsPerTest(engine);

    /** twoCoordinators on a LateReportsRouter: the distributor heartbeats c2 (c1 is its next). */
    const cluster = () => twoCoordinators(engine.config(), cleanups, new LateReportsRouter());

    it("counts a task once when its end report reaches the placer late, after the fallback coordinator took it", async () => {
      const { router, c1, c2, d } = await cluster();
      // c1 accepts and places the tasks on c2's distributor; their reports to c1 are held (c1 seems
      // down), so the distributor reports them to c2, which counts them.
      router.holdFor = c1.agentId;
      const heldIds = () =>
        new Set(
          router.lateReports.flatMap(([m]) =>
            (m.payload.event_data as { tasks: Array<{ task_id: string }> }).tasks.map((t) => t.task_id),
          ),
        );
      // A task c1 could not place at once (its distributor looked full for a moment, under load) is
      // placed by its shard's owner: no report of it to c1. Rounds of 5 until one report was held.
      const ids: string[] = [];
      for (let round = 0; round < 10 && heldIds().size === 0; round++) {
        const batch = Array.from({ length: 5 }, (_, i) => `late-${round}-${i}`);
        ids.push(...batch);
        // Submitted together once c1 would place on d (a submit picks its distributor at once).
        await until("c1 places on d", () => c1.core.directory.leastLoaded()?.id === d.agentId);
        const accepted = await Promise.all(
          batch.map((id) => c1.submitTask({ task_id: id, task_type: "echo", payload: {} })),
        );
        expect(accepted).toEqual(batch.map(() => true));
        const done = await Promise.all(batch.map((id) => c1.waitForTask(id, 15_000)));
        expect(done.map((t) => t?.status)).toEqual(batch.map(() => "completed"));
        await until("c2 took the reports c1 did not", () => c2.core.stats.completed === ids.length);
      }
      const late = heldIds();
      expect(late.size).toBeGreaterThan(0);
      // The held reports reach c1 now: it hears of those ends first-hand too.
      router.release();
      await until("c1 took the late reports", () => c1.core.stats.completed === late.size);
      // Both have written what they counted, and read the other's.
      await c1.cluster.counts.write();
      await c2.cluster.counts.write();
      await c1.cluster.counts.tick(() => true);
      await c2.cluster.counts.tick(() => true);
      for (const c of [c1, c2])
        expect(taskCounts(c)).toMatchObject({ submitted: ids.length, completed: ids.length });
    });

    it("counts the submits and ends a coordinator heard and died with before writing its counts", async () => {
      const { router, c1, c2 } = await cluster();
      // c2, the distributor's home, never gets to write its counts (killed between counting and its tick's write): the
      // tasks it took and their ends are counted all the same (the store counted them).
      c2.cluster.counts.write = async () => {};
      const ids = Array.from({ length: 5 }, (_, i) => `lost-${i}`);
      for (const id of ids)
        expect(await c2.submitTask({ task_id: id, task_type: "echo", payload: {} })).toBe(true);
      const done = await Promise.all(ids.map((id) => c2.waitForTask(id, 15_000)));
      expect(done.map((t) => t?.status)).toEqual(ids.map(() => "completed"));
      // (A task c2 could not place at once was placed by its shard's owner, c1, which counts it.)
      await until(
        "the ends are counted",
        () => c2.core.stats.completed + c1.core.stats.completed === ids.length,
      );
      expect(c2.core.stats.completed).toBeGreaterThan(0);
      // c2 is killed (-9): its timers stop, its leases and view expire, its messages are lost.
      router.frozen.add(c2.agentId);
      c2.core.stop();
      await c2.cluster.stop({ release: false });
      (c2 as unknown as { stopTimers(): void }).stopTimers();
      await until(
        "c1 lists c2 dead",
        () => c1.cluster.peers.dead().some((g) => g.view.id === c2.agentId),
        15_000,
      );
      await c1.cluster.counts.tick(() => false);
      expect(taskCounts(c1)).toMatchObject({
        submitted: ids.length,
        completed: ids.length,
        failed: 0,
        abandoned: 0,
      });
    });
  },
);
