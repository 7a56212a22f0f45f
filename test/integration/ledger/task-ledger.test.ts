import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shardOf } from "../../../src/agents/ledger/shards.js";
import { TaskLedger } from "../../../src/agents/ledger/task-ledger.js";
import { RedisClient } from "../../../src/index.js";
import { testEngines } from "../../helpers/engines.js";
import { until } from "../../helpers/wait.js";

/** The ledger's promises: one committed outcome per task, fenced attempts, nothing open lost. */

let seq = 0;
const newTask = (over: Partial<Parameters<TaskLedger["submit"]>[0]> = {}) => ({
  taskId: `task-${++seq}`,
  taskType: "compute",
  payload: { operation: "sum", values: [1, 2, 3] },
  createdAt: new Date().toISOString(),
  maxRetries: 0,
  backoffMs: 10,
  ...over,
});

describe.each(testEngines("ledger", { cluster: true }))("task ledger on $name", (engine) => {
  const clients: RedisClient[] = [];
  async function ledger(options: ConstructorParameters<typeof TaskLedger>[1] = {}) {
    const store = new RedisClient(engine.config());
    expect(await store.connect()).toBe(true);
    clients.push(store);
    return new TaskLedger(store, options);
  }
  beforeAll(() => engine.setup(), 60_000);
  afterAll(async () => {
    for (const c of clients) await c.disconnect();
    await engine.teardown();
  });

  it("records a task once; a second submit of the same id changes nothing", async () => {
    const l = await ledger();
    const t = newTask();
    expect(await l.submit(t)).toBe(true);
    expect(await l.submit({ ...t, payload: { other: true } })).toBe(false);
    const rec = await l.get(t.taskId);
    expect(rec?.task).toMatchObject({
      task_id: t.taskId,
      status: "pending",
      payload: t.payload,
      attempts: 0,
    });
    expect(await l.openTaskIds()).toContain(t.taskId);
    expect(await l.get("no-such-task")).toBeNull();
  });

  it("runs the whole life of a task: assign, dispatch with a fence, commit once", async () => {
    const l = await ledger();
    const t = newTask();
    await l.submit(t);
    expect(await l.assign(t.taskId, "d1")).toBe(true);
    expect(await l.distributorTaskIds("d1")).toEqual([t.taskId]);
    const fence = await l.dispatch(t.taskId, "d1", "w1");
    expect(fence).toBe(1);
    expect((await l.get(t.taskId))?.task).toMatchObject({
      status: "in_progress",
      assigned_to: "w1",
      attempts: 1,
    });
    expect(
      await l.commit({
        taskId: t.taskId,
        fence: 1,
        status: "completed",
        result: { result: 6, x: 0.1 + 0.2 },
      }),
    ).toBe("completed");
    // The same attempt's outcome again (a worker's resend after a late ack): a duplicate, nothing written.
    expect(await l.commit({ taskId: t.taskId, fence: 1, status: "completed", result: { result: 7 } })).toBe(
      "duplicate",
    );
    expect(await l.commit({ taskId: t.taskId, fence: 2, status: "completed", result: { result: 8 } })).toBe(
      "stale",
    );
    const rec = await l.get(t.taskId);
    expect(rec?.task).toMatchObject({
      status: "completed",
      result: { result: 6, x: 0.1 + 0.2 },
      error: null,
    });
    expect(rec?.task.completed_at).not.toBeNull();
    expect(await l.openTaskIds()).not.toContain(t.taskId);
    expect(await l.distributorTaskIds("d1")).not.toContain(t.taskId);
  });

  it("records every option a task may carry, beside plain tasks submitted in the same call", async () => {
    const l = await ledger();
    const run_at = new Date(Date.now() + 60_000).toISOString();
    const plain = newTask({ maxRetries: 2, backoffMs: 200 });
    const full = newTask({
      maxRetries: 5,
      backoffMs: 75,
      dependsOn: ['dep-\u00e9"x'],
      onDependencyFailure: "run",
      parentId: "parent \u2603",
      inputTimeoutMs: 1234,
      schedule: { priority: 7, run_at },
      delayUntil: Date.parse(run_at),
    });
    const retries = newTask({ maxRetries: 0, backoffMs: 200 });
    expect(await Promise.all([l.submit(plain, "d1"), l.submit(full, "d1"), l.submit(retries, "d1")])).toEqual(
      [true, true, true],
    );
    const [p, f, r] = await Promise.all([plain, full, retries].map((t) => l.get(t.taskId)));
    expect(p).toMatchObject({ distributor: "d1", maxRetries: 2, backoffMs: 200 });
    expect(p?.task.depends_on).toBeUndefined();
    expect(p?.task.parent_id).toBeUndefined();
    expect(f).toMatchObject({
      distributor: null, // waiting on its dependency, so placed on nobody
      maxRetries: 5,
      backoffMs: 75,
      task: {
        depends_on: ['dep-\u00e9"x'],
        waiting_on: ['dep-\u00e9"x'],
        on_dependency_failure: "run",
        parent_id: "parent \u2603",
        input_timeout_ms: 1234,
        priority: 7,
        run_at,
      },
    });
    expect(r).toMatchObject({ distributor: "d1", maxRetries: 0, backoffMs: 200 });
  });

  it("records and places a task on a distributor in one step", async () => {
    const l = await ledger();
    const t = newTask();
    expect(await l.submit(t, "d1")).toBe(true);
    expect(await l.distributorTaskIds("d1")).toEqual([t.taskId]);
    expect(await l.get(t.taskId)).toMatchObject({ distributor: "d1", task: { status: "pending" } });
    expect(await l.dispatch(t.taskId, "d1", "w1")).toBe(1);
    // A second submit of the same id neither changes the record nor moves it.
    expect(await l.submit({ ...t, payload: { other: true } }, "d2")).toBe(false);
    expect(await l.distributorTaskIds("d2")).toEqual([]);
    expect(await l.get(t.taskId)).toMatchObject({ distributor: "d1", task: { payload: t.payload } });
  });

  it("a commit answers what it wrote, the same as a read of the record after it", async () => {
    const l = await ledger();
    const ok = newTask();
    const flaky = newTask({ maxRetries: 1, backoffMs: 50 });
    for (const t of [ok, flaky]) await l.submit(t, "d1");
    const okFence = (await l.dispatch(ok.taskId, "d1", "w1")) as number;
    const flakyFence = (await l.dispatch(flaky.taskId, "d1", "w2")) as number;
    const [done, retry] = await Promise.all([
      l.commitAttempt({ taskId: ok.taskId, fence: okFence, status: "completed", result: { x: 1 } }),
      l.commitAttempt({ taskId: flaky.taskId, fence: flakyFence, status: "failed", error: "boom" }),
    ]);
    const okRecord = (await l.get(ok.taskId))!;
    expect(done).toEqual({
      verdict: "completed",
      attempts: 1,
      assignedTo: "w1",
      startedAt: okRecord.task.started_at,
      notBefore: null,
      completedAt: okRecord.task.completed_at,
    });
    const flakyRecord = (await l.get(flaky.taskId))!;
    expect(retry).toMatchObject({ verdict: "retry", attempts: 1, assignedTo: "w2", completedAt: null });
    expect(retry.notBefore).toBe(flakyRecord.notBefore);
    expect(retry.startedAt).toBe(flakyRecord.task.started_at);
    const again = (await l.dispatch(flaky.taskId, "d1", "w3")) as number;
    expect(
      await l.commitAttempt({ taskId: flaky.taskId, fence: again, status: "failed", error: "2" }),
    ).toMatchObject({
      verdict: "failed",
      attempts: 2,
      assignedTo: "w3",
      completedAt: (await l.get(flaky.taskId))!.task.completed_at,
    });
    expect(await l.commitAttempt({ taskId: ok.taskId, fence: okFence, status: "completed" })).toEqual({
      verdict: "duplicate",
      attempts: 0,
      assignedTo: null,
      startedAt: null,
      notBefore: null,
      completedAt: null,
    });
  });

  it("only the distributor holding a task starts attempts of it", async () => {
    const l = await ledger();
    const t = newTask();
    await l.submit(t);
    expect(await l.dispatch(t.taskId, "d1", "w1")).toBe("not-held");
    await l.assign(t.taskId, "d1");
    expect(await l.dispatch(t.taskId, "d2", "w1")).toBe("not-held");
    expect(await l.dispatch("no-such-task", "d1", "w1")).toBe("unknown");
  });

  it("a requeued attempt's late result is refused by its fence; the next attempt commits", async () => {
    const l = await ledger();
    const t = newTask();
    await l.submit(t);
    await l.assign(t.taskId, "d1");
    const first = (await l.dispatch(t.taskId, "d1", "frozen-worker")) as number;
    expect(await l.requeue(t.taskId, "d1", first)).toBe(true);
    expect(await l.requeue(t.taskId, "d1", first)).toBe(false);
    const second = (await l.dispatch(t.taskId, "d1", "w2")) as number;
    expect(second).toBeGreaterThan(first);
    expect(await l.commit({ taskId: t.taskId, fence: first, status: "completed", result: "late" })).toBe(
      "stale",
    );
    expect(await l.commit({ taskId: t.taskId, fence: second, status: "completed", result: "fresh" })).toBe(
      "completed",
    );
    expect((await l.get(t.taskId))?.task.result).toBe("fresh");
  });

  it("moving a task to another distributor fences off the attempt in progress", async () => {
    const l = await ledger();
    const t = newTask();
    await l.submit(t);
    await l.assign(t.taskId, "d1");
    const old = (await l.dispatch(t.taskId, "d1", "w1")) as number;
    expect(await l.assign(t.taskId, "d2")).toBe(true);
    expect(await l.distributorTaskIds("d1")).not.toContain(t.taskId);
    expect(await l.distributorTaskIds("d2")).toContain(t.taskId);
    expect((await l.get(t.taskId))?.task.status).toBe("pending");
    expect(await l.commit({ taskId: t.taskId, fence: old, status: "completed", result: 1 })).toBe("stale");
    expect(await l.dispatch(t.taskId, "d1", "w1")).toBe("not-held");
    const fresh = (await l.dispatch(t.taskId, "d2", "w9")) as number;
    expect(await l.commit({ taskId: t.taskId, fence: fresh, status: "completed", result: 2 })).toBe(
      "completed",
    );
  });

  it("retries a failure with exponential backoff until the limit, then fails for good", async () => {
    const l = await ledger();
    const t = newTask({ maxRetries: 2, backoffMs: 100 });
    await l.submit(t);
    await l.assign(t.taskId, "d1");
    const verdicts: string[] = [];
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      const fence = (await l.dispatch(t.taskId, "d1", "w1")) as number;
      const before = Date.now();
      verdicts.push(await l.commit({ taskId: t.taskId, fence, status: "failed", error: `boom ${i}` }));
      const rec = await l.get(t.taskId);
      if (rec?.notBefore) delays.push(rec.notBefore - before);
    }
    expect(verdicts).toEqual(["retry", "retry", "failed"]);
    expect(delays[0]).toBeGreaterThanOrEqual(90);
    expect(delays[1]).toBeGreaterThanOrEqual(190);
    const rec = await l.get(t.taskId);
    expect(rec?.task).toMatchObject({ status: "failed", error: "boom 2", attempts: 3 });
    expect(rec?.failures).toBe(3);
    expect(await l.openTaskIds()).not.toContain(t.taskId);
  });

  it("abandons with the reason, after which nothing commits", async () => {
    const l = await ledger();
    const t = newTask();
    await l.submit(t);
    await l.assign(t.taskId, "d1");
    const fence = (await l.dispatch(t.taskId, "d1", "w1")) as number;
    expect(await l.abandon(t.taskId, "no distributor within the deadline")).toBe(true);
    expect(await l.abandon(t.taskId, "again")).toBe(false);
    expect(await l.commit({ taskId: t.taskId, fence, status: "completed", result: 1 })).toBe("stale");
    expect((await l.get(t.taskId))?.task).toMatchObject({
      status: "abandoned",
      error: "no distributor within the deadline",
    });
    expect(await l.assign(t.taskId, "d2")).toBe(false);
  });

  it("of two racing commits with the same fence exactly one wins", async () => {
    const a = await ledger();
    const store = new RedisClient({
      ...engine.config(),
      keyPrefix: (a as unknown as { store: RedisClient }).store.keyPrefix,
    });
    await store.connect();
    clients.push(store);
    const b = new TaskLedger(store);
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) {
      const t = newTask();
      ids.push(t.taskId);
      await a.submit(t);
      await a.assign(t.taskId, "d1");
      await a.dispatch(t.taskId, "d1", "w1");
    }
    const verdicts = await Promise.all(
      ids.flatMap((id) => [
        a.commit({ taskId: id, fence: 1, status: "completed", result: "a" }),
        b.commit({ taskId: id, fence: 1, status: "completed", result: "b" }),
      ]),
    );
    for (let i = 0; i < ids.length; i++) {
      // The loser carries the winner's fence: refused as a duplicate of what was committed.
      expect([verdicts[2 * i], verdicts[2 * i + 1]].sort()).toEqual(["completed", "duplicate"]);
    }
  });

  it("batches many calls of one tick and answers each caller its own", async () => {
    const l = await ledger();
    const tasks = Array.from({ length: 300 }, () => newTask());
    expect(await Promise.all(tasks.map((t) => l.submit(t)))).toEqual(tasks.map(() => true));
    await Promise.all(tasks.map((t) => l.assign(t.taskId, "d1")));
    const fences = await Promise.all(tasks.map((t) => l.dispatch(t.taskId, "d1", `w${seq % 3}`)));
    expect(fences.every((f) => f === 1)).toBe(true);
    const verdicts = await Promise.all(
      tasks.map((t, i) => l.commit({ taskId: t.taskId, fence: 1, status: "completed", result: { i } })),
    );
    expect(verdicts.every((v) => v === "completed")).toBe(true);
    const records = await Promise.all(tasks.map((t) => l.get(t.taskId)));
    records.forEach((r, i) => {
      expect(r?.task.result).toEqual({ i });
    });
  });

  it("lists a set of every shard (a distributor's tasks) in one call, one per shard on a cluster", async () => {
    const l = await ledger();
    const store = (l as unknown as { store: RedisClient }).store;
    const dist = `lister-${Math.random().toString(36).slice(2)}`;
    const tasks = Array.from({ length: 40 }, () => newTask());
    await Promise.all(tasks.map((t) => l.submit(t, dist)));
    expect(new Set(tasks.map((t) => shardOf(t.taskId, l.shards))).size).toBeGreaterThan(8);
    const calls: string[] = [];
    const run = store.runScript.bind(store);
    store.runScript = (script, keys, args) => {
      calls.push(script.name);
      return run(script, keys, args);
    };
    expect((await l.distributorTaskIds(dist)).sort()).toEqual(tasks.map((t) => t.taskId).sort());
    expect(calls).toEqual(
      Array.from({ length: engine.name === "cluster" ? l.shards : 1 }, () => "list-sets"),
    );
    expect(await l.distributorTaskIds(`${dist}-none`)).toEqual([]);
  });

  it("serves one tick's calls with one script call (one per shard on a cluster), each caller its own answer", async () => {
    const l = await ledger();
    const store = (l as unknown as { store: RedisClient }).store;
    const first = Array.from({ length: 40 }, () => newTask());
    await Promise.all(first.map((t) => l.submit(t)));
    const calls: string[] = [];
    const run = store.runScript.bind(store);
    store.runScript = (script, keys, args) => {
      calls.push(script.name);
      return run(script, keys, args);
    };
    const second = Array.from({ length: 40 }, () => newTask());
    const mixed = [...second.slice(0, 20), ...first, ...second.slice(20)];
    const created = await Promise.all(mixed.map((t) => l.submit(t, "d1")));
    expect(created).toEqual(mixed.map((t) => second.includes(t)));
    const shards = new Set(mixed.map((t) => shardOf(t.taskId, l.shards)));
    expect(shards.size).toBeGreaterThan(8);
    // A script call stays in one slot on Redis Cluster: one per shard there, one in all elsewhere.
    const perStep = engine.name === "cluster" ? shards.size : 1;
    const stepCalls = (name: string) => calls.filter((c) => c === name).length;
    expect(stepCalls("submit-tasks")).toBe(perStep);
    const fences = await Promise.all(second.map((t) => l.dispatch(t.taskId, "d1", "w1")));
    expect(fences).toEqual(second.map(() => 1));
    const receipts = await Promise.all(
      second.map((t, i) => l.commitAttempt({ taskId: t.taskId, fence: 1, status: "completed", result: i })),
    );
    expect(receipts.map((r) => r.verdict)).toEqual(second.map(() => "completed"));
    const records = await Promise.all(mixed.map((t) => l.get(t.taskId)));
    expect(records.map((r) => r?.task.task_id)).toEqual(mixed.map((t) => t.taskId));
    expect(records.map((r) => r?.task.result)).toEqual(
      mixed.map((t) => (second.includes(t) ? second.indexOf(t) : null)),
    );
    const secondShards = new Set(second.map((t) => shardOf(t.taskId, l.shards))).size;
    expect(stepCalls("dispatch-tasks")).toBe(engine.name === "cluster" ? secondShards : 1);
    expect(stepCalls("commit-results")).toBe(engine.name === "cluster" ? secondShards : 1);
    expect(stepCalls("read-tasks")).toBe(perStep);
    expect(new Set(calls)).toEqual(
      new Set(["submit-tasks", "dispatch-tasks", "commit-results", "read-tasks"]),
    );
  });

  it("lets terminal records expire after the retention time; open ones stay", async () => {
    const l = await ledger({ retentionSeconds: 0.2 });
    const done = newTask();
    const open = newTask();
    await l.submit(done);
    await l.submit(open);
    await l.assign(done.taskId, "d1");
    await l.dispatch(done.taskId, "d1", "w1");
    await l.commit({ taskId: done.taskId, fence: 1, status: "completed", result: 1 });
    await until("the ended record expires", async () => (await l.get(done.taskId)) === null, 5_000, 25);
    expect((await l.get(open.taskId))?.task.status).toBe("pending");
  });
});
