import { describe, expect, it } from "vitest";
import { MAX_HAND_BACKS, moveHandedBack } from "../../../src/agents/coordinator/hand-back-scripts.js";
import { testEngines } from "../../helpers/engines.js";
import { ledgerOn, newTasks } from "../../helpers/ledger-on.js";

/**
 * A hand-back's move in the store (hand-back-tasks-1.lua and its embedded twin): only a task
 * still pending on the distributor that handed it back moves, out of its set and into the
 * other's, at most MAX_HAND_BACKS times, and only while the caller owns the shard.
 */
describe.each(testEngines("hand-back-tasks", { cluster: true }))(
  "hand-back moves in the store on $name",
  (engine) => {
    const open = ledgerOn(engine);
    const newTask = newTasks("hand-back");

    it("moves the tasks still pending on the distributor that handed them back, and no others", async () => {
      const { ledger: l } = await open();
      const tasks = Array.from({ length: 6 }, () => newTask());
      const ids = tasks.map((t) => t.taskId);
      for (const t of tasks) expect(await l.submit(t, "d1")).toBe(true);
      expect(new Set(ids.map((id) => l.shardOf(id))).size).toBeGreaterThan(1); // several shards (nodes)
      expect(await l.dispatch(ids[0]!, "d1", "w1")).toBe(1); // started on d1 meanwhile: stays
      const items = ids.map((id) => ({ id, owner: "" }));
      expect(await moveHandedBack(l, "d1", "d2", items)).toEqual(ids.map((_, k) => k > 0));
      expect(new Set(await l.distributorTaskIds("d2"))).toEqual(new Set(ids.slice(1)));
      expect(await l.distributorTaskIds("d1")).toEqual([ids[0]]);
      expect((await l.get(ids[1]!))?.distributor).toBe("d2");
      expect((await l.get(ids[0]!))?.task.status).toBe("in_progress");
      // Handed back by d1 again, late: they are d2's now, not moved.
      expect(await moveHandedBack(l, "d1", "d3", items.slice(1))).toEqual(items.slice(1).map(() => false));
      expect(await l.distributorTaskIds("d3")).toEqual([]);
    });

    it("moves one task MAX_HAND_BACKS times at most, and not in a shard whose owner lease the caller does not hold", async () => {
      const { ledger: l } = await open();
      const t = newTask();
      expect(await l.submit(t, "d1")).toBe(true);
      const one = [{ id: t.taskId, owner: "" }];
      let at = "d1";
      for (let i = 0; i < MAX_HAND_BACKS; i++) {
        const to = at === "d1" ? "d2" : "d1";
        expect(await moveHandedBack(l, at, to, one)).toEqual([true]);
        at = to;
      }
      expect(await moveHandedBack(l, at, at === "d1" ? "d2" : "d1", one)).toEqual([false]);
      expect((await l.get(t.taskId))?.distributor).toBe(at);

      const u = newTask();
      expect(await l.submit(u, "d1")).toBe(true);
      expect(await moveHandedBack(l, "d1", "d2", [{ id: u.taskId, owner: "someone-else#1" }])).toEqual([
        false,
      ]);
      expect((await l.get(u.taskId))?.distributor).toBe("d1");
    });
  },
);
