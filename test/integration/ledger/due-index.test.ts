import { describe, expect, it } from "vitest";
import { shardOf, shardTag } from "../../../src/agents/ledger/shards.js";
import type { NewTask, TaskLedger } from "../../../src/agents/ledger/task-ledger.js";
import { countDelayed } from "../../../src/agents/schedule-controls/count-delayed.js";
import { DueSweeper } from "../../../src/agents/schedule-controls/due-sweeper.js";
import { ScheduleControls } from "../../../src/agents/schedule-controls/schedule-controls.js";
import type { RedisClient } from "../../../src/index.js";
import { testEngines } from "../../helpers/engines.js";
import { ledgerOn, newTasks, shardKeys } from "../../helpers/ledger-on.js";

/**
 * The delayed index (<prefix>delayed, counted in triad_tasks_delayed) and the expiring one hold
 * a task only while its run_at (expires_at) can still hold it back (end it): never while it
 * runs, never once it is placed. Two ways in which they did: a task run before its run_at (the
 * assignTaskToWorker path) stayed delayed while it ran, until it ended; a dependent made ready
 * after its run_at had passed, but before a sweep took it out, was placed while still delayed.
 */

const task = newTasks("di");
const at = (ms: number) => new Date(Date.now() + ms).toISOString();
/** Recorded delayed until `delayMs` from now (negative: a run_at that has passed since it was recorded). */
const delayed = (delayMs: number, over: Partial<NewTask> = {}) =>
  task({
    schedule: { run_at: at(delayMs), expires_at: at(7_200_000) },
    delayUntil: Date.now() + delayMs,
    ...over,
  });

