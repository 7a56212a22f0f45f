import type { Checkpoint, CheckpointMetadata } from "@langchain/langgraph";
import { uuid6 } from "@langchain/langgraph-checkpoint";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { threadsKeyOf } from "../../../src/core/state/checkpoint/store-keys.js";
import {
  type CheckpointTransfer,
  isTriadError,
  parseCheckpointTransfer,
  RedisClient,
  RelayCheckpointSaver,
  StoreCheckpointSaver,
} from "../../../src/index.js";
import { testRedis, uniquePrefix } from "../../helpers/redis-server.js";

/**
 * Checkpoints in transit between a worker (RelayCheckpointSaver) and its distributor
 * (StoreCheckpointSaver): plain JSON transfers, fenced imports, exports that seed a new worker.
 */
let redisUrl = "";
let closeRedis: () => Promise<void> = async () => {};
const clients: RedisClient[] = [];
beforeAll(async () => {
  const r = await testRedis();
  redisUrl = r.url;
  closeRedis = r.close;
});
afterAll(async () => {
  for (const c of clients) await c.disconnect();
  await closeRedis();
});

const meta = (step: number): CheckpointMetadata => ({ source: "loop", step, parents: {} });
const checkpoint = (id: string, values: Record<string, unknown> = {}): Checkpoint => ({
  v: 4,
  id,
  ts: new Date().toISOString(),
  channel_values: values,
  channel_versions: Object.fromEntries(Object.keys(values).map((k) => [k, 1])),
  versions_seen: {},
});
const cfg = (thread_id: string, checkpoint_ns = "", checkpoint_id?: string) => ({
  configurable: { thread_id, checkpoint_ns, ...(checkpoint_id ? { checkpoint_id } : {}) },
});

async function all<T>(gen: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const t of gen) out.push(t);
  return out;
}

function expectCode(err: unknown, code: string): boolean {
  return isTriadError(err, code);
}

describe("RelayCheckpointSaver", () => {
  it("hands every put and putWrites to its sink, in order, as plain JSON", async () => {
    const sent: CheckpointTransfer[] = [];
    const relay = new RelayCheckpointSaver({ sink: (t) => void sent.push(t) });
    const config = await relay.put(
      cfg("task-1"),
      checkpoint(uuid6(-3), { n: 1, s: new Set([1]) }),
      meta(0),
      {},
    );
    await relay.putWrites(
      config,
      [
        ["n", 2],
        ["blob", new Uint8Array([1, 2])],
      ],
      "node-a",
      "~p, a",
    );
    expect(sent.map((t) => t.kind)).toEqual(["checkpoint", "writes"]);
    for (const t of sent) {
      expect(JSON.parse(JSON.stringify(t))).toEqual(t);
      expect(parseCheckpointTransfer(JSON.parse(JSON.stringify(t)))).toEqual(t);
    }
    expect(sent[0]).toMatchObject({
      thread_id: "task-1",
      checkpoint_ns: "",
      parent_checkpoint_id: null,
      v: 1,
    });
    expect(sent[1]).toMatchObject({
      task_id: "node-a",
      task_path: "~p, a",
      checkpoint_id: config.configurable?.checkpoint_id,
    });
    const writes = (sent[1] as Extract<CheckpointTransfer, { kind: "writes" }>).writes;
    expect(writes[0]?.value).toEqual({ type: "json", text: "2" });
    expect(writes[1]?.value).toHaveProperty("base64");
  });

  it("waits for the sink, and fails the put when the sink fails", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const relay = new RelayCheckpointSaver({ sink: () => gate });
    let done = false;
    const put = relay.put(cfg("t"), checkpoint(uuid6(-3)), meta(0), {}).then(() => {
      done = true;
    });
    await new Promise((r) => setTimeout(r, 10));
    expect(done).toBe(false);
    release();
    await put;
    expect(done).toBe(true);
    const failing = new RelayCheckpointSaver({
      sink: () => {
        throw new Error("distributor unreachable");
      },
    });
    await expect(failing.put(cfg("t"), checkpoint(uuid6(-3)), meta(0), {})).rejects.toThrow(
      "distributor unreachable",
    );
  });

  it("keeps at most `retain` checkpoints per thread in memory, the newest always", async () => {
    const relay = new RelayCheckpointSaver({ sink: () => {}, retain: 3 });
    let config = cfg("t");
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) {
      ids.push(uuid6(-3));
      config = (await relay.put(config, checkpoint(ids[i]!), meta(i), {})) as typeof config;
      await relay.putWrites(config, [["x", i]], "n");
    }
    const kept = [];
    for await (const t of relay.list(cfg("t"))) kept.push(t.checkpoint.id);
    expect(kept).toEqual(ids.slice(-3).reverse());
    expect((await relay.getTuple(cfg("t")))?.pendingWrites).toEqual([["n", "x", 49]]);
  });

  it("refuses a malformed seed, naming the field", () => {
    expect(() => new RelayCheckpointSaver({ sink: () => {}, seed: [{ kind: "checkpoint", v: 1 }] })).toThrow(
      /checkpoint transfer\.thread_id/,
    );
    expect(() =>
      parseCheckpointTransfer({
        kind: "writes",
        v: 1,
        thread_id: "t",
        checkpoint_ns: "",
        checkpoint_id: "c",
        task_id: "n",
        task_path: "",
        writes: [{ idx: 0.5, channel: "x", value: { type: "json", text: "1" } }],
      }),
    ).toThrow(/writes\[0\]\.idx/);
  });
});

