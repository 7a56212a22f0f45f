import { describe, expect, it } from "vitest";
import { TaskLedger } from "../../../src/agents/ledger/task-ledger.js";
import { DueSweeper } from "../../../src/agents/schedule-controls/due-sweeper.js";
import { RedisClient } from "../../../src/index.js";
import { FAST, TestCluster } from "../../helpers/cluster.js";
import { stopsPerTest, testEngines } from "../../helpers/engines.js";
import { until } from "../../helpers/wait.js";

/**
 * A coordinator that reads a never-started delayed task back from the store (a restore, a new
 * shard owner) decides by the store's delayed index whether the due sweep will place it, not by
 * its own clock: a task a sweep already took out of the index (its coordinator, whose clock ran
 * ahead, died before placing it) was held back by a coordinator whose clock still put its run_at
 * ahead, and no sweep would ever see it again.
 */
describe.each(testEngines("restore-delayed", { cluster: true }))(
  "restore of delayed tasks on $name",
  (engine) => {
    const stops = stopsPerTest(engine);

    it("places a task a sweep released, whatever the restoring coordinator's clock says of its run_at", async () => {
      const redis = engine.config();
      const store = new RedisClient(redis);
      expect(await store.connect()).toBe(true);
      stops.push(() => store.disconnect());
      const ledger = new TaskLedger(store);
      const runAt = Date.now() + 3_600_000;
      const id = `released-${process.pid}-${Math.random().toString(36).slice(2, 7)}`;
      const recorded = await ledger.submit(
        {
          taskId: id,
          taskType: "echo",
          payload: {},
          createdAt: new Date().toISOString(),
          maxRetries: 0,
          backoffMs: 0,
          schedule: { run_at: new Date(runAt).toISOString() },
          delayUntil: runAt,
        },
        "",
      );
      expect(recorded).toBe(true);
      expect((await ledger.get(id))?.delayedUntil).toBe(runAt);

      // A coordinator whose clock runs two hours ahead sweeps: the task is due on its clock and
      // leaves the index; that coordinator dies before it places it.
      const released: string[] = [];
      const skewed = new DueSweeper({
        store,
        shards: ledger.shards,
        retentionMs: ledger.retentionMs,
        released: (ids) => released.push(...ids),
        expired: () => {},
        now: () => Date.now() + 7_200_000,
      });
      await skewed.sweep();
      expect(released).toEqual([id]);
      const swept = await ledger.get(id);
      expect(swept).toMatchObject({ distributor: null, delayedUntil: null, task: { status: "pending" } });

      // A coordinator on the true clock (its run_at an hour ahead) starts on the store and restores it.
      const cluster = new TestCluster(redis, {
        timing: { ...FAST, heartbeatTimeoutMs: 3000, leaseTtlMs: 3000 },
      });
      stops.push(() => cluster.stop());
      await cluster.startCoordinator();
      const d1 = await cluster.startDistributor("d1");
      await cluster.startWorker("w1", "d1");
      await until(
        "the restored task is placed",
        async () => (await ledger.get(id))?.distributor === d1.agentId,
        30_000,
      );
      // Placed, not started: the distributor still holds it back until its run_at.
      expect((await ledger.get(id))?.task).toMatchObject({ status: "pending", attempts: 0 });
    }, 60_000);
  },
);
