import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CascadeLedger } from "../../../src/agents/workflow/cascade-ledger.js";
import type { JsonValue, Task } from "../../../src/index.js";
import { TestCluster } from "../../helpers/cluster.js";
import { testEngines } from "../../helpers/engines.js";

/**
 * A cancel cascade down a deep chain (DESIGN "Workflows"): one script call walks the dependents
 * (cascade-walk-1.lua), many levels per round trip, instead of several round trips per level.
 * The whole chain ends abandoned, none of it runs; on one Redis (and memory://) the cancel costs
 * a handful of cascade script calls, not a few per level. Ids with characters outside ASCII:
 * the walk finds each task's shard itself (the Lua twin of shardOf). On Redis Cluster the walk
 * goes shard by shard (a script stays in one slot), and the chain still ends whole.
 */

const DEPTH = 200;
/** The scripts a cancel cascade calls: before the walk, several per level of the chain. */
const CASCADE_SCRIPTS = new Set([
  "mark-canceled",
  "cascade-frontier",
  "cascade-walk",
  "abandon-tasks",
  "read-dependents",
]);

describe.each(testEngines("workflow-cancel-chain", { cluster: true }))(
  "cancel of a deep chain on $name",
  (engine) => {
    let cluster: TestCluster | undefined;
    beforeAll(() => engine.setup(), 60_000);
    afterEach(async () => {
      await cluster?.stop();
      cluster = undefined;
    });
    afterAll(() => engine.teardown());

    it(`ends a ${DEPTH}-deep chain abandoned, every level, in a few cascade round trips`, async () => {
      const runs = new Set<string>();
      cluster = new TestCluster(engine.config(), {
        handlers: {
          hold: async (task: Task): Promise<JsonValue> => {
            runs.add(task.taskId);
            await new Promise((r) => setTimeout(r, 30_000));
            return null;
          },
          step: (task: Task): JsonValue => {
            runs.add(task.taskId);
            return null;
          },
        } as unknown as Record<string, never>,
      });
      await cluster.startCoordinator();
      await cluster.startDistributor("d1");
      await cluster.startWorker("w0", "d1");
      await cluster.ready();
      const c = cluster.coordinator;
      const link = (i: number) =>
        cluster!.id(i % 3 === 0 ? `lien-é${i}` : i % 3 === 1 ? `链-${i}-✓` : `link-🔗${i}`);
      await c.submitTasks([
        { task_id: link(0), task_type: "hold" },
        ...Array.from({ length: DEPTH - 1 }, (_, k) => ({
          task_id: link(k + 1),
          task_type: "step",
          depends_on: [link(k)],
          // Not even "run" lets a canceled chain go on: a cancel is not a failure to run past.
          ...(k % 2 === 0 ? { on_dependency_failure: "run" as const } : {}),
        })),
      ]);
      await until(() => runs.has(link(0)));
      await until(async () => (await c.ledger.get(link(DEPTH - 1)))?.task.waiting_on?.length === 1);

      const calls: string[] = [];
      const store = c.store;
      const runScript = store.runScript.bind(store);
      store.runScript = ((script, keys, args) => {
        if (CASCADE_SCRIPTS.has(script.name)) calls.push(script.name);
        return runScript(script, keys, args);
      }) as typeof store.runScript;
      try {
        expect(await c.cancelTask(link(0))).toBe(true);
      } finally {
        store.runScript = runScript;
      }

      for (let i = 0; i < DEPTH; i++) {
        const task = await c.waitForTask(link(i), 20_000);
        expect(task, link(i)).toMatchObject({
          status: "abandoned",
          error: i === 0 ? "canceled by client" : `dependency ${link(i - 1)} abandoned`,
        });
      }
      for (let i = 1; i < DEPTH; i++) expect(runs.has(link(i)), link(i)).toBe(false);
      // Every level's end is counted by the store, once (the cluster's totals read these).
      expect(await c.ledger.endCounts()).toMatchObject({ submitted: DEPTH, abandoned: DEPTH });
      // Nothing is left on any shard's frontier.
      await until(async () => (await new CascadeLedger(c.store, c.ledger).frontier(1000)).length === 0);
      // Before the walk: a mark, an abandon, a read of the dependents and a frontier step per level.
      if (engine.name !== "cluster") expect(calls.length).toBeLessThanOrEqual(10);
    }, 120_000);
  },
);

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}
