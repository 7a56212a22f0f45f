import { Annotation, END, START, StateGraph } from "@langchain/langgraph";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { valuesKey } from "../../../src/core/state/checkpoint/store-keys.js";
import { readHash } from "../../../src/core/state/checkpoint/store-scripts.js";
import { RedisClient, StoreCheckpointSaver } from "../../../src/index.js";
import { testEngines } from "../../helpers/engines.js";

/**
 * StoreCheckpointSaver under a LangGraph graph, as a user's app runs it (fromUrl, end): a
 * checkpoint keeps only the channel values its step changed, and a fork of an old checkpoint
 * (time travel) never overwrites a value another checkpoint reads.
 */
const State = Annotation.Root({
  input: Annotation<string>(),
  n: Annotation<number>(),
});

const graph = new StateGraph(State)
  .addNode("step", (s: typeof State.State) => ({ n: s.n + 1 }))
  .addEdge(START, "step")
  .addConditionalEdges("step", (s: typeof State.State) => (s.n >= 5 ? END : "step"));

describe.each(testEngines("ckpt-values"))("StoreCheckpointSaver under a graph on $name", (engine) => {
  let saver: StoreCheckpointSaver;
  let client: RedisClient;
  beforeAll(async () => {
    await engine.setup();
    const { url, keyPrefix } = engine.config();
    saver = await StoreCheckpointSaver.fromUrl(url!, { keyPrefix });
    client = new RedisClient({ url, keyPrefix });
    expect(await client.connect()).toBe(true);
  });
  afterAll(async () => {
    await saver.end();
    await client.disconnect();
    await engine.teardown();
  });

  async function storedValues(thread: string): Promise<string[]> {
    const flat = (await client.runScript(readHash, [valuesKey(thread, "")], [])) as string[];
    return flat.filter((_, i) => i % 2 === 0).map((field) => (JSON.parse(field) as [string])[0]);
  }

  it("stores a channel a step did not change once per thread, not once per checkpoint", async () => {
    const app = graph.compile({ checkpointer: saver });
    const config = { configurable: { thread_id: "once" } };
    const doc = "x".repeat(4096);
    expect(await app.invoke({ input: doc, n: 0 }, config)).toEqual({ input: doc, n: 5 });
    const history = [];
    for await (const snapshot of app.getStateHistory(config)) history.push(snapshot);
    expect(history.length).toBeGreaterThanOrEqual(6);
    for (const snapshot of history.slice(0, -1)) expect(snapshot.values.input).toBe(doc);
    const channels = await storedValues("once");
    expect(channels.filter((c) => c === "input")).toHaveLength(1);
    expect(channels.filter((c) => c === "n")).toHaveLength(6); // 0 (the input), then 1 to 5
  });

  it("forks an old checkpoint without changing the checkpoints after it", async () => {
    const app = graph.compile({ checkpointer: saver });
    const config = { configurable: { thread_id: "fork" } };
    await app.invoke({ input: "doc", n: 0 }, config);
    const before = new Map<string, number>();
    for await (const s of app.getStateHistory(config))
      before.set(s.config.configurable!.checkpoint_id, s.values.n);
    const [oldId] = [...before].find(([, n]) => n === 2)!;
    const forked = await app.updateState(
      { configurable: { thread_id: "fork", checkpoint_id: oldId } },
      { n: 40 },
    );
    expect(await app.invoke(null, forked)).toEqual({ input: "doc", n: 40 }); // past 5: it ends there
    for (const [id, n] of before) {
      const tuple = await saver.getTuple({ configurable: { thread_id: "fork", checkpoint_id: id } });
      expect(tuple?.checkpoint.channel_values.n).toBe(n);
    }
    expect((await app.getState(config)).values).toEqual({ input: "doc", n: 40 });
  });

  it("keeps a value that has no channel version with its own checkpoint", async () => {
    const base = { v: 4, ts: new Date().toISOString(), versions_seen: {} };
    const first = {
      ...base,
      id: "c1",
      channel_values: { loose: 1, kept: "k" },
      channel_versions: { kept: 1 },
    };
    const second = {
      ...base,
      id: "c2",
      channel_values: { loose: 2, kept: "k" },
      channel_versions: { kept: 1 },
    };
    const meta = { source: "loop" as const, step: 0, parents: {} };
    const c1 = await saver.put({ configurable: { thread_id: "loose" } }, first, meta, { kept: 1 });
    await saver.put(c1, second, meta, {});
    const read = async (id: string) =>
      (await saver.getTuple({ configurable: { thread_id: "loose", checkpoint_id: id } }))?.checkpoint
        .channel_values;
    expect(await read("c1")).toEqual({ loose: 1, kept: "k" });
    expect(await read("c2")).toEqual({ loose: 2, kept: "k" });
  });

  it("reads back a checkpoint with more channels than Lua can unpack at once (9,000)", async () => {
    const names = Array.from({ length: 9000 }, (_, i) => `ch${i}`);
    const cp = {
      v: 4,
      id: "wide",
      ts: new Date().toISOString(),
      channel_values: Object.fromEntries(names.map((n, i) => [n, i])),
      channel_versions: Object.fromEntries(names.map((n) => [n, 1])),
      versions_seen: {},
    };
    const meta = { source: "input" as const, step: -1, parents: {} };
    await saver.put({ configurable: { thread_id: "wide" } }, cp, meta, cp.channel_versions);
    const tuple = await saver.getTuple({ configurable: { thread_id: "wide" } });
    expect(tuple?.checkpoint).toEqual(cp);
  });
});
