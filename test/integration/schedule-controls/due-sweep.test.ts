import { describe, expect, it } from "vitest";
import type { TaskLedger } from "../../../src/agents/ledger/task-ledger.js";
import { DueSweeper } from "../../../src/agents/schedule-controls/due-sweeper.js";
import { sweepDue } from "../../../src/agents/schedule-controls/schedule-scripts.js";
import { delayUntil } from "../../../src/agents/schedule-controls/task-schedule.js";
import type { RedisClient } from "../../../src/index.js";
import { testEngines } from "../../helpers/engines.js";
import { ledgerOn, newTasks } from "../../helpers/ledger-on.js";
import { sleep, until } from "../../helpers/wait.js";

/**
 * The scheduling keys in the store, on each engine: the submit script records priority, run_at
 * and expires_at only when given; a task whose run_at is ahead is recorded on no distributor
 * (even when one is offered) and released once by the due sweep when its time has come; a
 * task not started by its expires_at ends abandoned "expired" and one that started does not.
 * The sweep's ids leave their sorted set in the step that acts on them: two sweepers at once
 * release and expire each task once.
 */

const task = newTasks("ds");
const at = (ms: number) => new Date(Date.now() + ms).toISOString();

describe.each(testEngines("due-sweep", { cluster: true }))("due sweep on $name", (engine) => {
  const openLedger = ledgerOn(engine);
  const open = () => openLedger({ retentionSeconds: 60 });
  function sweeper(store: RedisClient, ledger: TaskLedger) {
    const released: string[] = [];
    const expired: string[] = [];
    const s = new DueSweeper({
      store,
      shards: ledger.shards,
      retentionMs: ledger.retentionMs,
      released: (ids) => released.push(...ids),
      expired: (ids) => expired.push(...ids),
    });
    return { s, released, expired };
  }

  it("records the keys only when given; a plain task's dict has none of them", async () => {
    const { ledger } = await open();
    const plain = task();
    const urgent = task({ schedule: { priority: 7, expires_at: at(60_000) } });
    const zero = task({ schedule: { priority: 0 } });
    for (const t of [plain, urgent, zero]) expect(await ledger.submit(t, "d1")).toBe(true);
    const p = (await ledger.get(plain.taskId))!;
    expect(p.task).not.toHaveProperty("priority");
    expect(p.task).not.toHaveProperty("run_at");
    expect(p.task).not.toHaveProperty("expires_at");
    expect(p.distributor).toBe("d1");
    const u = (await ledger.get(urgent.taskId))!;
    expect(u.task.priority).toBe(7);
    expect(u.task.expires_at).toBe(urgent.schedule!.expires_at);
    expect(u.distributor).toBe("d1"); // an expiry alone does not hold a task back
    expect((await ledger.get(zero.taskId))!.task).not.toHaveProperty("priority");
  });

  it("holds a delayed task on no distributor and releases it once, when due", async () => {
    const { store, ledger } = await open();
    const runAt = at(150);
    const later = task({ schedule: { run_at: runAt }, delayUntil: delayUntil({ run_at: runAt }) });
    const farOff = task({ schedule: { run_at: at(3_600_000) }, delayUntil: Date.now() + 3_600_000 });
    const past = task({ schedule: { run_at: at(-1000) }, delayUntil: null });
    for (const t of [later, farOff, past]) expect(await ledger.submit(t, "d1")).toBe(true);
    expect((await ledger.get(later.taskId))!.distributor).toBeNull();
    expect((await ledger.get(past.taskId))!.distributor).toBe("d1"); // run_at passed: placed at once
    expect(await ledger.assign(later.taskId, "d1")).toBe(true); // the store does not refuse an explicit placement

    const a = sweeper(store, ledger);
    const b = sweeper(store, ledger);
    await Promise.all([a.s.sweep(), b.s.sweep()]);
    expect([...a.released, ...b.released]).not.toContain(later.taskId); // not due yet
    // The sweep also counts what waits for its run_at (the triad_tasks_delayed gauge): later and farOff.
    await until("the sweep counts two delayed", () => a.s.delayed === 2, 5_000);
    expect(a.s.delayed).toBe(2);
    // Placed meanwhile (the seed's explicit path): when due it is left where it is.
    const againAt = at(100);
    const again = task({ schedule: { run_at: againAt }, delayUntil: Date.parse(againAt) });
    expect(await ledger.submit(again)).toBe(true);
    // Both due (on a slow machine the sweeps above may have taken longer than runAt's lead).
    const due = Math.max(Date.parse(runAt), Date.parse(againAt)) + 5;
    await until("both are due", () => Date.now() >= due, 5_000);
    await Promise.all([a.s.sweep(), b.s.sweep()]);
    const released = [...a.released, ...b.released];
    expect(released.filter((id) => id === again.taskId)).toHaveLength(1);
    expect(released).not.toContain(later.taskId); // on a distributor already
    expect(released).not.toContain(farOff.taskId);
    await Promise.all([a.s.sweep(), b.s.sweep()]);
    expect([...a.released, ...b.released].filter((id) => id === again.taskId)).toHaveLength(1);
  });

  it("a canceled task leaves the due sets: no longer counted delayed, never swept", async () => {
    const { store, ledger } = await open();
    const hour = Date.now() + 3_600_000;
    const kept = task({ schedule: { run_at: at(3_600_000) }, delayUntil: hour });
    const canceled = task({
      schedule: { run_at: at(3_600_000), expires_at: at(7_200_000) },
      delayUntil: hour,
    });
    for (const t of [kept, canceled]) expect(await ledger.submit(t)).toBe(true);
    expect(await ledger.abandon(canceled.taskId, "canceled by client")).toBe(true);
    const a = sweeper(store, ledger);
    await a.s.sweep();
    // The count is read beside the sweep; it was 2 (the canceled id stayed until its run_at).
    await until("the sweep's count is read", () => a.s.delayed !== 0, 5_000);
    expect(a.s.delayed).toBe(1);
  });

  it("a dependent abandoned by its dependency's failure leaves the due sets: no longer counted delayed", async () => {
    const { store, ledger } = await open();
    const hour = Date.now() + 3_600_000;
    const dep = task();
    const kept = task({ schedule: { run_at: at(3_600_000) }, delayUntil: hour });
    const dependent = task({
      dependsOn: [dep.taskId],
      schedule: { run_at: at(3_600_000), expires_at: at(7_200_000) },
      delayUntil: hour,
    });
    for (const t of [dep, kept, dependent]) expect(await ledger.submit(t)).toBe(true);
    expect((await ledger.notifyDependencyEnded(dependent.taskId, dep.taskId, "failed")).verdict).toBe(
      "abandoned",
    );
    const a = sweeper(store, ledger);
    await a.s.sweep();
    // The count is read beside the sweep; it was 2 (the abandoned id stayed until its run_at).
    await until("the sweep's count is read", () => a.s.delayed !== 0, 5_000);
    expect(a.s.delayed).toBe(1);
  });

  it("a due time ~25 days or more ahead (past a timer's 2^31 ms) does not make the sweeper spin", async () => {
    const { store, ledger } = await open();
    const far = Date.now() + 30 * 86_400_000;
    const t = task({ schedule: { run_at: new Date(far).toISOString() }, delayUntil: far });
    expect(await ledger.submit(t)).toBe(true);
    let sweeps = 0; // sweep script calls
    const s = new DueSweeper({
      store: new Proxy(store, {
        get: (target, name, receiver) =>
          name === "runScript"
            ? (...args: Parameters<RedisClient["runScript"]>) => {
                if (args[0] === sweepDue) sweeps++;
                return target.runScript(...args);
              }
            : Reflect.get(target, name, receiver),
      }),
      shards: ledger.shards,
      retentionMs: ledger.retentionMs,
      released: () => {},
      expired: () => {},
      fallbackMs: 60_000,
    });
    const callsPerSweep = store.engine.kind === "cluster" ? ledger.shards : 1; // a call per shard there
    s.start();
    try {
      await until("the first sweep has run", () => sweeps >= callsPerSweep, 5_000, 5);
      // A negative check: no sweep follows for 300 ms, so a fixed wait.
      await sleep(300);
    } finally {
      s.stop();
    }
    // The first sweep armed its timer for the task's run_at: Node set it to 1 ms, and each sweep
    // re-armed it (hundreds of sweeps in 300 ms, each a script call over every shard).
    expect(sweeps).toBeGreaterThanOrEqual(callsPerSweep);
    expect(sweeps).toBeLessThanOrEqual(2 * callsPerSweep);
  });

  it("a task whose run_at and expires_at are both due in one sweep is expired only, not released", async () => {
    // Before, the sweep released it (to be placed) and then expired it, in one call: the
    // coordinator was handed an abandoned task to place.
    const { store, ledger } = await open();
    const [runAt, expiresAt] = [at(100), at(50)];
    const t = task({ schedule: { run_at: runAt, expires_at: expiresAt }, delayUntil: Date.parse(runAt) });
    expect(await ledger.submit(t)).toBe(true);
    await until("both are due", () => Date.now() >= Date.parse(runAt) + 5, 5_000);
    const a = sweeper(store, ledger);
    await a.s.sweep();
    expect(a.expired).toEqual([t.taskId]);
    expect(a.released).toEqual([]);
    expect((await ledger.get(t.taskId))!.task).toMatchObject({ status: "abandoned", error: "expired" });
  });

  it("ends a task not started by its expires_at 'expired'; one that started runs on", async () => {
    const { store, ledger } = await open();
    // `started` is dispatched before its expires_at (a dispatch after it ends it expired): far
    // enough ahead for a loaded machine.
    const expiresAt = at(1500);
    const idle = task({ schedule: { expires_at: expiresAt } });
    const started = task({ schedule: { expires_at: expiresAt } });
    const delayed = task({
      schedule: { run_at: at(50), expires_at: expiresAt },
      delayUntil: Date.now() + 50,
    });
    for (const t of [idle, started]) expect(await ledger.submit(t, "d1")).toBe(true);
    expect(await ledger.submit(delayed)).toBe(true);
    expect(typeof (await ledger.dispatch(started.taskId, "d1", "w1"))).toBe("number");
    await until("expires_at has passed", () => Date.now() >= Date.parse(expiresAt) + 5, 5_000);
    const a = sweeper(store, ledger);
    const b = sweeper(store, ledger);
    await Promise.all([a.s.sweep(), b.s.sweep()]);
    const expired = [...a.expired, ...b.expired].sort();
    expect(expired).toEqual([idle.taskId, delayed.taskId].sort());
    for (const id of [idle.taskId, delayed.taskId]) {
      const r = (await ledger.get(id))!;
      expect(r.task).toMatchObject({ status: "abandoned", error: "expired" });
      expect(await ledger.dispatch(id, "d1", "w1")).toBe("terminal");
    }
    expect(await ledger.openTaskIds()).not.toContain(idle.taskId);
    expect(await ledger.distributorTaskIds("d1")).not.toContain(idle.taskId);
    expect((await ledger.get(started.taskId))!.task.status).toBe("in_progress");
  });
});
