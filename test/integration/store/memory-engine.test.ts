import { afterEach, describe, expect, it } from "vitest";
import { dropMemoryServer, RedisClient } from "../../../src/index.js";

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
    await new Promise((r) => setTimeout(r, 700));
    expect(keyspace.size).toBe(0);
    await c.disconnect();
  });
});
