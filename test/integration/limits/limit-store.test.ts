import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TaskLedger } from "../../../src/agents/ledger/task-ledger.js";
import { LimitGate } from "../../../src/agents/limits/limit-gate.js";
import { LimitStore } from "../../../src/agents/limits/limit-store.js";
import { SlotSweeper } from "../../../src/agents/limits/slot-sweeper.js";
import { RedisClient } from "../../../src/index.js";
import { testEngines } from "../../helpers/engines.js";
import { until } from "../../helpers/wait.js";

/**
 * Per-task-type limits in the store: one count for the whole cluster, fenced by the attempt
 * that holds each slot, the same on memory://, Redis and Redis Cluster.
 */
describe.each(testEngines("limit-store", { cluster: true }))("limits on $name", (engine) => {
  let store: RedisClient;
  let limits: LimitStore;
  let ledger: TaskLedger;
  beforeAll(async () => {
    await engine.setup();
    store = new RedisClient(engine.config());
    expect(await store.connect()).toBe(true);
    limits = new LimitStore(store);
    ledger = new TaskLedger(store);
  }, 60_000);
  afterAll(async () => {
    await store.disconnect();
    await engine.teardown();
  });

  const take = (dist: string, type: string, ...ids: string[]) =>
    limits.acquire(
      dist,
      ids.map((taskId) => ({ taskId, taskType: type })),
    );

  it("grants at most `concurrency` slots over every distributor, and a fenced release frees one", async () => {
    expect(await limits.set("llm", { concurrency: 2 })).toBe(false);
    const a = await take("d1", "llm", "a1", "a2");
    expect(a.verdicts).toEqual([0, 0]);
    const b = await take("d2", "llm", "b1");
    expect(b.verdicts).toEqual(["full"]);
    // An unlimited type takes nothing.
    expect((await take("d2", "echo", "e1")).verdicts).toEqual(["unlimited"]);
    expect(
      await limits.bind(a.reservation, [
        { taskId: "a1", taskType: "llm", fence: 1 },
        { taskId: "a2", taskType: "llm", fence: 3 },
      ]),
    ).toEqual([true, true]);
    // A stale holder (a1's earlier attempt, fence 0) frees nothing; the reservation no longer holds either.
    expect(await limits.release("a1", "0")).toBe(false);
    expect(await limits.release("a1", a.reservation)).toBe(false);
    expect((await limits.list())[0]).toMatchObject({ task_type: "llm", concurrency: 2, in_use: 2 });
    expect(await limits.release("a1", "1")).toBe(true);
    expect(await limits.release("a1", "1")).toBe(false);
    expect((await take("d2", "llm", "b1")).verdicts).toEqual([0]);
    expect((await take("d2", "llm", "b2")).verdicts).toEqual(["full"]);
  });

  it("frees a reservation whose dispatch was refused, and refuses a second slot to a task that holds one", async () => {
    await limits.set("search", { concurrency: 5 });
    const r = await take("d1", "search", "s1");
    expect((await take("d1", "search", "s1")).verdicts).toEqual(["full"]);
    expect(await limits.bind(r.reservation, [{ taskId: "s1", taskType: "search", fence: null }])).toEqual([
      true,
    ]);
    expect((await limits.list()).find((l) => l.task_type === "search")?.in_use).toBe(0);
  });

  it("gives back a reservation's start of the rate once, whoever frees it unbound, and never an attempt's", async () => {
    // One start per 1000 s: a start counted or not decides whether the next is granted.
    const waits = async (type: string, id: string) => {
      const [v] = (await take("d1", type, id)).verdicts;
      return typeof v === "number" && v > 0;
    };
    const rated = async (type: string) => limits.set(type, { rate_per_s: 0.001 });

    // Not started (a dispatch refused or failed outright): given back, and a second give-back
    // of the same reservation (a retry whose first answer was lost) gives nothing more back.
    await rated("once");
    const a = await take("d1", "once", "a");
    expect(a.verdicts).toEqual([0]);
    expect(await waits("once", "b")).toBe(true);
    const unbound = [{ taskId: "a", taskType: "once", fence: null }];
    expect(await limits.bind(a.reservation, unbound)).toEqual([true]);
    const b = await take("d1", "once", "b");
    expect(b.verdicts).toEqual([0]);
    expect(await limits.bind(a.reservation, unbound)).toEqual([true]);
    expect(await waits("once", "c")).toBe(true);

    // A reservation the sweeper frees as stale (never bound): its start is given back with it.
    await rated("swept");
    const s = await take("d1", "swept", "s1");
    expect(await limits.release("s1", s.reservation)).toBe(true);
    const s2 = await take("d1", "swept", "s2");
    expect(s2.verdicts).toEqual([0]);
    // Bound after it was swept: the attempt started after all, its start is counted again.
    expect(await limits.release("s2", s2.reservation)).toBe(true);
    expect(await limits.bind(s2.reservation, [{ taskId: "s2", taskType: "swept", fence: 4 }])).toEqual([
      true,
    ]);
    expect(await waits("swept", "s3")).toBe(true);

    // An attempt's release (its fence) gives back nothing of the rate.
    await rated("ran");
    const r = await take("d1", "ran", "r1");
    expect(await limits.bind(r.reservation, [{ taskId: "r1", taskType: "ran", fence: 1 }])).toEqual([true]);
    expect(await limits.release("r1", "1")).toBe(true);
    expect(await waits("ran", "r2")).toBe(true);
  });

  it("starts at most rate_per_s per second, and says how long to wait", async () => {
    await limits.set("api", { rate_per_s: 3 });
    const ids = ["r1", "r2", "r3", "r4", "r5"];
    const got = await take("d1", "api", ...ids);
    expect(got.verdicts.slice(0, 3)).toEqual([0, 0, 0]);
    for (const v of got.verdicts.slice(3)) {
      expect(typeof v).toBe("number");
      expect(v as number).toBeGreaterThan(0);
      expect(v as number).toBeLessThanOrEqual(1100);
    }
  });

  it("checks a limit at the edge: 0, negative, a fraction of a slot, nothing at all", async () => {
    for (const bad of [
      { concurrency: 0 },
      { concurrency: -1 },
      { concurrency: 1.5 },
      { rate_per_s: 0 },
      { rate_per_s: 1e-300 },
      {},
    ]) {
      await expect(limits.set("bad", bad)).rejects.toMatchObject({ code: "ERR_INVALID_TYPE_LIMIT" });
    }
    await expect(limits.set("bad", { concurrency: 0 })).rejects.toThrow(/concurrency/);
    // Too big is said so, however big (1e20 is no safe integer: that is not the problem to name).
    for (const concurrency of [1e7, 1e20])
      await expect(limits.set("bad", { concurrency })).rejects.toThrow(
        /^concurrency: Too big: expected number to be <=1000000$/,
      );
    expect((await limits.list()).some((l) => l.task_type === "bad")).toBe(false);
  });

  it("reports waiting tasks per distributor, and forgets a removed limit with its slots", async () => {
    await limits.set("w", { concurrency: 1 });
    await limits.read("d1", new Map([["w", 4]]), false);
    await limits.read("d2", new Map([["w", 2]]), false);
    expect((await limits.list()).find((l) => l.task_type === "w")?.waiting).toBe(6);
    await limits.read("d1", new Map([["w", 0]]), false);
    expect((await limits.list()).find((l) => l.task_type === "w")?.waiting).toBe(2);
    expect((await take("d1", "w", "w1")).verdicts).toEqual([0]);
    expect(await limits.remove("w")).toBe(true);
    expect(await limits.remove("w")).toBe(false);
    expect((await limits.list()).some((l) => l.task_type === "w")).toBe(false);
    expect((await limits.read("", new Map(), true)).holders.some((h) => h.taskId === "w1")).toBe(false);
  });

  it("the sweeper frees the slot of an attempt that is over (moved, ended), and keeps a live one", async () => {
    await limits.set("sw", { concurrency: 2 });
    const task = {
      taskType: "sw",
      payload: {},
      createdAt: new Date().toISOString(),
      maxRetries: 0,
      backoffMs: 0,
    };
    await ledger.submit({ ...task, taskId: "live" }, "d1");
    await ledger.submit({ ...task, taskId: "moved" }, "d1");
    const got = await take("d1", "sw", "live", "moved");
    const fLive = (await ledger.dispatch("live", "d1", "w1")) as number;
    const fMoved = (await ledger.dispatch("moved", "d1", "w1")) as number;
    await limits.bind(got.reservation, [
      { taskId: "live", taskType: "sw", fence: fLive },
      { taskId: "moved", taskType: "sw", fence: fMoved },
    ]);
    // d1 died: the coordinator moves "moved" to d2, which retires its attempt's fence.
    expect(await ledger.assign("moved", "d2")).toBe(true);
    const sweeper = new SlotSweeper(limits, ledger);
    expect(await sweeper.sweep()).toBeGreaterThanOrEqual(1); // and the fake holders of the tests above
    const holders = (await limits.read("", new Map(), true)).holders.filter((h) => h.taskType === "sw");
    expect(holders).toEqual([{ taskId: "live", taskType: "sw", value: String(fLive) }]);
    expect(await sweeper.sweep()).toBe(0);
  });

  it("a distributor's gate lets unlimited types pass without the store, and holds limited ones back", async () => {
    await limits.set("gated", { concurrency: 1 });
    const gate = new LimitGate(limits, { distributorId: "dg", fullRetryMs: 50 });
    await gate.refresh();
    const plan = [
      { task: { task_id: "g1", task_type: "gated" } },
      { task: { task_id: "g2", task_type: "gated" } },
      { task: { task_id: "x1", task_type: "echo" } },
    ];
    const now = Date.now();
    const out = await gate.admit(plan, now);
    expect(out.admitted.map((p) => p.task.task_id)).toEqual(["g1", "x1"]);
    expect(out.refused.map((r) => [r.item.task.task_id, r.notBefore])).toEqual([["g2", now + 50]]);
    expect(await gate.bind(out.slots!, plan, [7, -1, 1])).toEqual([]);
    expect(await gate.admit([plan[2]!])).toEqual({ admitted: [plan[2]], refused: [] });
    gate.release("g1", 6); // a stale attempt: nothing
    expect((await limits.list()).find((l) => l.task_type === "gated")?.in_use).toBe(1);
    gate.release("g1", 7);
    const inUse = async () => (await limits.list()).find((l) => l.task_type === "gated")?.in_use;
    await until("the slot is given back", async () => (await inUse()) === 0, 5_000, 10);
    expect((await gate.admit([plan[1]!])).admitted).toHaveLength(1);
  });
});