describe.each(testEngines("due-index", { cluster: true }))("the delayed index on $name", (engine) => {
  const openLedger = ledgerOn(engine);
  const open = () => openLedger({ retentionSeconds: 60 });

  /** Which of its shard's due sets (delayed, expiring) name the task. */
  async function dueSets(store: RedisClient, ledger: TaskLedger, id: string): Promise<string[]> {
    return (await shardKeys(store, ledger, id))
      .filter(({ type, flat }) => type === "zset" && flat.some((v, k) => k % 2 === 0 && v === id))
      .map(({ name }) => name)
      .sort();
  }

  /** triad_tasks_delayed's count (count-delayed-1.lua) over the task's shard: this test's prefix alone. */
  async function delayedCount(store: RedisClient, ledger: TaskLedger, id: string): Promise<number> {
    const shard = shardTag(shardOf(id, ledger.shards));
    return Number(await store.runScript(countDelayed, [`${shard}delayed`], [store.key(shard)]));
  }

  it("a task run before its run_at leaves delayed and expiring when its attempt starts", async () => {
    const { store, ledger } = await open();
    const early = delayed(3_600_000);
    expect(await ledger.submit(early, "")).toBe(true);
    expect(await dueSets(store, ledger, early.taskId)).toEqual(["delayed", "expiring"]);
    expect(await delayedCount(store, ledger, early.taskId)).toBe(1);

    // assignTaskToWorker: assigned to its distributor, then dispatched to the worker at once.
    expect(await ledger.assign(early.taskId, "d1")).toBe(true);
    const fence = await ledger.dispatch(early.taskId, "d1", "w1");
    expect(typeof fence).toBe("number");
    expect(await ledger.status(early.taskId)).toBe("in_progress");
    expect(await dueSets(store, ledger, early.taskId)).toEqual([]);
    expect(await delayedCount(store, ledger, early.taskId)).toBe(0);

    // Taken back (its worker lost): pending again, it started already, so nothing holds it back.
    expect(await ledger.requeue(early.taskId, "d1", fence as number)).toBe(true);
    expect(await ledger.status(early.taskId)).toBe("pending");
    expect(await dueSets(store, ledger, early.taskId)).toEqual([]);
  });

  it("a dependent made ready leaves delayed when its run_at has passed, else stays for the sweep", async () => {
    const { store, ledger } = await open();
    const dependency = task();
    // Recorded delayed; its run_at still an hour ahead when it becomes ready.
    const ahead = delayed(3_600_000, { dependsOn: [dependency.taskId] });
    // Recorded delayed; a sweep took it out while it waited (its run_at passed), without placing it.
    const swept = delayed(-1, { dependsOn: [dependency.taskId] });
    expect(await ledger.submit(dependency, "d1")).toBe(true);
    const record = async (t: NewTask) => {
      expect(await ledger.submit(t, "")).toBe(true);
      expect(await ledger.watchDependency(dependency.taskId, t.taskId)).toBe("");
    };
    await record(ahead);
    await record(swept);
    const released: string[] = [];
    const sweeper = new DueSweeper({
      store,
      shards: ledger.shards,
      retentionMs: ledger.retentionMs,
      released: (ids) => released.push(...ids),
      expired: () => {},
    });
    await sweeper.sweep();
    expect(await dueSets(store, ledger, swept.taskId)).toEqual(["expiring"]);
    expect(released).toEqual([]);
    // Recorded delayed; its run_at passed while it waited, and no sweep has run since.
    const due = delayed(-1, { dependsOn: [dependency.taskId] });
    await record(due);
    expect(await dueSets(store, ledger, due.taskId)).toEqual(["delayed", "expiring"]);

    const fence = await ledger.dispatch(dependency.taskId, "d1", "w1");
    const done = {
      taskId: dependency.taskId,
      fence: fence as number,
      status: "completed" as const,
      result: 1,
    };
    expect(await ledger.commit(done)).toBe("completed");
    const verdicts: Record<string, { verdict: string; sets: string[] }> = {};
    for (const [name, t] of Object.entries({ due, ahead, swept })) {
      const notice = await ledger.notifyDependencyEnded(t.taskId, dependency.taskId, "completed");
      expect(notice.record?.task.status).toBe("pending");
      verdicts[name] = { verdict: notice.verdict, sets: await dueSets(store, ledger, t.taskId) };
    }
    expect(verdicts).toEqual({
      // Placed by whoever heard the verdict: no longer delayed.
      due: { verdict: "ready", sets: ["expiring"] },
      // Still delayed: the sweep places it when its run_at comes, and the caller must not.
      ahead: { verdict: "delayed", sets: ["delayed", "expiring"] },
      // Out of delayed already: the caller places it (no sweep would).
      swept: { verdict: "ready", sets: ["expiring"] },
    });
    expect(await delayedCount(store, ledger, ahead.taskId)).toBe(1);
  });

  it("the coordinator holds back from placing exactly the tasks the delayed set holds", async () => {
    const { store, ledger } = await open();
    // Not started: the sweep (never started here) would place it, so the coordinator must not.
    const waiting = delayed(3_600_000);
    // Run early, then taken back from its lost worker and moved off its distributor (input given
    // after a wait, or a restore after its distributor died): only the coordinator can place it.
    const ranEarly = delayed(3_600_000);
    for (const t of [waiting, ranEarly]) expect(await ledger.submit(t, "")).toBe(true);
    expect(await ledger.assign(ranEarly.taskId, "d1")).toBe(true);
    const fence = await ledger.dispatch(ranEarly.taskId, "d1", "w1");
    expect(await ledger.requeue(ranEarly.taskId, "d1", fence as number)).toBe(true);
    const schedule = new ScheduleControls({ store, ledger, place: () => {}, expired: () => {} });
    const seen: Record<string, { heldBack: boolean; delayed: boolean }> = {};
    for (const [name, t] of Object.entries({ waiting, ranEarly })) {
      const record = await ledger.get(t.taskId);
      seen[name] = {
        heldBack: schedule.holdsBack(record!.task),
        delayed: (await dueSets(store, ledger, t.taskId)).includes("delayed"),
      };
    }
    expect(seen).toEqual({
      waiting: { heldBack: true, delayed: true },
      ranEarly: { heldBack: false, delayed: false },
    });
  });
});