describe.each([
  { name: "memory://", url: () => `memory://transfer-${process.pid}` },
  { name: "Redis", url: () => redisUrl },
])("StoreCheckpointSaver on $name as the distributor's checkpoint home", ({ url }) => {
  let client: RedisClient;
  let store: StoreCheckpointSaver;
  beforeAll(async () => {
    client = new RedisClient({ url: url(), keyPrefix: uniquePrefix("transfer") });
    expect(await client.connect()).toBe(true);
    clients.push(client);
    store = new StoreCheckpointSaver(client);
  });

  it("imports a worker's transfers, and exports what the next worker resumes from", async () => {
    const thread = `task-${uuid6(-3)}`;
    const relay = new RelayCheckpointSaver({
      sink: async (t) => {
        expect(
          await store.importTransfer(JSON.parse(JSON.stringify(t)), { threadId: thread, fencingToken: 1 }),
        ).toBe(true);
      },
    });
    const first = await relay.put(cfg(thread), checkpoint(uuid6(-3), { n: 1 }), meta(0), {});
    const second = await relay.put(first, checkpoint(uuid6(-3), { n: 2 }), meta(1), {});
    await relay.putWrites(second, [["n", 3]], "node-a", "~p, a");
    await relay.put(cfg(thread, "sub:1"), checkpoint(uuid6(-3), { m: 1 }), meta(0), {});
    expect(await store.getTuple(cfg(thread))).toEqual(await relay.getTuple(cfg(thread)));

    const seed = await store.exportThread(thread);
    expect(seed.map((t) => `${t.kind}:${t.checkpoint_ns}`)).toEqual([
      "checkpoint:",
      "writes:",
      "checkpoint:sub:1",
    ]);
    expect(JSON.parse(JSON.stringify(seed))).toEqual(seed);
    const next = new RelayCheckpointSaver({ sink: () => {}, seed });
    const resumed = await next.getTuple(cfg(thread));
    expect(resumed?.checkpoint.id).toBe(second.configurable?.checkpoint_id);
    expect(resumed?.checkpoint.channel_values).toEqual({ n: 2 });
    expect(resumed?.pendingWrites).toEqual([["node-a", "n", 3]]);
    expect(resumed?.parentConfig).toEqual(first);
    expect((await next.getTuple(cfg(thread, "sub:1")))?.checkpoint.channel_values).toEqual({ m: 1 });
    expect(await store.exportThread(`task-${uuid6(-3)}`)).toEqual([]);
  });

  it("fences a reassigned thread: the old worker's late transfers are refused and change nothing", async () => {
    const thread = `task-${uuid6(-3)}`;
    const oldWorker: CheckpointTransfer[] = [];
    const relay = new RelayCheckpointSaver({ sink: (t) => void oldWorker.push(t) });
    const c1 = await relay.put(cfg(thread), checkpoint(uuid6(-3), { n: 1 }), meta(0), {});
    expect(await store.importTransfer(oldWorker[0], { fencingToken: 1 })).toBe(true);

    expect(await store.fenceThread(thread, 2)).toBe(true);
    expect(await store.fenceThread(thread, 1)).toBe(false);
    await relay.put(c1, checkpoint(uuid6(-3), { n: 2 }), meta(1), {});
    await relay.putWrites(c1, [["n", 9]], "late");
    expect(await store.importTransfer(oldWorker[1], { fencingToken: 1 })).toBe(false);
    expect(await store.importTransfer(oldWorker[2], { fencingToken: 1 })).toBe(false);
    const head = await store.getTuple(cfg(thread));
    expect(head?.checkpoint.channel_values).toEqual({ n: 1 });
    expect(head?.pendingWrites).toEqual([]);
    // the new owner's token passes, and so does a newer one after it
    expect(await store.importTransfer(oldWorker[1], { fencingToken: 2 })).toBe(true);
    expect(await store.importTransfer(oldWorker[2], { fencingToken: 3 })).toBe(true);
    expect(await store.importTransfer(oldWorker[2], { fencingToken: 2 })).toBe(false);
  });

  it("refuses a transfer for another thread than the sender's, and a malformed one", async () => {
    const sent: CheckpointTransfer[] = [];
    const spy = new RelayCheckpointSaver({ sink: (t) => void sent.push(t) });
    await spy.put(cfg("task-other"), checkpoint(uuid6(-3)), meta(0), {});
    await expect(store.importTransfer(sent[0], { threadId: "task-mine" })).rejects.toSatisfy((e: unknown) =>
      expectCode(e, "ERR_THREAD_MISMATCH"),
    );
    await expect(store.importTransfer({ ...sent[0], checkpoint: { type: "json" } })).rejects.toSatisfy(
      (e: unknown) => expectCode(e, "ERR_INVALID_CHECKPOINT"),
    );
    await expect(store.importTransfer(sent[0], { fencingToken: -1 })).rejects.toSatisfy((e: unknown) =>
      expectCode(e, "ERR_INVALID_ARGUMENT"),
    );
  });

  it("keeps threads apart whatever characters their ids hold", async () => {
    const a = "x}:n:";
    const b = "x";
    await store.put(cfg(a, "c:1"), checkpoint(uuid6(-3), { who: "a" }), meta(0), { who: 1 });
    await store.put(cfg(b, ":1"), checkpoint(uuid6(-3), { who: "b" }), meta(0), { who: 1 });
    expect((await store.getTuple(cfg(a, "c:1")))?.checkpoint.channel_values).toEqual({ who: "a" });
    expect((await store.getTuple(cfg(b, ":1")))?.checkpoint.channel_values).toEqual({ who: "b" });
    expect(await store.getTuple(cfg(b, "c:1"))).toBeUndefined();
    await store.deleteThread(a);
    expect((await store.getTuple(cfg(b, ":1")))?.checkpoint.channel_values).toEqual({ who: "b" });
  });

  it("lets abandoned threads expire with ttlSeconds, and list() then forgets them", async () => {
    const own = new RedisClient({ url: url(), keyPrefix: uniquePrefix("transfer-ttl") });
    expect(await own.connect()).toBe(true);
    clients.push(own);
    const expiring = new StoreCheckpointSaver(own, { ttlSeconds: 0.15 });
    const config = await expiring.put(cfg("short-lived"), checkpoint(uuid6(-3)), meta(0), {});
    await expiring.putWrites(config, [["a", 1]], "n");
    expect(await expiring.getTuple(cfg("short-lived"))).toBeDefined();
    expect((await all(expiring.list({}))).map((t) => t.config.configurable?.thread_id)).toEqual([
      "short-lived",
    ]);
    const shardIndex = threadsKeyOf("short-lived");
    expect(await own.exists(shardIndex)).toBe(true);
    await new Promise((r) => setTimeout(r, 400));
    expect(await expiring.getTuple(cfg("short-lived"))).toBeUndefined();
    expect(await expiring.exportThread("short-lived")).toEqual([]);
    expect(await all(expiring.list({}))).toEqual([]);
    expect(await own.exists(shardIndex)).toBe(false);
  });

  it("exports the checkpoint stored last to resume from, though getTuple gives the largest id", async () => {
    const thread = `task-${uuid6(-3)}`;
    const [early, late] = [uuid6(-3), uuid6(-3)];
    // the first worker's clock was ahead of the second's: its checkpoint has the larger id
    await store.put(cfg(thread), checkpoint(late, { n: 1, doc: "d" }), meta(0), { n: 1, doc: 1 });
    const second = { ...checkpoint(early, { n: 2, doc: "d" }), channel_versions: { n: 2, doc: 1 } };
    await store.put(cfg(thread, "", late), second, meta(1), { n: 2 });
    expect((await store.getTuple(cfg(thread)))?.checkpoint.id).toBe(late);
    const seed = await store.exportThread(thread);
    expect(seed.map((t) => t.checkpoint_id)).toEqual([early]);
    // put() stored it split (doc only with the first); the export carries it whole
    const resumed = await new RelayCheckpointSaver({ sink: () => {}, seed }).getTuple(cfg(thread));
    expect(resumed?.checkpoint.channel_values).toEqual({ n: 2, doc: "d" });
  });
});

