import { describe, expect, it } from "vitest";
import { DispatchQueue } from "../../../src/agents/distributor/dispatch-queue.js";
import { DispatchLimits } from "../../../src/agents/limits/dispatch-limits.js";
import { LimitGate } from "../../../src/agents/limits/limit-gate.js";
import type { LimitStore } from "../../../src/agents/limits/limit-store.js";
import type { TaskDict } from "../../../src/agents/protocol.js";
import { pendingTask } from "../../helpers/task-dict.js";

/** A limits store whose limits the test changes, announcing each change as the real one does. */
function changingStore() {
  const limits: Array<{ task_type: string; concurrency: number }> = [];
  let notify = () => {};
  const store = {
    listen: async (changed: () => void) => {
      notify = changed;
      return true;
    },
    unlisten: async () => {},
    read: async () => {
      await new Promise((r) => setTimeout(r, 5)); // a store round trip
      return { nowMs: 0, limits: limits.map((l) => ({ ...l, in_use: 0, waiting: 0 })), holders: [] };
    },
    // One slot: the first task asking gets it, the rest wait for a free one.
    acquire: async (_d: string, items: unknown[]) => ({
      reservation: "r:1:d",
      verdicts: items.map((_, k) => (k === 0 ? (0 as const) : ("full" as const))),
    }),
    bind: async (_r: string, items: unknown[]) => items.map(() => true),
    release: async () => true,
  };
  return {
    store: store as unknown as LimitStore,
    limit: (type: string, concurrency: number) => {
      limits.push({ task_type: type, concurrency });
      notify();
    },
  };
}

describe("DispatchLimits: a limit set while tasks of its type are being dispatched", () => {
  it("waits for the gate's read of the change, and sends tasks taken as unlimited back to be offered", async () => {
    const { store, limit } = changingStore();
    // A refresh an hour away: only the change notice tells the gate.
    const gate = new LimitGate(store, { distributorId: "d", refreshMs: 3_600_000 });
    await gate.start();
    const q = new DispatchQueue();
    const started: string[] = [];
    const refused: string[] = [];
    const limits = new DispatchLimits(gate, q, {
      dispatch: async (plan: Array<{ task: TaskDict }>) => {
        for (const p of plan) started.push(p.task.task_id);
      },
      refused: (p) => refused.push(p.task.task_id),
    });
    for (const id of ["a", "b", "c"]) q.push(pendingTask(id, { task_type: "job" }));
    q.push(pendingTask("u", { task_type: "echo" }));
    // The pump takes them while `job` is unlimited; the limit is set before they are dispatched.
    const plan = q.take(10).map((task) => ({ task }));
    expect(plan.map((p) => p.task.task_id)).toEqual(["a", "b", "c", "u"]);
    limit("job", 1);
    await limits.dispatch(plan);
    expect(started, "only the unlimited task starts from the plan taken before the limit").toEqual(["u"]);
    expect(refused).toEqual(["a", "b", "c"]);
    expect(["a", "b", "c"].every((id) => q.has(id))).toBe(true);
    // The next pump offers them in their order, under the limit: one slot, one start.
    await limits.dispatch(q.take(10).map((task) => ({ task })));
    expect(started).toEqual(["u", "a"]);
    gate.stop();
  });
});
