import { expect } from "vitest";
import type { Task, TaskHandler } from "../../src/index.js";
import type { TestCluster } from "./cluster.js";
import { until } from "./wait.js";

/**
 * A heterogeneous cluster (each distributor's workers run other task types): the set-up of the
 * tests of placement by type, hand-backs and waits for a type's runner.
 */

/** Per distributor name, its workers: per worker name, its handlers (the types it runs). */
export type TypedLayout = Record<string, Record<string, Record<string, TaskHandler<Task>>>>;

export type TypedCluster = {
  /** Whether the coordinator (the current one: it may have been restarted) knows distributor `d` has a live worker that runs `type`. */
  runs(d: string, type: string): boolean;
  /**
   * Crashes `workers` (by name), then distributor `d`, and waits until the coordinator lists it
   * dead (remembered: within the dead-agent retention).
   */
  crashDistributor(d: string, ...workers: string[]): Promise<void>;
};

/**
 * Starts `cluster`'s coordinator, then `layout`'s distributors and their workers, in its order,
 * and waits until the cluster is ready and the coordinator knows what each distributor's workers
 * run (their heartbeats say so): until then it places as if every distributor ran every type.
 */
export async function typedCluster(cluster: TestCluster, layout: TypedLayout): Promise<TypedCluster> {
  await cluster.startCoordinator();
  for (const d of Object.keys(layout)) await cluster.startDistributor(d);
  for (const [d, workers] of Object.entries(layout)) {
    for (const [w, handlers] of Object.entries(workers)) await cluster.startWorker(w, d, handlers);
  }
  await cluster.ready(20_000);
  const directory = () => cluster.coordinator.core.directory;
  const runs = (d: string, type: string) =>
    directory()
      .get(cluster.id(d))
      ?.workers.some((w) => w.status !== "dead" && w.task_types.includes(type)) === true;
  const each = Object.entries(layout).flatMap(([d, workers]) =>
    [...new Set(Object.values(workers).flatMap((h) => Object.keys(h)))].map((type) => ({ d, type })),
  );
  await until(
    `the coordinator knows ${each.map(({ d, type }) => `${d} runs ${type}`).join(", ")}`,
    () => each.every(({ d, type }) => runs(d, type)),
    20_000,
  );
  return {
    runs,
    async crashDistributor(d, ...workers) {
      for (const w of workers) await cluster.crash(cluster.workers.get(w)!);
      await cluster.crash(cluster.distributors.get(d)!);
      await until(`${d} is declared dead`, () => directory().get(cluster.id(d))?.status === "dead", 30_000);
    },
  };
}

/** Submits a new task `name` (its id made unique by `cluster`) of `type`: its id, once recorded. */
export async function submitNew(cluster: TestCluster, name: string, type: string): Promise<string> {
  const id = cluster.id(name);
  expect(await cluster.coordinator.submitTask({ task_id: id, task_type: type, payload: {} })).toBe(true);
  return id;
}

/**
 * Waits until every task of `ids` completes with `result`, and checks each was committed once,
 * by distributor `d` (by name).
 */
export async function completedOnceOn(
  cluster: TestCluster,
  ids: string[],
  d: string,
  result: unknown,
): Promise<void> {
  for (const id of ids) {
    const done = await cluster.coordinator.waitForTask(id, 60_000);
    expect([done?.status, done?.error], id).toEqual(["completed", null]);
    expect(done?.result, id).toEqual(result);
  }
  const counts = await cluster.settled(ids, 20_000);
  for (const id of ids) expect(counts.get(id), id).toBe(1);
  for (const id of ids) expect(cluster.commits.find((c) => c.taskId === id)?.by, id).toBe(cluster.id(d));
}
