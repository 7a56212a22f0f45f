import { describe, expect, it } from "vitest";
import { InputLedger } from "../../../src/agents/input/input-ledger.js";
import type { TaskLedger } from "../../../src/agents/ledger/task-ledger.js";
import { DueSweeper } from "../../../src/agents/schedule-controls/due-sweeper.js";
import { type CascadeItem, CascadeLedger } from "../../../src/agents/workflow/cascade-ledger.js";
import type { RedisClient } from "../../../src/index.js";
import { testEngines } from "../../helpers/engines.js";
import { ledgerOn, newTasks, shardKeys } from "../../helpers/ledger-on.js";

/**
 * The invariant of every store script that ends a task (completed, failed for good, canceled,
 * expired, input expired, abandoned by a failed dependency, reached by a cancel cascade): nothing
 * of the ended task is left in its shard's open sets — <prefix>delayed, expiring, input_due,
 * waiting, wait:<id>, dist:<d>, the open-task index, the cascade frontier. Each task is given
 * whatever of those its path allows (a run_at, an expires_at, a dependency, a distributor, a
 * wait for input), then ended, and its shard's whole keyspace is scanned for its id. Only its
 * record, its own set of dependents and <prefix>ended (the after-end work, for a task with
 * dependents) may still name it, and the dependents' set of its dependency (which goes with
 * that record). A new end path is added here.
 */

const task = newTasks("ep");
const at = (ms: number) => new Date(Date.now() + ms).toISOString();
/** A run_at an hour ahead (recorded delayed) and an expires_at two hours ahead. */
const later = () => ({
  schedule: { run_at: at(3_600_000), expires_at: at(7_200_000) },
  delayUntil: Date.now() + 3_600_000,
});

/** Keys of the task's shard that still name `id` (a member, a hash field, or the key's own id). */
async function keysNaming(store: RedisClient, ledger: TaskLedger, id: string): Promise<string[]> {
  const out: string[] = [];
  for (const { name, type, flat } of await shardKeys(store, ledger, id)) {
    // Records and dependents' sets (its own, or its dependency's naming it) go with the records.
    if (name.startsWith("task:") || name.startsWith("dependents:")) continue;
    if (name.endsWith(`:${id}`)) out.push(name);
    else if (type === "set" && flat.includes(id)) out.push(name);
    else if ((type === "zset" || type === "hash") && flat.some((v, k) => k % 2 === 0 && v === id))
      out.push(name);
  }
  return out.filter((name) => name !== "ended").sort();
}

