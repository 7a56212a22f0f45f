import { describe, expect, it } from "vitest";
import { SWEEP_BUDGET, UnplacedSweep } from "../../../src/agents/coordinator/unplaced-sweep.js";
import type { TaskLedger } from "../../../src/agents/ledger/task-ledger.js";
import type { RedisClient } from "../../../src/index.js";

/** The unplaced sweep's walk over the owned shards, and its two sightings before it adopts a task. */
describe("UnplacedSweep", () => {
  function sweep(
    owned: number[] | null | (() => number[] | null),
    found: Record<number, string[]>,
    held = new Set<string>(),
  ) {
    const calls: Array<[number, string, number]> = [];
    const store = {
      key: (k: string) => `p:${k}`,
      runScript: async (_script: unknown, keys: string[], args: [string, string, number]) => {
        const shard = Number(/\{t(\d+)\}/.exec(keys[0]!)![1]);
        calls.push([shard, args[1], args[2]]);
        // Each shard in two steps: ids at its first, its legacy set at the second.
        return args[1] === "" ? ["s", 3, ...(found[shard] ?? [])] : ["", 0];
      },
    } as unknown as RedisClient;
    const adopted: string[] = [];
    const s = new UnplacedSweep({
      store,
      ledger: { shards: 4 } as TaskLedger,
      owned: typeof owned === "function" ? owned : () => owned,
      held: (id) => held.has(id),
      adopt: async (id) => {
        adopted.push(id);
      },
    });
    return { s, calls, adopted };
  }

  it("walks each owned shard once a step, and adopts a task found unplaced at two sightings", async () => {
    const { s, calls, adopted } = sweep([1, 3], { 1: ["a"], 3: ["b"] });
    expect(await s.step()).toEqual([]);
    expect(calls.map(([shard, cursor]) => [shard, cursor])).toEqual([
      [1, ""],
      [1, "s"],
      [3, ""],
      [3, "s"],
    ]);
    expect(calls[0]![2]).toBe(SWEEP_BUDGET);
    expect(adopted).toEqual([]); // seen once: maybe on its way
    expect(await s.step()).toEqual(["a", "b"]);
    expect(adopted).toEqual(["a", "b"]);
  });

  it("never adopts a task the coordinator holds, and sweeps every shard when it owns them all", async () => {
    const { s, calls, adopted } = sweep(null, { 0: ["x"], 2: ["y"] }, new Set(["x"]));
    await s.step();
    await s.step();
    expect(new Set(calls.map(([shard]) => shard))).toEqual(new Set([0, 1, 2, 3]));
    expect(adopted).toEqual(["y"]);
  });

  it("forgets a task seen once and not seen in the next pass over its shard (placed meanwhile)", async () => {
    const found: Record<number, string[]> = { 1: ["a", "b"], 3: ["c"] };
    const { s, adopted } = sweep([1, 3], found);
    expect(await s.step()).toEqual([]); // a, b and c seen once
    found[1] = ["b"]; // a placed meanwhile; c's shard: a pass with it still unplaced
    expect(await s.step()).toEqual(["b", "c"]);
    // a is unplaced again (a lost step anew): seen once since, it is only noted, not adopted.
    found[1] = ["a"];
    found[3] = [];
    expect(await s.step()).toEqual([]);
    expect(await s.step()).toEqual(["a"]);
    expect(adopted).toEqual(["b", "c", "a"]);
    // Seen once, then not: forgotten, whatever comes after.
    found[1] = ["d"];
    expect(await s.step()).toEqual([]);
    found[1] = [];
    expect(await s.step()).toEqual([]);
    found[1] = ["d"];
    expect(await s.step()).toEqual([]);
    expect(await s.step()).toEqual(["d"]);
  });

  it("forgets what it found in a shard it no longer owns", async () => {
    let owned = [1, 3];
    const found: Record<number, string[]> = { 1: ["a"], 3: ["c"] };
    const { s } = sweep(() => owned, found);
    expect(await s.step()).toEqual([]);
    owned = [3];
    expect(await s.step()).toEqual(["c"]);
    owned = [1, 3]; // back: a is seen once again, not adopted at once (nor c, adopted already)
    expect(await s.step()).toEqual([]);
    expect(await s.step()).toEqual(["a", "c"]);
  });

  it("does nothing while it owns no shard", async () => {
    const { s, calls } = sweep([], { 0: ["x"] });
    expect(await s.step()).toEqual([]);
    expect(calls).toEqual([]);
  });
});
