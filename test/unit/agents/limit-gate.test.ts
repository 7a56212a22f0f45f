import { describe, expect, it } from "vitest";
import { LimitGate } from "../../../src/agents/limits/limit-gate.js";
import type { LimitStore } from "../../../src/agents/limits/limit-store.js";

/** A store that counts what the gate asks of it. */
function countingStore(limits: Array<{ task_type: string; concurrency?: number }>) {
  const calls: string[] = [];
  const store = {
    read: async () => {
      calls.push("read");
      return { nowMs: 0, limits: limits.map((l) => ({ ...l, in_use: 0, waiting: 0 })), holders: [] };
    },
    acquire: async (_d: string, items: unknown[]) => {
      calls.push("acquire");
      return { reservation: "r:1:d", verdicts: items.map(() => 0 as const) };
    },
    bind: async (_r: string, items: unknown[]) => {
      calls.push("bind");
      return items.map(() => true);
    },
    release: async () => {
      calls.push("release");
      return true;
    },
  };
  return { store: store as unknown as LimitStore, calls };
}

const plan = (...types: string[]) => types.map((t, i) => ({ task: { task_id: `t${i}`, task_type: t } }));

describe("LimitGate: a type without a limit pays nothing", () => {
  it("makes no store call for a plan of unlimited types, nor releases their attempts", async () => {
    const { store, calls } = countingStore([{ task_type: "llm", concurrency: 2 }]);
    const gate = new LimitGate(store, { distributorId: "d" });
    await gate.refresh();
    calls.length = 0;
    const p = plan("echo", "compute", "echo");
    expect(await gate.admit(p)).toEqual({ admitted: p, refused: [] });
    gate.release("t0", 1, "echo");
    expect(calls).toEqual([]);
  });

  it("is inactive with no limit at all (the distributor then skips it), and asks only for limited tasks", async () => {
    const none = countingStore([]);
    const idle = new LimitGate(none.store, { distributorId: "d" });
    await idle.refresh();
    expect(idle.active).toBe(false);
    const { store, calls } = countingStore([{ task_type: "llm", concurrency: 2 }]);
    const gate = new LimitGate(store, { distributorId: "d" });
    await gate.refresh();
    expect(gate.active).toBe(true);
    calls.length = 0;
    const p = plan("llm", "echo");
    const out = await gate.admit(p);
    expect(out.admitted).toEqual(p);
    expect(out.slots).toEqual({ reservation: "r:1:d", ids: new Set(["t0"]) });
    expect(await gate.bind(out.slots!, p, [4, 1])).toEqual([]);
    gate.release("t1", 1, "echo"); // holds no slot
    gate.release("t0", 3); // a stale attempt: not the fence bound here
    gate.release("t0", 4, "llm");
    // An attempt adopted after a restart: bound by an earlier process, released by fence all the same.
    gate.release("t7", 2, "llm");
    await new Promise((r) => setTimeout(r, 0));
    expect(calls).toEqual(["acquire", "bind", "release", "release"]);
  });
});

describe("LimitGate: says which types it knows are limited", () => {
  it("tells limitedTypesChanged the limited types after a read that changed them, and only then", async () => {
    const limits: Array<{ task_type: string; concurrency?: number }> = [];
    const { store } = countingStore(limits);
    const heard: string[][] = [];
    const gate = new LimitGate(store, { distributorId: "d", limitedTypesChanged: (t) => heard.push(t) });
    await gate.refresh();
    expect(heard).toEqual([]); // none before, none now
    limits.push({ task_type: "slow", concurrency: 3 }, { task_type: "llm", concurrency: 1 });
    await gate.refresh();
    await gate.refresh();
    expect(heard).toEqual([["llm", "slow"]]);
    limits.splice(1, 1);
    await gate.refresh();
    expect(heard).toEqual([["llm", "slow"], ["slow"]]);
  });
});
