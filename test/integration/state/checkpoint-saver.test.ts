import type {
  BaseCheckpointSaver,
  Checkpoint,
  CheckpointMetadata,
  CheckpointTuple,
} from "@langchain/langgraph";
import { ERROR, uuid6 } from "@langchain/langgraph-checkpoint";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisClient, RelayCheckpointSaver, StoreCheckpointSaver } from "../../../src/index.js";
import { testRedis, uniquePrefix } from "../../helpers/redis-server.js";

/**
 * What LangGraph expects of a checkpointer (put, getTuple, putWrites, list, deleteThread), run
 * against StoreCheckpointSaver on memory:// and on a real Redis, and against the worker's
 * RelayCheckpointSaver. LangGraph's own suite runs against StoreCheckpointSaver in
 * checkpoint-validation.test.ts.
 */
/** latest: what getTuple without a checkpoint_id returns — the largest id (as LangGraph's own savers), or the checkpoint stored last. */
type Saver = { name: string; make: () => Promise<BaseCheckpointSaver>; latest: "largest id" | "stored last" };

let redisUrl = "";
let closeRedis: () => Promise<void> = async () => {};
const clients: RedisClient[] = [];

async function storeSaver(url: string): Promise<BaseCheckpointSaver> {
  const client = new RedisClient({ url, keyPrefix: uniquePrefix("ckpt") });
  expect(await client.connect()).toBe(true);
  clients.push(client);
  return new StoreCheckpointSaver(client);
}

const savers: Saver[] = [
  {
    name: "StoreCheckpointSaver on memory://",
    make: () => storeSaver(`memory://ckpt-${process.pid}`),
    latest: "largest id",
  },
  { name: "StoreCheckpointSaver on Redis", make: () => storeSaver(redisUrl), latest: "largest id" },
  {
    // A worker's relay resumes from what it was seeded with and what its graph stored since.
    name: "RelayCheckpointSaver",
    make: async () => new RelayCheckpointSaver({ sink: () => {} }),
    latest: "stored last",
  },
];

beforeAll(async () => {
  const r = await testRedis();
  redisUrl = r.url;
  closeRedis = r.close;
});
afterAll(async () => {
  for (const c of clients) await c.disconnect();
  await closeRedis();
});

function checkpoint(id: string, values: Record<string, unknown> = {}): Checkpoint {
  return {
    v: 4,
    id,
    ts: new Date().toISOString(),
    channel_values: values,
    channel_versions: Object.fromEntries(Object.keys(values).map((k) => [k, 1])),
    versions_seen: { "": { someChannel: 1 } },
  };
}

const inputMeta: CheckpointMetadata = { source: "input", step: -1, parents: {} };
const loopMeta = (step: number): CheckpointMetadata => ({ source: "loop", step, parents: {} });
const cfg = (thread_id: string, checkpoint_ns = "", checkpoint_id?: string) => ({
  configurable: { thread_id, checkpoint_ns, ...(checkpoint_id ? { checkpoint_id } : {}) },
});

async function all(gen: AsyncGenerator<CheckpointTuple>): Promise<CheckpointTuple[]> {
  const out: CheckpointTuple[] = [];
  for await (const t of gen) out.push(t);
  return out;
}

