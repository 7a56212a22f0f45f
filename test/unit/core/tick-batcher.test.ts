import { describe, expect, it } from "vitest";
import { TickBatcher } from "../../../src/core/tick-batcher.js";

/** Per-item calls made in one synchronous run become one call per key, each caller answered with its own result. */

/** A batcher of at most `maxBatch` items a call that answers each item with itself, and the sizes of its calls. */
function echoing(maxBatch: number) {
  const sizes: number[] = [];
  const b = new TickBatcher<number, number>(async (_key, items) => {
    sizes.push(items.length);
    return items;
  }, maxBatch);
  return { b, sizes };
}

describe("TickBatcher", () => {
  it("sends the calls of one run as one batch per key and answers each caller with its own result", async () => {
    const sent: Array<[string, number[]]> = [];
    const b = new TickBatcher<number, number>(async (key, items) => {
      sent.push([key, [...items]]);
      return items.map((i) => i * 10);
    });
    const answers = await Promise.all([b.add("a", 1), b.add("b", 2), b.add("a", 3)]);
    expect(answers).toEqual([10, 20, 30]);
    expect(sent).toEqual([
      ["a", [1, 3]],
      ["b", [2]],
    ]);
  });

  it("splits a run at maxBatch items", async () => {
    const { b, sizes } = echoing(4);
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => b.add("k", i)));
    expect(answers).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(sizes).toEqual([4, 4, 2]);
  });

  it("puts a call made while a batch is being sent into the next batch, and keeps doing so run after run", async () => {
    const sent: number[][] = [];
    let late: Promise<number> | undefined;
    const b = new TickBatcher<number, number>((_key, items) => {
      sent.push([...items]);
      // Called as the batch goes out, in the same synchronous run as the flush.
      if (items.includes(1) && late === undefined) late = b.add("k", 99);
      return Promise.resolve(items.map((i) => i + 1));
    });
    expect(await Promise.all([b.add("k", 1), b.add("k", 2)])).toEqual([2, 3]);
    expect(await late).toBe(100);
    for (let round = 0; round < 3; round++) expect(await b.add("k", round)).toBe(round + 1);
    expect(sent).toEqual([[1, 2], [99], [0], [1], [2]]);
  });

  it("rejects every caller of a failed batch, and only those", async () => {
    const b = new TickBatcher<string, string>(async (key, items) => {
      if (key === "bad") throw new Error("store down");
      return items;
    });
    const good = b.add("good", "x");
    const bad = [b.add("bad", "y"), b.add("bad", "z")];
    expect(await good).toBe("x");
    for (const p of bad) await expect(p).rejects.toThrow("store down");
  });

  it("rejects the callers of a batch whose call throws instead of rejecting (nothing escapes the flush)", async () => {
    const refused = new Error("not connected");
    let calls = 0;
    const b = new TickBatcher<number, number>((_key, items) => {
      calls++;
      if (items.includes(1)) throw refused;
      return Promise.resolve(items);
    });
    const outcomes = await Promise.allSettled([b.add("a", 1), b.add("a", 2), b.add("b", 3)]);
    expect(outcomes).toEqual([
      { status: "rejected", reason: refused },
      { status: "rejected", reason: refused },
      { status: "fulfilled", value: 3 },
    ]);
    const many = await Promise.allSettled([
      b.addMany(
        [1, 4],
        () => "c",
        (x) => x,
      ),
    ]);
    expect(many).toEqual([{ status: "rejected", reason: refused }]);
    // And the batcher goes on: the next run is sent.
    await expect(b.add("a", 5)).resolves.toBe(5);
    expect(calls).toBe(4);
  });

  it("addMany: one promise for many items, batched with add()'s by key, answered in the items' order", async () => {
    const sent: Array<[string, number[]]> = [];
    const b = new TickBatcher<number, number>(async (key, items) => {
      sent.push([key, [...items]]);
      return items.map((i) => i * 10);
    });
    const lone = b.add("even", 0);
    const many = b.addMany(
      [1, 2, 3, 4],
      (x) => (x % 2 === 0 ? "even" : "odd"),
      (x) => x + 100,
    );
    expect(await many).toEqual([1010, 1020, 1030, 1040]);
    expect(await lone).toBe(0);
    expect(sent).toEqual([
      ["even", [0, 102, 104]],
      ["odd", [101, 103]],
    ]);
    expect(
      await b.addMany(
        [],
        () => "k",
        (x: number) => x,
      ),
    ).toEqual([]);
  });

  it("addMany rejects, once, when any of its batches fails; the other keys' callers are answered", async () => {
    const b = new TickBatcher<number, number>(async (key, items) => {
      if (key === "bad") throw new Error("store down");
      return items;
    });
    const other = b.add("good", 7);
    const many = b.addMany(
      [1, 2, 3],
      (x) => (x === 2 ? "bad" : "good"),
      (x) => x,
    );
    await expect(many).rejects.toThrow("store down");
    expect(await other).toBe(7);
  });

  it("addMany splits at maxBatch like add()", async () => {
    const { b, sizes } = echoing(4);
    const all = Array.from({ length: 10 }, (_, i) => i);
    expect(
      await b.addMany(
        all,
        () => "k",
        (x) => x,
      ),
    ).toEqual(all);
    expect(sizes).toEqual([4, 4, 2]);
  });
});
