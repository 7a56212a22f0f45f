import { describe, expect, it } from "vitest";
import type { TaskLedger } from "../../../src/index.js";
import { clusterPerTest, testEngines } from "../../helpers/engines.js";
import { heldUntilOpen } from "../../helpers/held-until-open.js";
import { until } from "../../helpers/wait.js";

/**
 * A distributor declared dead while it was only unheard (a stall), or restarted under its id,
 * comes back before the coordinator has placed its tasks again: the least-loaded healthy
 * distributor is that same one, and its tasks are moved back onto it.
 *
 * Found by the chaos suite first: each such move fenced off the attempt in flight and put the
 * task back to pending, while the distributor, holding the task in memory as in flight, ignored
 * the assignment; when the fenced attempt's result was refused it forgot the task without running
 * it again. A refused result now makes the distributor read the record and act as it says.
 *
 * Then by scheduling.test on Redis Cluster under load ("keeps the order when a new distributor
 * adopts the queue" ran tasks two and three times): the move fenced off attempts the distributor
 * had started after it came back, so every handler running then ran again. A move onto the
 * distributor the record already names now keeps the attempt: it runs once.
 */
describe.each(testEngines("moved-back"))(
  "a task moved back onto the distributor that holds it ($name)",
  (engine) => {
    const cluster = clusterPerTest(engine);

    /** One distributor and worker; `held` runs until the gate opens, each run counted. */
    async function start() {
      const { c, runs, open } = heldUntilOpen(cluster);
      const d1 = await c.startOne();
      const id = c.id("t1");
      await c.coordinator.submitTask({ task_id: id, task_type: "held", payload: {} });
      await until("its handler runs", () => runs.get(id) === 1);
      const ledger = c.coordinator.ledger as TaskLedger;
      const running = (await ledger.get(id))!;
      expect(running.task.status).toBe("in_progress");
      return { c, d1, id, ledger, running, runs, open };
    }

    it("keeps the attempt in flight: its handler runs once and its result is committed", async () => {
      const { c, d1, id, ledger, running, runs, open } = await start();
      // What the coordinator does when it moves the tasks of a distributor it thought dead, and
      // the least-loaded healthy one is that same distributor again.
      expect(await ledger.assign(id, d1.agentId)).toBe(true);
      expect(await ledger.get(id)).toMatchObject({
        task: { status: "in_progress" },
        fence: running.fence,
        distributor: d1.agentId,
      });
      open();
      expect(await c.coordinator.waitForTask(id, 10_000)).toMatchObject({ status: "completed", attempts: 1 });
      expect(runs.get(id)).toBe(1);
      expect(d1.core.stats.staleRejected).toBe(0);
    });

    it("is dispatched again once an attempt fenced off behind its back has its result refused", async () => {
      const { c, d1, id, ledger, running, runs, open } = await start();
      // The record says "pending, yours" while the distributor holds the attempt as in flight.
      expect(await ledger.requeue(id, d1.agentId, running.fence)).toBe(true);
      expect((await ledger.get(id))?.task.status).toBe("pending");
      open();
      expect(await c.coordinator.waitForTask(id, 10_000)).toMatchObject({ status: "completed", attempts: 2 });
      expect(runs.get(id)).toBe(2);
      // Once, or more: a worker sends a result again while its acknowledgement is late (a loaded host).
      expect(d1.core.stats.staleRejected).toBeGreaterThanOrEqual(1);
    });
  },
);
