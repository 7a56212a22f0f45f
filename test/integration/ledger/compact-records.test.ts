import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_SHARDS, shardOf, shardTag } from "../../../src/agents/ledger/shards.js";
import { TaskLedger } from "../../../src/agents/ledger/task-ledger.js";
import { RedisClient, type StoreScript } from "../../../src/index.js";
import { testEngines } from "../../helpers/engines.js";

/**
 * A waiting task's record holds only what cannot be derived or defaulted (issue 22: Redis
 * memory per waiting task), and a record written with every field, as before, reads and runs
 * the same.
 */

/** One raw command on a task's shard key, so that the test can write and read records as they are. */
const LUA = "return redis.call(ARGV[1], KEYS[1], unpack(ARGV, 2))";
const raw: StoreScript = {
  name: "raw",
  numKeys: 1,
  lua: LUA,
  sha1: createHash("sha1").update(LUA).digest("hex"),
  memory: (db, [key], [command, ...rest]) => {
    if (command === "HGETALL") return Object.entries(db.hgetall(key!)).flat();
    if (command === "SADD") return rest.reduce((n, m) => n + db.sadd(key!, m), 0);
    const fields: Record<string, string> = {};
    for (let i = 0; i < rest.length; i += 2) fields[rest[i]!] = rest[i + 1]!;
    db.hset(key!, fields);
    return rest.length / 2;
  },
};
const shardKey = (taskId: string, key: string) => `${shardTag(shardOf(taskId, DEFAULT_SHARDS))}${key}`;

describe.each(testEngines("compact-records"))("compact task records on $name", (engine) => {
  let store: RedisClient;
  let ledger: TaskLedger;
  const recordOf = async (id: string) => {
    const flat = (await store.runScript(raw, [shardKey(id, `task:${id}`)], ["HGETALL"])) as string[];
    return Object.fromEntries(
      Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i], flat[2 * i + 1]]),
    );
  };
  beforeAll(async () => {
    await engine.setup();
    store = new RedisClient(engine.config());
    expect(await store.connect()).toBe(true);
    ledger = new TaskLedger(store);
  }, 60_000);
  afterAll(async () => {
    await store.disconnect();
    await engine.teardown();
  });

  it("records a waiting task with only what cannot be derived or defaulted", async () => {
    const createdAt = "2026-12-03T02:28:29.123Z";
    const task = { taskType: "echo", payload: { i: 1 }, createdAt, maxRetries: 2, backoffMs: 200 };
    expect(await ledger.submit({ taskId: "small", ...task })).toBe(true);
    expect(await recordOf("small")).toEqual({
      type: "echo",
      payload: '{"i":1}',
      status: "pending",
      created_at: String(Date.parse(createdAt)),
    });
    // A created_at that epoch milliseconds would not give back is kept as written; limits that
    // are not the defaults are kept.
    const odd = { ...task, createdAt: "2026-12-03T02:28:29.123456+00:00", maxRetries: 0, backoffMs: 10 };
    expect(await ledger.submit({ taskId: "odd", ...odd })).toBe(true);
    expect(await recordOf("odd")).toMatchObject({
      created_at: odd.createdAt,
      max_retries: "0",
      backoff_ms: "10",
    });
    const read = await ledger.get("odd");
    expect(read).toMatchObject({ maxRetries: 0, backoffMs: 10, fence: 0, failures: 0 });
    expect(read?.task).toMatchObject({ task_id: "odd", created_at: odd.createdAt, attempts: 0 });
  });

  it("reads and runs a record written with every field the same as a compact one", async () => {
    const createdAt = "2026-12-03T02:30:00.000Z";
    const payload = { values: [1, 2], note: "x" };
    expect(
      await ledger.submit({
        taskId: "new",
        taskType: "compute",
        payload,
        createdAt,
        maxRetries: 2,
        backoffMs: 200,
      }),
    ).toBe(true);
    // The shape the submit script wrote before records were compacted.
    const old = "old";
    await store.runScript(
      raw,
      [shardKey(old, `task:${old}`)],
      [
        "HSET",
        ...["task_id", old, "task_type", "compute", "payload", JSON.stringify(payload), "status", "pending"],
        ...["attempts", "0", "failures", "0", "fence", "0", "created_at", createdAt],
        ...["max_retries", "2", "backoff_ms", "200", "submitted_ms", String(Date.now())],
      ],
    );
    await store.runScript(raw, [shardKey(old, "open")], ["SADD", old]);

    const [a, b] = await Promise.all([ledger.get("new"), ledger.get(old)]);
    expect({ ...b, task: { ...b?.task, task_id: "new" } }).toEqual(a);
    expect(a).toMatchObject({ maxRetries: 2, backoffMs: 200, fence: 0, failures: 0, notBefore: null });
    expect(a?.task).toMatchObject({ task_id: "new", created_at: createdAt, attempts: 0, status: "pending" });
    expect(await ledger.openTaskIds()).toEqual(expect.arrayContaining(["new", old]));

    // Both go through the same life: the default limits (2 retries, 200 ms) hold for the compact one.
    for (const id of ["new", old]) {
      expect(await ledger.assign(id, "d1")).toBe(true);
      const verdicts: string[] = [];
      let delay = 0;
      for (let attempt = 1; attempt <= 3; attempt++) {
        const fence = await ledger.dispatch(id, "d1", "w1");
        expect(fence).toBe(attempt);
        const before = Date.now();
        verdicts.push(
          await ledger.commit({ taskId: id, fence: fence as number, status: "failed", error: "no" }),
        );
        if (attempt === 1) delay = ((await ledger.get(id))?.notBefore ?? 0) - before;
      }
      expect(verdicts).toEqual(["retry", "retry", "failed"]);
      expect(delay).toBeGreaterThanOrEqual(190);
      expect(delay).toBeLessThanOrEqual(1_000);
    }
    // Ended, both have left the open tasks: the old one its shard's set of earlier versions.
    expect(await ledger.openTaskIds()).not.toEqual(expect.arrayContaining(["new"]));
    expect(await ledger.openTaskIds()).not.toEqual(expect.arrayContaining([old]));
    const [endA, endB] = await Promise.all([ledger.get("new"), ledger.get(old)]);
    const times = { started_at: endB?.task.started_at, completed_at: endB?.task.completed_at };
    expect(endB?.task).toEqual({ ...endA?.task, task_id: old, ...times });
    expect(endA).toMatchObject({ failures: 3, task: { status: "failed", attempts: 3 } });
  });
});
