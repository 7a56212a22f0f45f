import { describe, expect, it } from "vitest";
import { reassignedEvents, takeOff } from "../../../src/agents/coordinator/reassignments.js";
import { testEngines } from "../../helpers/engines.js";
import { ledgerOn } from "../../helpers/ledger-on.js";

/** A new `echo` task to submit through the ledger, no retries. */
const task = (taskId: string) => ({
  taskId,
  taskType: "echo",
  payload: {},
  createdAt: new Date().toISOString(),
  maxRetries: 0,
  backoffMs: 1,
});

/**
 * Taking a dead distributor's open tasks off it is one step in the store (reassigned-tasks-1.lua
 * and its embedded twin): each reassignment is counted in the shard's end-counts and kept on the
 * task's record (for any coordinator's task page), once per distributor and fence, whoever looks.
 */
describe.each(testEngines("reassigned-tasks", { cluster: true }))(
  "reassignments in the store on $name",
  (engine) => {
    const open = ledgerOn(engine);

    it("counts and records each task taken off a dead distributor once, with the attempt it ended", async () => {
      const { ledger: l } = await open();
      // Spread over several shards (on a Cluster, several nodes).
      const ids = Array.from({ length: 6 }, (_, i) => `moved-${i}`);
      for (const id of [...ids, "done"]) expect(await l.submit(task(id), "d1")).toBe(true);
      expect(new Set(ids.map((id) => l.shardOf(id))).size).toBeGreaterThan(1);
      expect(await l.dispatch(ids[0]!, "d1", "w1")).toBe(1); // in progress on w1
      expect(await l.dispatch("done", "d1", "w1")).toBe(1);
      expect(await l.commit({ taskId: "done", fence: 1, status: "completed", result: {} })).toBe("completed");
      const all = () => "";
      const first = await takeOff(l, "d1", all);
      expect(first.count).toBe(ids.length); // "done" ended: no longer on d1
      expect(first.open.map((o) => [o.record.task.task_id, o.noted]).sort()).toEqual(
        ids.map((id) => [id, true]).sort(),
      );
      expect((await l.endCounts()).reassigned).toBe(ids.length);
      // A second look at the same death (another coordinator, a restart): recorded already.
      const again = await takeOff(l, "d1", all);
      expect(again.open.every((o) => !o.noted)).toBe(true);
      expect((await l.endCounts()).reassigned).toBe(ids.length);
      // The record keeps it: the attempt it ended (in progress on w1), or none (pending).
      const running = reassignedEvents((await l.get(ids[0]!))?.reassigned);
      expect(running).toEqual([
        expect.objectContaining({ event: "reassigned", distributor: "d1", attempt: 1, worker: "w1" }),
      ]);
      expect(running![0]!.started_at).toBeTruthy();
      expect(reassignedEvents((await l.get(ids[1]!))?.reassigned)).toEqual([
        { event: "reassigned", at: expect.any(String), distributor: "d1" },
      ]);
      // Placed on d2, which dies too: a second reassignment of the same task.
      expect(await l.assign(ids[1]!, "d2")).toBe(true);
      const second = await takeOff(l, "d2", all);
      expect(second.open.map((o) => [o.record.task.task_id, o.noted])).toEqual([[ids[1], true]]);
      expect((await l.endCounts()).reassigned).toBe(ids.length + 1);
      expect(reassignedEvents((await l.get(ids[1]!))?.reassigned)?.map((e) => e.distributor)).toEqual([
        "d1",
        "d2",
      ]);
      // A coordinator that no longer owns the shard records nothing (the fence).
      expect(await l.assign(ids[2]!, "d3")).toBe(true);
      const fenced = await takeOff(l, "d3", () => "someone-else#1");
      expect(fenced.open.map((o) => o.noted)).toEqual([false]);
      expect((await l.endCounts()).reassigned).toBe(ids.length + 1);
    });

    it("says in which shards it left a dead distributor's tasks (not owned here now), for a later take-off", async () => {
      const { ledger: l } = await open();
      const ids = Array.from({ length: 6 }, (_, i) => `left-${i}`);
      for (const id of ids)
        expect(
          await l.submit(
            {
              taskId: id,
              taskType: "echo",
              payload: {},
              createdAt: new Date().toISOString(),
              maxRetries: 0,
              backoffMs: 1,
            },
            "d1",
          ),
        ).toBe(true);
      const shards = [...new Set(ids.map((id) => l.shardOf(id)))].sort((a, b) => a - b);
      expect(shards.length).toBeGreaterThan(1);
      const [lapsed, ...owned] = shards as [number, ...number[]];
      const left = await takeOff(l, "d1", (id) => (l.shardOf(id) === lapsed ? null : ""));
      expect(left.skipped).toEqual([lapsed]);
      expect(left.open.map((o) => l.shardOf(o.record.task.task_id)).every((s) => owned.includes(s))).toBe(
        true,
      );
      expect(left.count).toBe(ids.filter((id) => l.shardOf(id) !== lapsed).length);
      // Owned again: the rest, and nothing left.
      const rest = await takeOff(l, "d1", () => "");
      expect(rest.skipped).toEqual([]);
      expect(rest.open.filter((o) => o.noted).map((o) => l.shardOf(o.record.task.task_id))).toEqual(
        ids.filter((id) => l.shardOf(id) === lapsed).map(() => lapsed),
      );
    });

    it("gives the open tasks in submission order, whatever order the store keeps them in", async () => {
      // Placed again in this order, the distributor that takes them queues them so: an order of
      // the store's (a set's, shard by shard) put tasks of one priority out of their order.
      const { ledger: l } = await open();
      const t0 = Date.parse("2026-01-01T00:00:00.000Z");
      const ids = Array.from({ length: 8 }, (_, i) => `order-${i}`);
      // Recorded last first: their created_at says the opposite of the order they were written in.
      for (const [i, id] of [...ids.entries()].reverse()) {
        const createdAt = new Date(t0 + i).toISOString();
        const task = { taskId: id, taskType: "echo", payload: {}, createdAt, maxRetries: 0, backoffMs: 1 };
        expect(await l.submit(task, "d1")).toBe(true);
      }
      const { open: moved } = await takeOff(l, "d1", () => "");
      expect(moved.map((o) => o.record.task.task_id)).toEqual(ids);
    });

    it("says when placing a task ended its attempt on another distributor (its new holder queues it, unread)", async () => {
      const { ledger: l } = await open();
      const [running, back, waiting, done] = ["lost-run", "lost-back", "lost-wait", "lost-done"];
      for (const id of [running, back, waiting, done]) expect(await l.submit(task(id), "d1")).toBe(true);
      for (const id of [running, back, done]) expect(await l.dispatch(id, "d1", "w1")).toBe(1);
      expect(await l.commit({ taskId: done, fence: 1, status: "completed", result: {} })).toBe("completed");
      // In progress on d1, placed on d2: the attempt ends, the task is pending on d2.
      expect(await l.assignTo(running, "d2")).toBe("ended");
      const moved = await l.get(running);
      expect([moved?.task.status, moved?.fence, moved?.distributor]).toEqual(["pending", 2, "d2"]);
      // Back on d1 itself (it came back): its attempt is kept. Pending: nothing to end.
      expect(await l.assignTo(back, "d1")).toBe("assigned");
      expect((await l.get(back))?.task.status).toBe("in_progress");
      expect(await l.assignTo(waiting, "d2")).toBe("assigned");
      expect(await l.assignTo(done, "d2")).toBe(false);
      expect(await l.assignTo(running, "d3", "not-the-owner")).toBe(false);
      expect(await l.assign(running, "d3")).toBe(true); // assign: whether it was assigned
    });
  },
);