describe.each(["memory", "redis"])("a fence with a time to live, on %s", (kind) => {
  const saver = async () => {
    const client = new RedisClient(
      kind === "memory"
        ? { url: `memory://fence-ttl-${uuid6(-3)}` }
        : { url: redisUrl, keyPrefix: uniquePrefix("fence-ttl") },
    );
    await client.connect();
    clients.push(client);
    return new StoreCheckpointSaver(client);
  };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it("expires for a thread that stored nothing (a retried task that is no graph), and lives with a thread that did", async () => {
    const store = await saver();
    const [bare, stored, later] = [`task-${uuid6(-3)}`, `task-${uuid6(-3)}`, `task-${uuid6(-3)}`];
    await store.put(cfg(stored), checkpoint(uuid6(-3), { n: 1 }), meta(0), {});
    expect(await store.fenceThread(bare, 2, 150)).toBe(true);
    expect(await store.fenceThread(stored, 2, 150)).toBe(true);
    // Fenced before its first put: the put keeps the fence as long as the thread.
    expect(await store.fenceThread(later, 2, 150)).toBe(true);
    await store.put(cfg(later), checkpoint(uuid6(-3), { n: 1 }), meta(0), {});
    await sleep(400);
    expect(await store.fenceThread(bare, 1)).toBe(true); // its fence is gone
    expect(await store.fenceThread(stored, 1)).toBe(false);
    expect(await store.fenceThread(later, 1)).toBe(false);
    await expect(store.fenceThread(bare, 3, 0)).rejects.toSatisfy((e: unknown) =>
      expectCode(e, "ERR_INVALID_TTL"),
    );
  });
});
