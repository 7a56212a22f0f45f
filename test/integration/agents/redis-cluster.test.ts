import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_SHARDS, shardOf, shardTag } from "../../../src/agents/ledger/shards.js";
import { TestCluster } from "../../helpers/cluster.js";
import { RedisCluster } from "../../helpers/redis-cluster.js";
import { uniquePrefix } from "../../helpers/redis-server.js";
import { until } from "../../helpers/wait.js";

/**
 * The three tiers end to end on a real 3-master Redis Cluster: the task ledger's shards land
 * on different nodes, every script stays in its shard's slot, and the life cycle — including a
 * distributor that dies and hands its tasks over — holds as on one Redis.
 */

const run = promisify(execFile);

describe("agents on Redis Cluster", () => {
  let redis: RedisCluster;
  let cluster: TestCluster | undefined;
  beforeAll(async () => {
    redis = await RedisCluster.start(3);
  }, 60_000);
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });
  afterAll(async () => {
    await redis?.destroy();
  });

  it("runs 1,000 tasks through 2 distributors and 4 workers, each committed once, records on every master", async () => {
    const keyPrefix = uniquePrefix("agents-cluster");
    cluster = new TestCluster({ url: redis.url, keyPrefix });
    await cluster.startCoordinator();
    for (const d of ["d1", "d2"]) {
      await cluster.startDistributor(d);
      for (let i = 0; i < 2; i++) await cluster.startWorker(`${d}-w${i}`, d);
    }
    await cluster.ready();
    const c = cluster.coordinator;
    const tasks = Array.from({ length: 1000 }, (_, i) => ({
      task_id: cluster!.id(`t${i}`),
      task_type: "compute",
      payload: { operation: "sum", values: [i, 1] },
    }));
    // Half one call per task, half in one batched call.
    const single = await Promise.all(tasks.slice(0, 500).map((t) => c.submitTask(t)));
    const batched = await c.submitTasks(tasks.slice(500));
    expect([...single, ...batched].every(Boolean)).toBe(true);
    const done = await Promise.all(tasks.map((t) => c.waitForTask(t.task_id, 60_000)));
    done.forEach((d, i) => {
      expect(d).toMatchObject({ status: "completed", result: { result: i + 1 } });
    });
    const counts = await cluster.settled(tasks.map((t) => t.task_id));
    expect(tasks.every((t) => counts.get(t.task_id) === 1)).toBe(true);
    // The terminal records are in Redis, spread by shard over the masters.
    const record = await c.ledger.get(tasks[7]!.task_id);
    expect(record?.task).toMatchObject({ status: "completed", result: { result: 8 } });
    const shards = new Set(tasks.map((t) => shardOf(t.task_id, DEFAULT_SHARDS)));
    const masters = new Set<number>();
    for (const shard of shards) masters.add(await redis.masterOf(`${keyPrefix}${shardTag(shard)}open`));
    expect(masters.size).toBe(3);
    const perNode = await Promise.all(
      redis.ports.map(async (p) => Number((await run("redis-cli", ["-p", String(p), "DBSIZE"])).stdout)),
    );
    expect(perNode.every((n) => n > 0)).toBe(true);
  }, 90_000);

  it("a distributor that dies: its tasks move to the other and each commits exactly once", async () => {
    cluster = new TestCluster(
      { url: redis.url, keyPrefix: uniquePrefix("agents-cluster") },
      { concurrency: 2 },
    );
    await cluster.startCoordinator();
    const d1 = await cluster.startDistributor("d1");
    await cluster.startWorker("d1-w", "d1");
    await cluster.startDistributor("d2");
    await cluster.startWorker("d2-w", "d2");
    await cluster.ready();
    const ids = Array.from({ length: 40 }, (_, i) => cluster!.id(`t${i}`));
    await cluster.coordinator.submitTasks(
      ids.map((id) => ({ task_id: id, task_type: "sleep", payload: { ms: 50 } })),
    );
    // It dies with work in hand: waited for, not a fixed 120 ms (a loaded machine dispatches later).
    await until(
      "d1 has attempts out",
      () => d1.core.registry.all().some((w) => w.inFlight.size > 0),
      10_000,
      5,
    );
    await cluster.crash(d1);
    const done = await Promise.all(ids.map((id) => cluster!.coordinator.waitForTask(id, 30_000)));
    expect(done.every((d) => d?.status === "completed")).toBe(true);
    const counts = await cluster.settled(ids);
    expect(ids.map((id) => counts.get(id))).toEqual(ids.map(() => 1));
    expect(cluster.coordinator.core.stats.distributorsDead).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
