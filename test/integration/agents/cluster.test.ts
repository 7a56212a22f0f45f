import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
// Imported with the file, not in the test: the example imports the built package ("triad", a
// second copy of it), which took ~17 s of a loaded machine's 30 s test budget when imported there.
import { main } from "../../../examples/integration.js";
import { Task } from "../../../src/index.js";
import { type TestCluster as Cluster, FAST, TestCluster } from "../../helpers/cluster.js";
import { testEngines } from "../../helpers/engines.js";
import { until } from "../../helpers/wait.js";

/** The whole task life cycle through the three tiers, in one process, on both store engines. */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(testEngines("agents"))("agents on $name", (engine) => {
  let cluster: Cluster | undefined;
  beforeAll(() => engine.setup());
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });
  afterAll(() => engine.teardown());

  it("runs the seed's integration example as written", async () => {
    // Its one bounded wait is waitForTask's 10 s; the rest are single store calls.
    const url = engine.config().url!;
    const { result, committed } = await main(url);
    expect(result).toMatchObject({ task_id: "task-1", status: "completed", result: { result: 0 } });
    expect(committed).toMatchObject({ task_id: "task-1", status: "completed", result: { result: 0 } });
  });

  it("1,000 tasks through 2 distributors and 8 workers: every result right", async () => {
    // Work spread over both distributors and most workers is asserted: a machine loaded by other
    // suites must not have one declared dead (FAST's 400 ms) while the tasks are placed.
    // Each sum takes 20 ms: the first distributor's slots stay full while the tasks are placed,
    // so the coordinator (which packs one distributor while it has free slots) spreads them.
    // With instant tasks, ends come back as fast as a loaded machine submits, and one
    // distributor could take all 1,000.
    cluster = new TestCluster(engine.config(), {
      timing: { ...FAST, heartbeatTimeoutMs: 2000 },
      handlers: {
        sum_slowly: async (task: Task) => {
          await sleep(20); // the task's work (see above), not a wait in the test
          const values = task.payload.values as number[];
          return { result: values.reduce((a, b) => a + b, 0) };
        },
      },
    });
    await cluster.startCoordinator();
    for (const d of ["d1", "d2"]) {
      await cluster.startDistributor(d);
      for (let i = 0; i < 4; i++) await cluster.startWorker(`${d}-w${i}`, d);
    }
    await cluster.ready();
    const c = cluster.coordinator;
    const tasks = Array.from({ length: 1000 }, (_, i) => {
      const values = [i, i + 1, i * 2];
      return new Task({
        taskId: cluster!.id(`t${i}`),
        taskType: "sum_slowly",
        payload: { values },
      });
    });
    expect(await Promise.all(tasks.map((t) => c.submitTask(t)))).toEqual(tasks.map(() => true));
    const done = await Promise.all(tasks.map((t) => c.waitForTask(t.taskId, 30_000)));
    done.forEach((d, i) => {
      expect(d).toMatchObject({ status: "completed", result: { result: i + (i + 1) + i * 2 } });
    });
    const counts = await cluster.settled(tasks.map((t) => t.taskId));
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(cluster.commits.length).toBe(1000);
    expect(new Set(cluster.commits.map((x) => x.by)).size).toBe(2);
    const byWorker = new Set(done.map((d) => d?.assigned_to));
    expect(byWorker.size).toBeGreaterThanOrEqual(6);
  }, 90_000); // a 2-core machine under other load can take a while; correctness, not speed, is checked here

  it("a worker that dies mid-task: every task completes, each committed exactly once", async () => {
    cluster = new TestCluster(engine.config(), { concurrency: 4 });
    await cluster.startCoordinator();
    await cluster.startDistributor("d1");
    const doomed = await cluster.startWorker("w-doomed", "d1");
    await cluster.startWorker("w-ok", "d1");
    await cluster.ready();
    const ids = Array.from({ length: 40 }, (_, i) => cluster!.id(`t${i}`));
    for (const id of ids)
      await cluster.coordinator.submitTask({ task_id: id, task_type: "sleep", payload: { ms: 150 } });
    // It dies with work in hand: waited for, not a fixed 200 ms (a loaded machine dispatches later).
    await until("the doomed worker runs a task", () => doomed.core.load > 0);
    await cluster.crash(doomed);
    const done = await Promise.all(ids.map((id) => cluster!.coordinator.waitForTask(id, 20_000)));
    expect(done.every((d) => d?.status === "completed")).toBe(true);
    const counts = await cluster.settled(ids);
    expect(ids.map((id) => counts.get(id))).toEqual(ids.map(() => 1));
    expect(cluster.distributors.get("d1")!.core.stats.reassigned).toBeGreaterThan(0);
  });

  it("a frozen worker whose lease expired comes back: its result is refused, the reassigned attempt's stands", async () => {
    cluster = new TestCluster(engine.config(), {
      handlers: {
        tagged: async (_task, ctx) => {
          await sleep(300); // the task's work: long enough to freeze its worker mid-run
          return { by: ctx.attempt };
        },
      },
    });
    await cluster.startCoordinator();
    await cluster.startDistributor("d1");
    const frozen = await cluster.startWorker("w-frozen", "d1");
    await cluster.ready();
    const id = cluster.id("frozen-task");
    await cluster.coordinator.submitTask({ task_id: id, task_type: "tagged", payload: {} });
    await until("the task runs on the worker about to freeze", () => frozen.core.load === 1);
    cluster.router.frozen.add(frozen.agentId); // nothing it sends arrives: its heartbeats stop
    await cluster.startWorker("w-fresh", "d1");
    const done = await cluster.coordinator.waitForTask(id, 10_000);
    expect(done).toMatchObject({
      status: "completed",
      assigned_to: cluster.id("w-fresh"),
      result: { by: 2 },
    });
    cluster.router.frozen.delete(frozen.agentId); // it wakes up and delivers its late result
    // Refused (maybe more than once: the worker re-sends until acknowledged), never committed.
    await until("its late result is refused", () => cluster!.stale.length > 0, 5000, 50);
    expect(cluster.stale.every((s) => s.taskId === id && s.worker === frozen.agentId)).toBe(true);
    expect((await cluster.settled([id])).get(id)).toBe(1);
    expect(await cluster.coordinator.ledger.get(id)).toMatchObject({ task: { result: { by: 2 } } });
  });

  it("a distributor that dies: the coordinator moves its tasks to another", async () => {
    cluster = new TestCluster(engine.config(), { concurrency: 2 });
    await cluster.startCoordinator();
    const d1 = await cluster.startDistributor("d1");
    const d1Worker = await cluster.startWorker("d1-w", "d1");
    await cluster.startDistributor("d2");
    await cluster.startWorker("d2-w", "d2");
    await cluster.ready();
    const ids = Array.from({ length: 30 }, (_, i) => cluster!.id(`t${i}`));
    for (const id of ids)
      await cluster.coordinator.assignTaskToDistributor(
        { task_id: id, task_type: "sleep", payload: { ms: 50 } },
        d1.agentId,
      );
    // It dies with work in hand: waited for, not a fixed 80 ms (a loaded machine dispatches later).
    await until("d1's worker runs a task", () => d1Worker.core.load > 0, 10_000, 5);
    await cluster.crash(d1);
    const done = await Promise.all(ids.map((id) => cluster!.coordinator.waitForTask(id, 20_000)));
    expect(done.every((d) => d?.status === "completed")).toBe(true);
    const counts = await cluster.settled(ids);
    expect(ids.every((id) => (counts.get(id) ?? 0) <= 1)).toBe(true);
    expect(cluster.coordinator.core.stats.distributorsDead).toBe(1);
    expect(cluster.coordinator.core.stats.reassigned).toBeGreaterThan(0);
    expect(cluster.commits.filter((x) => x.by === cluster!.id("d2")).length).toBeGreaterThan(0);
  });

  it("a distributor that restarts with the same id picks up where it was", async () => {
    // Distributor leases of 60 s: none lapses by itself, however slow the machine (FAST's 600 ms
    // did, before the restart was started or between two renewals, and the checks of who holds
    // it failed). The lapse of the old run's lease is made by the test, as its expiry would.
    cluster = new TestCluster(engine.config(), { concurrency: 2, timing: { ...FAST, leaseTtlMs: 60_000 } });
    const first = await cluster.startOne();
    const ids = Array.from({ length: 20 }, (_, i) => cluster!.id(`t${i}`));
    for (const id of ids)
      await cluster.coordinator.submitTask({ task_id: id, task_type: "sleep", payload: { ms: 50 } });
    // It crashes with work in hand: waited for, not a fixed 120 ms (a loaded machine dispatches later).
    await until("the first run dispatches", () => first.core.stats.dispatched > 0);
    await cluster.crash(first);
    const { leaseKey, owner } = first.core.lease;
    const held = await cluster.coordinator.store.getLease(leaseKey);
    expect(held?.owner).toBe(owner);
    const second = await cluster.startDistributor("d1");
    expect(second.core.lease.owns).toBe(false); // the old run's lease is still live
    expect(await second.core.keepLease()).toBe(false);
    expect(await cluster.coordinator.store.getLease(leaseKey)).toMatchObject({ owner, token: held!.token });
    // The old run's lease lapses (removed from the store, as its expiry would): the next try takes it.
    expect(await cluster.coordinator.store.delete(`{lease:${leaseKey}}`)).toBe(true);
    expect(await second.core.keepLease()).toBe(true);
    expect((await cluster.coordinator.store.getLease(leaseKey))?.token).toBeGreaterThan(held!.token);
    const done = await Promise.all(ids.map((id) => cluster!.coordinator.waitForTask(id, 20_000)));
    expect(done.every((d) => d?.status === "completed")).toBe(true);
    expect(second.core.lease.owns).toBe(true);
    const counts = await cluster.settled(ids);
    expect(ids.every((id) => counts.get(id) === 1)).toBe(true);
  });

  it("an unknown task type, a handler that throws, hangs, or returns non-JSON fail that task, never the worker", async () => {
    cluster = new TestCluster(engine.config(), {
      handlers: {
        throws: () => {
          throw new Error("handler bug");
        },
        hangs: () => new Promise(() => {}),
        not_json: () => ({ n: 10n }) as never,
      },
    });
    await cluster.startCoordinator();
    const d = await cluster.startDistributor("d1");
    (d.core as unknown as { o: { taskTimeoutMs: number } }).o.taskTimeoutMs = 300;
    await cluster.startWorker("w1", "d1");
    await cluster.ready();
    // A result JSON cannot carry fails at once: the same handler would give the same again.
    const cases = {
      nope: ["unknown task type", 3],
      throws: ["handler bug", 3],
      hangs: ["timed out after 300 ms", 3],
      not_json: ["not JSON", 1],
    } as const;
    for (const type of Object.keys(cases)) {
      await cluster.coordinator.submitTask({ task_id: cluster.id(type), task_type: type, payload: {} });
    }
    for (const [type, [message, attempts]] of Object.entries(cases)) {
      const done = await cluster.coordinator.waitForTask(cluster.id(type), 10_000);
      expect(done).toMatchObject({ status: "failed", attempts });
      expect(done?.error).toContain(message);
    }
    await cluster.coordinator.submitTask({
      task_id: cluster.id("after"),
      task_type: "echo",
      payload: { ok: true },
    });
    expect(await cluster.coordinator.waitForTask(cluster.id("after"), 5000)).toMatchObject({
      result: { ok: true },
    });
  });
});
