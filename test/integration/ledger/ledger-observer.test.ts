import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LedgerEvent, RedisClient, TaskLedger } from "../../../src/index.js";
import { testEngines } from "../../helpers/engines.js";

/**
 * The ledger's observer (what --history records for the chaos suite's checker): every state
 * change a script made, with the fence it made it at, as the script answered — and nothing
 * for a change that did not happen.
 */

let seq = 0;
const newTask = () => ({
  taskId: `obs-${++seq}`,
  taskType: "echo",
  payload: {},
  createdAt: new Date().toISOString(),
  maxRetries: 1,
  backoffMs: 0,
});

describe.each(testEngines("ledger-observer"))("the ledger's observer on $name", (engine) => {
  const clients: RedisClient[] = [];
  async function observed(): Promise<{ ledger: TaskLedger; events: LedgerEvent[] }> {
    const store = new RedisClient(engine.config());
    expect(await store.connect()).toBe(true);
    clients.push(store);
    const events: LedgerEvent[] = [];
    return { ledger: new TaskLedger(store, { observer: (e) => events.push(e) }), events };
  }
  beforeAll(() => engine.setup());
  afterAll(async () => {
    for (const c of clients) await c.disconnect();
    await engine.teardown();
  });

  it("tells each change with its fence: recorded, assigned, dispatched, retried, reassigned, committed, rejected", async () => {
    const { ledger, events } = await observed();
    const t = newTask();
    const id = t.taskId;
    await ledger.submit(t, "d1");
    expect(await ledger.submit(t, "d1")).toBe(false); // a duplicate changes nothing: not told
    await ledger.assign(id, "d2");
    const f1 = (await ledger.dispatch(id, "d2", "w1")) as number;
    await ledger.commit({ taskId: id, fence: f1, status: "failed", error: "boom" });
    const f2 = (await ledger.dispatch(id, "d2", "w2")) as number;
    await ledger.requeue(id, "d2", f2);
    const f3 = (await ledger.dispatch(id, "d2", "w3")) as number;
    await ledger.commit({ taskId: id, fence: f3, status: "completed", result: { ok: true } });
    await ledger.commit({ taskId: id, fence: f2, status: "completed", result: { late: true } });
    await ledger.commit({ taskId: id, fence: f3, status: "completed", result: { ok: true } }); // sent again
    expect(await ledger.dispatch(id, "d2", "w1")).toBe("terminal"); // refused: not told
    expect(events).toEqual([
      { op: "recorded", task_id: id, distributor: "d1" },
      { op: "assigned", task_id: id, distributor: "d2" },
      { op: "dispatched", task_id: id, distributor: "d2", worker: "w1", fence: f1 },
      { op: "retried", task_id: id, fence: f1 },
      { op: "dispatched", task_id: id, distributor: "d2", worker: "w2", fence: f2 },
      { op: "reassigned", task_id: id, distributor: "d2", fence: f2 },
      { op: "dispatched", task_id: id, distributor: "d2", worker: "w3", fence: f3 },
      { op: "committed", task_id: id, fence: f3, status: "completed" },
      { op: "rejected", task_id: id, fence: f2, reason: "stale_fence" },
      { op: "resent", task_id: id, fence: f3 },
    ]);
  });

  it("tells each dependency notice that took effect, and whether it made its task ready", async () => {
    const { ledger, events } = await observed();
    const [a, b] = [newTask(), newTask()];
    const join = { ...newTask(), dependsOn: [a.taskId, b.taskId] };
    for (const t of [a, b, join]) await ledger.submit(t);
    events.length = 0;
    await ledger.notifyDependencyEnded(join.taskId, a.taskId, "completed");
    await ledger.notifyDependencyEnded(join.taskId, a.taskId, "completed"); // a repeat: not told
    await ledger.notifyDependencyEnded(join.taskId, b.taskId, "completed");
    expect(events).toEqual([
      { op: "noticed", task_id: join.taskId, dependency: a.taskId, status: "completed", ready: false },
      { op: "noticed", task_id: join.taskId, dependency: b.taskId, status: "completed", ready: true },
    ]);
    const strict = { ...newTask(), dependsOn: [a.taskId] };
    await ledger.submit(strict);
    events.length = 0;
    await ledger.notifyDependencyEnded(strict.taskId, a.taskId, "failed");
    expect(events).toEqual([
      { op: "abandoned", task_id: strict.taskId, reason: `dependency ${a.taskId} failed` },
    ]);
  });

  it("tells an abandon, and a broken observer fails no state change", async () => {
    const store = new RedisClient(engine.config());
    expect(await store.connect()).toBe(true);
    clients.push(store);
    const seen: LedgerEvent[] = [];
    const ledger = new TaskLedger(store, {
      observer: (e) => {
        seen.push(e);
        throw new Error("recorder broke");
      },
    });
    const t = newTask();
    expect(await ledger.submit(t)).toBe(true);
    expect(await ledger.abandon(t.taskId, "no distributor")).toBe(true);
    expect((await ledger.get(t.taskId))?.task.status).toBe("abandoned");
    expect(seen.map((e) => e.op)).toEqual(["recorded", "abandoned"]);
  });
});
