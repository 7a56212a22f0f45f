import { describe, expect, it } from "vitest";
import { MemoryKeyspace } from "../../../src/core/store/engines/memory/keyspace.js";

/** The embedded engine's sorted sets answer as Redis' ZADD / ZREM / ZSCORE / ZRANGE BYSCORE do. */
describe("MemoryKeyspace sorted sets", () => {
  it("orders by score, then member; updates a score in place; drops the key when emptied", () => {
    const db = new MemoryKeyspace();
    expect(db.zadd("z", 30, "c")).toBe(1);
    expect(db.zadd("z", 10, "b")).toBe(1);
    expect(db.zadd("z", 10, "a")).toBe(1);
    expect(db.zadd("z", 20, "c")).toBe(0);
    expect(db.zrangeByScore("z", Number.POSITIVE_INFINITY)).toEqual([
      ["a", 10],
      ["b", 10],
      ["c", 20],
    ]);
    expect(db.zrangeByScore("z", 15)).toEqual([
      ["a", 10],
      ["b", 10],
    ]);
    expect(db.zrangeByScore("z", 100, 1)).toEqual([["a", 10]]);
    expect(db.zscore("z", "c")).toBe(20);
    expect(db.zscore("z", "x")).toBeNull();
    expect(db.zrem("z", "a")).toBe(1);
    expect(db.zrem("z", "a")).toBe(0);
    expect(db.zcard("z")).toBe(2);
    db.zrem("z", "b");
    db.zrem("z", "c");
    expect(db.exists("z")).toBe(false);
    db.sadd("s", "m");
    expect(() => db.zadd("s", 1, "m")).toThrow(/WRONGTYPE/);
  });
});