describe.each(savers)("$name", ({ make, latest }) => {
  let saver: BaseCheckpointSaver;
  beforeAll(async () => {
    saver = await make();
  });

  describe.each(["", "child"])("namespace '%s'", (ns) => {
    it("put returns the stored checkpoint's config and stores checkpoint and metadata unaltered", async () => {
      const thread = uuid6(-3);
      const cp = checkpoint(uuid6(-3), { animals: ["dog"], tags: new Set(["a"]), n: undefined });
      const returned = await saver.put(
        { configurable: { thread_id: thread, checkpoint_ns: ns, canary: "tweet" } },
        cp,
        inputMeta,
        cp.channel_versions,
      );
      expect(returned).toEqual(cfg(thread, ns, cp.id));
      const tuple = await saver.getTuple(returned);
      expect(tuple?.checkpoint).toEqual(cp);
      expect(tuple?.metadata).toEqual(inputMeta);
      expect(tuple?.config).toEqual(cfg(thread, ns, cp.id));
      expect(tuple?.parentConfig).toBeUndefined();
      expect(tuple?.pendingWrites).toEqual([]);
    });

    it("getTuple finds a checkpoint by id, the latest without one, its parent and its writes", async () => {
      const thread = uuid6(-3);
      const parentId = uuid6(-3);
      const childId = uuid6(-3);
      const parentConfig = await saver.put(
        cfg(thread, ns),
        checkpoint(parentId, { animals: ["dog"] }),
        inputMeta,
        {},
      );
      await saver.putWrites(parentConfig, [["__pregel_tasks", ["add_fish"]]], "pending_sends_task");
      const childConfig = await saver.put(
        parentConfig,
        checkpoint(childId, { animals: ["dog", "fish"] }),
        loopMeta(0),
        {},
      );
      await saver.putWrites(childConfig, [["animals", ["dog", "fish"]]], "add_fish");

      const parent = await saver.getTuple(cfg(thread, ns, parentId));
      expect(parent?.pendingWrites).toEqual([["pending_sends_task", "__pregel_tasks", ["add_fish"]]]);
      expect(parent?.parentConfig).toBeUndefined();
      for (const tuple of [
        await saver.getTuple(cfg(thread, ns, childId)),
        await saver.getTuple(cfg(thread, ns)),
      ]) {
        expect(tuple?.checkpoint.id).toBe(childId);
        expect(tuple?.metadata).toEqual(loopMeta(0));
        expect(tuple?.config).toEqual(cfg(thread, ns, childId));
        expect(tuple?.parentConfig).toEqual(cfg(thread, ns, parentId));
        expect(tuple?.pendingWrites).toEqual([["add_fish", "animals", ["dog", "fish"]]]);
      }
      expect(await saver.getTuple(cfg(thread, ns, uuid6(-3)))).toBeUndefined();
      expect(await saver.getTuple(cfg(uuid6(-3), ns))).toBeUndefined();
      expect(await saver.getTuple({ configurable: { checkpoint_ns: ns } })).toBeUndefined();
    });

    it("putWrites keeps a task's first report, lets errors replace, and orders by task path, task, index", async () => {
      const thread = uuid6(-3);
      const config = await saver.put(cfg(thread, ns), checkpoint(uuid6(-3)), loopMeta(1), {});
      await saver.putWrites(
        config,
        [
          ["x", 1],
          ["y", 2],
        ],
        "task-b",
        "~__pregel_pull, b",
      );
      await saver.putWrites(config, [["x", 99]], "task-b", "~__pregel_pull, b"); // a retried report
      await saver.putWrites(config, [["x", 3]], "task-a", "~__pregel_pull, a");
      await saver.putWrites(config, [[ERROR, "first failure"]], "task-c", "~__pregel_pull, c");
      await saver.putWrites(config, [[ERROR, "second failure"]], "task-c", "~__pregel_pull, c");
      await saver.putWrites(config, [["bytes", new Uint8Array([0, 255, 7])]], "task-d", "~__pregel_pull, d");
      const tuple = await saver.getTuple(config);
      expect(tuple?.pendingWrites).toEqual([
        ["task-a", "x", 3],
        ["task-b", "x", 1],
        ["task-b", "y", 2],
        ["task-c", ERROR, "second failure"],
        ["task-d", "bytes", new Uint8Array([0, 255, 7])],
      ]);
    });

    it("putWrites and put refuse a config without thread_id (and putWrites one without checkpoint_id)", async () => {
      await expect(
        saver.put({ configurable: { checkpoint_ns: ns } }, checkpoint(uuid6(-3)), inputMeta, {}),
      ).rejects.toThrow(/thread_id/);
      await expect(saver.put({}, checkpoint(uuid6(-3)), inputMeta, {})).rejects.toThrow();
      await expect(
        saver.putWrites({ configurable: { checkpoint_ns: ns, checkpoint_id: uuid6(-3) } }, [["a", 1]], "t"),
      ).rejects.toThrow(/thread_id/);
      await expect(saver.putWrites(cfg(uuid6(-3), ns), [["a", 1]], "t")).rejects.toThrow(/checkpoint_id/);
    });
  });

  it("put defaults a missing namespace to the root graph's", async () => {
    const thread = uuid6(-3);
    const returned = await saver.put(
      { configurable: { thread_id: thread } },
      checkpoint(uuid6(-3)),
      inputMeta,
      {},
    );
    expect(returned.configurable?.checkpoint_ns).toBe("");
  });

  it(`takes the ${latest === "largest id" ? "largest id" : "checkpoint stored last"} as the latest`, async () => {
    const thread = uuid6(-3);
    const early = uuid6(-3);
    const late = uuid6(-3);
    // stored in the reverse of their ids' order, as from a host whose clock is behind
    await saver.put(cfg(thread), checkpoint(late), loopMeta(1), {});
    await saver.put(cfg(thread, "", late), checkpoint(early), loopMeta(2), {});
    expect((await saver.getTuple(cfg(thread)))?.checkpoint.id).toBe(latest === "largest id" ? late : early);
    // list keeps LangGraph's order: largest id first
    expect((await all(saver.list(cfg(thread)))).map((t) => t.checkpoint.id)).toEqual([late, early]);
  });

  it("lists newest first, by namespace, before an id, by metadata and up to a limit", async () => {
    const thread = uuid6(-3);
    const ids: string[] = [];
    let config = cfg(thread);
    for (let step = -1; step < 3; step++) {
      const id = uuid6(-3);
      ids.push(id);
      config = (await saver.put(
        config,
        checkpoint(id),
        step < 0 ? inputMeta : loopMeta(step),
        {},
      )) as typeof config;
    }
    const childId = uuid6(-3);
    await saver.put(cfg(thread, "child"), checkpoint(childId), loopMeta(0), {});
    const newestFirst = [...ids].reverse();

    const ofThread = await all(saver.list({ configurable: { thread_id: thread } }));
    expect(ofThread.map((t) => t.checkpoint.id).sort()).toEqual([...ids, childId].sort());
    const root = await all(saver.list(cfg(thread)));
    expect(root.map((t) => t.checkpoint.id)).toEqual(newestFirst);
    expect(root[0]?.parentConfig).toEqual(cfg(thread, "", ids[2]));
    expect((await all(saver.list(cfg(thread), { limit: 2 }))).map((t) => t.checkpoint.id)).toEqual(
      newestFirst.slice(0, 2),
    );
    expect(await all(saver.list(cfg(thread), { limit: 0 }))).toEqual([]);
    const before = await all(saver.list(cfg(thread), { before: cfg(thread, "", ids[2]) }));
    expect(before.map((t) => t.checkpoint.id)).toEqual([ids[1], ids[0]]);
    const inputs = await all(saver.list(cfg(thread), { filter: { source: "input" } }));
    expect(inputs.map((t) => t.checkpoint.id)).toEqual([ids[0]]);
    expect(await all(saver.list(cfg(thread), { filter: { step: 1 } }))).toHaveLength(1);
    expect(await all(saver.list(cfg(thread), { filter: {} }))).toHaveLength(4);
    expect((await all(saver.list(cfg(thread, "child")))).map((t) => t.checkpoint.id)).toEqual([childId]);
    expect((await all(saver.list(cfg(thread, "", ids[1])))).map((t) => t.checkpoint.id)).toEqual([ids[1]]);
    expect(await all(saver.list(cfg(uuid6(-3))))).toEqual([]);
    // without a thread_id: every thread's checkpoints
    const everywhere = (await all(saver.list({}))).map((t) => t.checkpoint.id);
    expect(everywhere).toEqual(expect.arrayContaining([...ids, childId]));
    const children = await all(saver.list({ configurable: { checkpoint_ns: "child" } }));
    expect(children.map((t) => t.checkpoint.id)).toContain(childId);
    expect(children.every((t) => t.config.configurable?.checkpoint_ns === "child")).toBe(true);
  });

  it("deletes one thread, every namespace of it, and nothing else", async () => {
    const [one, two] = [uuid6(-3), uuid6(-3)];
    const c1 = await saver.put(cfg(one), checkpoint(uuid6(-3)), inputMeta, {});
    await saver.putWrites(c1, [["a", 1]], "t");
    await saver.put(cfg(one, "child"), checkpoint(uuid6(-3)), inputMeta, {});
    await saver.put(cfg(two), checkpoint(uuid6(-3)), inputMeta, {});
    await saver.deleteThread(one);
    expect(await saver.getTuple(cfg(one))).toBeUndefined();
    expect(await saver.getTuple(cfg(one, "child"))).toBeUndefined();
    expect(await all(saver.list(cfg(one)))).toEqual([]);
    const threads = new Set((await all(saver.list({}))).map((t) => t.config.configurable?.thread_id));
    expect(threads.has(one)).toBe(false);
    expect(threads.has(two)).toBe(true);
    expect(await saver.getTuple(cfg(two))).toBeDefined();
  });
});
