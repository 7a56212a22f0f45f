import { describe, expect, it } from "vitest";
import { FAST } from "../../helpers/cluster.js";
import { clusterPerTest, testEngines } from "../../helpers/engines.js";
import { typedCluster } from "../../helpers/typed-cluster.js";

/**
 * A heterogeneous cluster: each distributor's workers run other task types. The coordinator
 * places each task on a distributor with a live worker that runs its type; placed on the other,
 * it would fail there as an unknown type.
 */

describe.each(testEngines("placement-by-type"))("placement by task type on $name", (engine) => {
  const start = clusterPerTest(engine);

  it("two distributors with disjoint task types: every task of each type completes, on the distributor that runs it", async () => {
    // A long heartbeat timeout: a loaded machine must not have a distributor declared dead
    // while the tasks are placed (its tasks would move to the other, which cannot run them).
    const cluster = start({ timing: { ...FAST, heartbeatTimeoutMs: 5000 }, concurrency: 2 });
    // Ready once the coordinator knows what each distributor's workers run (their heartbeats say).
    await typedCluster(cluster, {
      d1: { w1: { first: () => ({ ran: "first" }) } },
      d2: { w2: { second: () => ({ ran: "second" }) } },
    });

    const ids: Array<{ id: string; type: string }> = [];
    for (let i = 0; i < 60; i++) {
      for (const type of ["first", "second"]) ids.push({ id: cluster.id(`${type}-${i}`), type });
    }
    const accepted = await Promise.all(
      ids.map(({ id, type }) =>
        cluster.coordinator.submitTask({ task_id: id, task_type: type, payload: { i: id } }),
      ),
    );
    expect(accepted.every((created) => created)).toBe(true);
    const done = await Promise.all(ids.map(({ id }) => cluster.coordinator.waitForTask(id, 60_000)));
    const notCompleted = done
      .filter((d) => d?.status !== "completed")
      .map((d) => [d?.task_id, d?.status, d?.error]);
    expect(notCompleted).toEqual([]);
    for (const [k, { type }] of ids.entries()) expect(done[k]?.result).toMatchObject({ ran: type });
    const counts = await cluster.settled(
      ids.map(({ id }) => id),
      20_000,
    );
    for (const c of cluster.commits) {
      const type = ids.find(({ id }) => id === c.taskId)?.type;
      expect(c.by).toBe(cluster.id(type === "first" ? "d1" : "d2"));
    }
    expect(ids.every(({ id }) => counts.get(id) === 1)).toBe(true);
  });
});
