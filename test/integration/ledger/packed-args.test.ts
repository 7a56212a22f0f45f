import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import * as scripts from "../../../src/agents/ledger/ledger-scripts.js";
import { packedArgs } from "../../../src/agents/ledger/packed-args.js";
import { shardTag } from "../../../src/agents/ledger/shards.js";
import { TaskLedger } from "../../../src/agents/ledger/task-ledger.js";
import { RedisClient } from "../../../src/index.js";
import { testEngines } from "../../helpers/engines.js";

/**
 * A grouped script's ARGV goes to Redis packed into one value (packed-args.ts): the batch costs
 * node-redis one argument's encoding, not five per task. The scripts and their embedded twins
 * read it as the unpacked values; a value holding a NUL byte goes unpacked.
 */

let seq = 0;
const newTask = (payload: unknown) => ({
  taskId: `packed-${++seq}`,
  taskType: "compute",
  payload: payload as Record<string, never>,
  createdAt: new Date().toISOString(),
  maxRetries: 0,
  backoffMs: 10,
});

describe.each(testEngines("packed-args", { cluster: true }))("packed script arguments on $name", (engine) => {
  const clients: RedisClient[] = [];
  async function client(): Promise<RedisClient> {
    const store = new RedisClient(engine.config());
    expect(await store.connect()).toBe(true);
    clients.push(store);
    return store;
  }
  beforeAll(() => engine.setup(), 60_000);
  afterAll(async () => {
    for (const c of clients) await c.disconnect();
    await engine.teardown();
  });

  it("sends a batch's submit, dispatch and commit as one value on Redis; every record reads the same", async () => {
    const store = await client();
    const ledger = new TaskLedger(store, { shards: 4 });
    const sent: (string | number)[][] = [];
    const run = store.runScript.bind(store);
    const runReplicated = store.runReplicatedScript.bind(store);
    vi.spyOn(store, "runScript").mockImplementation((s, k, a) => {
      sent.push(a);
      return run(s, k, a);
    });
    vi.spyOn(store, "runReplicatedScript").mockImplementation((s, k, a) => {
      sent.push(a);
      return runReplicated(s, k, a);
    });

    // Values that a split must give back exactly: empty, non-ASCII, separators of other kinds.
    const payloads = [
      {},
      { s: "" },
      { s: "é ü 中文 🙂" },
      { s: "a\tb\nc|d,e" },
      { n: [1, 2, 3] },
      { s: "\u0001" },
    ];
    const tasks = payloads.map(newTask);
    expect(await Promise.all(tasks.map((t) => ledger.submit(t, "d1")))).toEqual(tasks.map(() => true));
    const fences = await Promise.all(tasks.map((t) => ledger.dispatch(t.taskId, "d1", "w1")));
    const verdicts = await Promise.all(
      tasks.map((t, k) =>
        k % 2 === 0
          ? ledger.commit({
              taskId: t.taskId,
              fence: fences[k] as number,
              status: "completed",
              result: t.payload,
            })
          : ledger.commit({
              taskId: t.taskId,
              fence: fences[k] as number,
              status: "failed",
              error: `no ${k} ü`,
            }),
      ),
    );
    expect(verdicts).toEqual(tasks.map((_t, k) => (k % 2 === 0 ? "completed" : "failed")));
    for (const [k, t] of tasks.entries()) {
      const rec = (await ledger.get(t.taskId))!.task;
      expect(rec).toMatchObject({ task_id: t.taskId, task_type: "compute", payload: t.payload, attempts: 1 });
      if (k % 2 === 0) expect(rec).toMatchObject({ status: "completed", result: t.payload });
      else expect(rec).toMatchObject({ status: "failed", error: `no ${k} ü` });
    }

    // Every grouped call (one a batch on a single Redis, one a shard on a cluster) went packed.
    const packed = sent.filter((a) => a.length === 1);
    if (engine.name === "memory") expect(packed).toEqual([]);
    else {
      expect(packed.length).toBeGreaterThanOrEqual(3);
      expect(sent.filter((a) => a.length > 1)).toEqual([]);
    }
  });

  it("sends a batch holding a NUL byte unpacked, and commits it whole", async () => {
    const store = await client();
    const ledger = new TaskLedger(store, { shards: 1 });
    const sent: (string | number)[][] = [];
    const run = store.runScript.bind(store);
    vi.spyOn(store, "runScript").mockImplementation((s, k, a) => {
      sent.push(a);
      return run(s, k, a);
    });
    const t = newTask({ s: "x" });
    await ledger.submit(t, "d1");
    const fence = (await ledger.dispatch(t.taskId, "d1", "w1")) as number;
    sent.length = 0;
    const error = "half\u0000other half";
    expect(await ledger.commit({ taskId: t.taskId, fence, status: "failed", error })).toBe("failed");
    expect((await ledger.get(t.taskId))!.task).toMatchObject({ status: "failed", error });
    expect(sent.some((a) => a.includes(error))).toBe(true);
  });

  it("runs a script given its ARGV packed as it runs it given the values (the Lua and its twin alike)", async () => {
    const store = await client();
    const prefix = store.key(shardTag(0));
    const keys = [`${shardTag(0)}open`];
    const submit = (ids: string[]) => [
      Date.now(),
      "",
      prefix,
      ids.length,
      ...ids.flatMap((id) => [id, "t", "{}", 1, ""]),
    ];
    expect(await store.runScript(scripts.submitTasks, keys, packedArgs(submit(["p-1", "p-2"])))).toEqual([
      1, 1,
    ]);
    expect(await store.runScript(scripts.submitTasks, keys, submit(["p-2", "p-3"]))).toEqual([0, 1]);
    expect(
      await store.runScript(scripts.submitTasks, keys, packedArgs(submit(["p-3", "p-4", "p-1"]))),
    ).toEqual([0, 1, 0]);
    const read = [prefix, 5, "p-1", "p-2", "p-3", "p-4", "p-5"];
    expect(await store.runScript(scripts.readStatuses, keys, packedArgs(read))).toEqual(
      await store.runScript(scripts.readStatuses, keys, read),
    );
    expect(await store.runScript(scripts.readStatuses, keys, packedArgs(read))).toEqual([
      "pending",
      "pending",
      "pending",
      "pending",
      "",
    ]);
  });
});
