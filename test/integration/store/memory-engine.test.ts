import { afterEach, describe, expect, it } from "vitest";
import { MemoryKeyspace } from "../../../src/core/store/engines/memory/keyspace.js";
import { dropMemoryServer, RedisClient } from "../../../src/index.js";
import { until } from "../../helpers/wait.js";

describe("the embedded memory:// engine", () => {
  const names: string[] = [];
  afterEach(() => {
    for (const n of names.splice(0)) dropMemoryServer(n);
  });

  it("clients naming the same memory://name share one store; other names are apart", async () => {
    names.push("shared-a", "shared-b");
    const a1 = new RedisClient({ url: "memory://shared-a" });
    const a2 = new RedisClient({ url: "memory://shared-a" });
    const b = new RedisClient({ url: "memory://shared-b" });
    for (const c of [a1, a2, b]) expect(await c.connect()).toBe(true);
    await a1.set("k", { from: "a1" });
    expect(await a2.get("k")).toEqual({ from: "a1" });
    expect(await b.get("k")).toBeNull();
  });

  it("plain memory:// is one default store for the whole process", async () => {
    const a = new RedisClient({ url: "memory://", keyPrefix: "default-test:" });
    const b = new RedisClient({ url: "memory://", keyPrefix: "default-test:" });
    await a.connect();
    await b.connect();
    await a.set("x", 7);
    expect(await b.get("x")).toBe(7);
    await a.delete("x");
  });

  it("drops expired keys that nobody reads again", async () => {
    names.push("sweep");
    const c = new RedisClient({ url: "memory://sweep" });
    await c.connect();
    for (let i = 0; i < 500; i++) await c.set(`k${i}`, i, 0.05);
    const keyspace = (c.engine as unknown as { server: { keyspace: { size: number } } }).server.keyspace;
    expect(keyspace.size).toBe(500);
    // Nobody reads them again: the engine's own sweep drops them.
    await until("the expired keys are swept", () => keyspace.size === 0, 5_000, 25);
    await c.disconnect();
  });

  it("keeps at most maxRetired retired keys, oldest dropped first; a key written again since is not dropped", () => {
    const ks = new MemoryKeyspace();
    ks.maxRetired = 3;
    for (const k of ["a", "b", "c"]) {
      ks.hset(k, { v: k });
      ks.pexpire(k, 60_000);
      ks.retire(k);
    }
    ks.del("b");
    ks.hset("b", { v: "new" }); // a new key of that name, with no expiry: its old turn must not take it
    for (const k of ["d", "e"]) {
      ks.hset(k, { v: k });
      ks.pexpire(k, 60_000);
      ks.retire(k);
    }
    expect(["a", "b", "c", "d", "e"].filter((k) => ks.exists(k))).toEqual(["b", "c", "d", "e"]);
    ks.hset("f", { v: "f" });
    ks.pexpire("f", 60_000);
    ks.retire("f");
    expect(["a", "b", "c", "d", "e", "f"].filter((k) => ks.exists(k))).toEqual(["b", "d", "e", "f"]);
  });

  it("drops a retired key's companions with it, unless the key itself no longer expires", () => {
    const ks = new MemoryKeyspace();
    ks.maxRetired = 1;
    const expiring = (k: string) => {
      ks.sadd(k, "x");
      ks.pexpire(k, 60_000);
    };
    for (const k of ["rec:a", "deps:a", "rec:b", "deps:b", "rec:c"]) expiring(k);
    ks.retire("rec:a", ["deps:a"]);
    ks.retire("rec:b", ["deps:b"]);
    expect(["rec:a", "deps:a", "rec:b", "deps:b"].filter((k) => ks.exists(k))).toEqual(["rec:b", "deps:b"]);
    ks.del("rec:b");
    ks.sadd("rec:b", "new"); // a new key of that name, with no expiry
    ks.retire("rec:c");
    // rec:b was written to keep: neither it nor what goes with it is dropped in its turn.
    expect(["rec:b", "deps:b", "rec:c"].filter((k) => ks.exists(k))).toEqual(["rec:b", "deps:b", "rec:c"]);
  });
});
