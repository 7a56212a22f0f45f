import { describe, expect, it, vi } from "vitest";
import { assignUnplaced } from "../../../src/agents/coordinator/unplaced-scripts.js";
import type { AgentPayload } from "../../../src/agents/protocol.js";
import type { JsonValue } from "../../../src/index.js";
import { clusterPerTest, testEngines } from "../../helpers/engines.js";

/**
 * Two paths place the same dependent at the same moment: the keeper's re-placement of a
 * dependent whose "ready" notice was applied but whose answer was lost (it reads the record:
 * pending, on no distributor), and another path that saw it unplaced too (here the adoption of
 * an unplaced task) and placed it between that read and the keeper's placement. The keeper's
 * placement is conditional in the store (assign-unplaced-1.lua): it finds the task placed and
 * leaves it there, so the dependent is sent to one distributor, once.
 */
describe.each(testEngines("workflow-double-place", { cluster: true }))(
  "a dependent placed by two paths on $name",
  (engine) => {
    const start = clusterPerTest(engine);

    it("is sent to one distributor only", async () => {
      const cluster = start({ handlers: { step: (): JsonValue => ({ ok: true }) } });
      await cluster.startCoordinator();
      await cluster.startDistributor("d1");
      await cluster.startDistributor("d2");
      await cluster.startWorker("w1", "d1");
      await cluster.startWorker("w2", "d2");
      await cluster.ready();
      const c = cluster.coordinator;
      const [a, b] = [cluster.id("a"), cluster.id("b")];
      // Every assignment of b the coordinator sends, by distributor.
      const sentTo: string[] = [];
      const agent = c as unknown as { sendPayload: (to: string, p: AgentPayload) => Promise<void> };
      const send = agent.sendPayload.bind(c);
      vi.spyOn(agent, "sendPayload").mockImplementation((to, payload) => {
        if (payload.kind === "assign_tasks" && payload.tasks.some((t) => t.task_id === b)) sentTo.push(to);
        return send(to, payload);
      });
      // Every placement of b tried in the store, and whether it placed b: assign-tasks-1.lua, which
      // moves a task from any distributor, or assign-unplaced-1.lua, which places it only if on none.
      const placed: boolean[] = [];
      const assign = c.ledger.assign.bind(c.ledger);
      vi.spyOn(c.ledger, "assign").mockImplementation(async (taskId, ...rest) => {
        const ok = await assign(taskId, ...rest);
        if (taskId === b) placed.push(ok);
        return ok;
      });
      const grouped = c.ledger.grouped.bind(c.ledger);
      vi.spyOn(c.ledger, "grouped").mockImplementation(async (script, head, items, idOf, push, ...rest) => {
        const reply = await grouped(script, head, items, idOf, push, ...rest);
        if (script === assignUnplaced)
          items.forEach((item, i) => {
            if (idOf(item) === b) placed.push(reply[i] === 1);
          });
        return reply;
      });
      // b's notice is applied in the store, its answer lost: the keeper reads b at its next tick.
      const notify = c.ledger.notifyDependencyEnded.bind(c.ledger);
      let lost = false;
      vi.spyOn(c.ledger, "notifyDependencyEnded").mockImplementation(
        async (dependent, dependency, status) => {
          const notice = await notify(dependent, dependency, status);
          if (dependent !== b || lost) return notice;
          lost = true;
          throw new Error("no reply from the store in time (the command may still have run)");
        },
      );
      // The keeper's read of b (pending, on no distributor): the other path places b right after it.
      const getMany = c.ledger.getMany.bind(c.ledger);
      let raced = false;
      vi.spyOn(c.ledger, "getMany").mockImplementation(async (ids, ...rest) => {
        const records = await getMany(ids, ...rest);
        if (raced || !lost || !ids.includes(b)) return records;
        const seen = records[ids.indexOf(b)];
        if (seen?.distributor !== null || seen.task.status !== "pending") return records;
        raced = true;
        await c.core.adoptIfUnplaced(b);
        await vi.waitFor(async () => expect(sentTo).toHaveLength(1), { timeout: 20_000, interval: 20 });
        return records;
      });
      await c.submitTasks([
        { task_id: a, task_type: "step" },
        { task_id: b, task_type: "step", depends_on: [a] },
      ]);
      expect(await c.waitForTask(b, 25_000)).toMatchObject({ status: "completed" });
      expect(raced).toBe(true);
      // Both paths tried: the keeper's found b placed, and left it there (no second assignment,
      // to d1, d2 or the same one).
      await expect.poll(() => placed.length, { timeout: 20_000 }).toBe(2);
      expect(placed).toEqual([true, false]);
      expect(sentTo).toHaveLength(1);
      expect((await c.ledger.get(b))?.distributor).toBe(sentTo[0]);
    }, 45_000);
  },
);