describe.each(testEngines("end-paths", { cluster: true }))("an ended task's open sets on $name", (engine) => {
  const openLedger = ledgerOn(engine);

  it("every end path leaves delayed, expiring, input_due, waiting, wait:, dist: and the open index", async () => {
    const { store, ledger } = await openLedger({ retentionSeconds: 60 });
    const inputs = new InputLedger(store, ledger);
    const cascade = new CascadeLedger(store, ledger);
    const expiredIds: string[] = [];
    const sweeper = new DueSweeper({
      store,
      shards: ledger.shards,
      retentionMs: ledger.retentionMs,
      released: () => {},
      expired: (ids) => expiredIds.push(...ids),
    });
    const run = async (id: string, dist = "d1") => {
      const fence = await ledger.dispatch(id, dist, "w1");
      expect(typeof fence).toBe("number");
      return fence as number;
    };

    const blocker = task(); // stays open: what the canceled and expired tasks wait on
    const open = task(later()); // stays open: the scan must find it (delayed, expiring, the open index)
    // Completed: placed explicitly before its run_at (the store takes it) and run at once.
    const completed = task(later());
    // Failed for good: started before its expires_at, on a distributor.
    const failed = task({ schedule: { expires_at: at(7_200_000) } });
    // Its dependent, abandoned when told of the failure.
    const dependent = task({ ...later(), dependsOn: [failed.taskId] });
    // Its wait for input runs out (1 ms), after it started before its expires_at.
    const asked = task({ schedule: { expires_at: at(7_200_000) }, inputTimeoutMs: 1 });
    // Canceled while delayed, expiring and waiting on a dependency.
    const canceled = task({ ...later(), dependsOn: [blocker.taskId] });
    // Expired: never started by its expires_at, waiting on a dependency.
    const expired = task({ schedule: { expires_at: at(200) }, dependsOn: [blocker.taskId] });
    // Canceled by a cascade from its dependency, and the dependency itself (on a distributor).
    const root = task();
    const reached = task({ ...later(), dependsOn: [root.taskId] });

    for (const t of [blocker, open, completed, failed, dependent, asked, canceled, expired, root, reached]) {
      const placed = t.delayUntil === undefined && t.dependsOn === undefined;
      expect(await ledger.submit(t, placed ? "d1" : "")).toBe(true);
    }
    for (const [dep, t] of [
      [failed, dependent],
      [blocker, canceled],
      [blocker, expired],
      [root, reached],
    ] as const)
      expect(await ledger.watchDependency(dep.taskId, t.taskId)).toBe("");

    expect(await ledger.assign(completed.taskId, "d1")).toBe(true);
    let fence = await run(completed.taskId);
    expect(await ledger.commit({ taskId: completed.taskId, fence, status: "completed", result: 1 })).toBe(
      "completed",
    );

    fence = await run(failed.taskId);
    expect(await ledger.commit({ taskId: failed.taskId, fence, status: "failed", error: "boom" })).toBe(
      "failed",
    );
    expect((await ledger.notifyDependencyEnded(dependent.taskId, failed.taskId, "failed")).verdict).toBe(
      "abandoned",
    );

    fence = await run(asked.taskId);
    expect(
      await ledger.commit({ taskId: asked.taskId, fence, status: "input_required", inputRequest: { q: 1 } }),
    ).toBe("input_required");
    await expect
      .poll(async () => (await inputs.expire()).expired, { timeout: 10_000 })
      .toContain(asked.taskId);

    expect(await ledger.abandon(canceled.taskId, "canceled by client")).toBe(true);

    await expect
      .poll(
        async () => {
          await sweeper.sweep();
          return expiredIds;
        },
        { timeout: 10_000 },
      )
      .toContain(expired.taskId);

    // The cancel cascade as the workflow keeper walks it (one call per shard on Redis Cluster).
    expect(await cascade.mark(root.taskId, "canceled by client")).toBe(true);
    let items: CascadeItem[] = [{ taskId: root.taskId, reason: "", parent: "" }];
    let held: string[] = [];
    const cascaded: string[] = [];
    while (items.length > 0) {
      const step = await cascade.walk(items, 100, ledger.retentionMs);
      await Promise.all(held.map((id) => cascade.done(id)));
      held = step.held;
      cascaded.push(...step.ended.map((r) => r.task.task_id));
      items = [...step.rest.map((taskId) => ({ taskId, reason: "", parent: "" })), ...step.foreign];
    }
    expect(cascaded.sort()).toEqual([root.taskId, reached.taskId].sort());

    // Each end path: the status it ended with, and the keys of its shard still naming it (none).
    const paths = { completed, failed, dependent, asked, canceled, expired, root, reached };
    const found: Record<string, { status: string | null; keys: string[] }> = {};
    for (const [path, t] of Object.entries(paths))
      found[path] = {
        status: await ledger.status(t.taskId),
        keys: await keysNaming(store, ledger, t.taskId),
      };
    const ended = (status: string) => ({ status, keys: [] });
    expect(found).toEqual({
      completed: ended("completed"),
      failed: ended("failed"),
      dependent: ended("abandoned"),
      asked: ended("abandoned"),
      canceled: ended("abandoned"),
      expired: ended("abandoned"),
      root: ended("abandoned"),
      reached: ended("abandoned"),
    });
    // The scan does find what an open task is in.
    const openKeys = await keysNaming(store, ledger, open.taskId);
    expect(openKeys).toEqual(expect.arrayContaining(["delayed", "expiring"]));
    expect(openKeys.some((name) => name === "open" || name.startsWith("open:"))).toBe(true);
    expect(await keysNaming(store, ledger, blocker.taskId)).toEqual(expect.arrayContaining(["dist:d1"]));
  });
});
