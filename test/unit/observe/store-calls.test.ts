import { afterEach, describe, expect, it } from "vitest";
import { countStoreCalls } from "../../../src/agents/observe/store-calls.js";
import { dropMemoryServer, RedisClient } from "../../../src/index.js";

/** Store calls are counted per command, scripts by name, without changing what the store does. */

describe("countStoreCalls", () => {
  const name = `store-calls-${process.pid}`;
  afterEach(() => dropMemoryServer(name));

  it("counts each engine call once, by command and script", async () => {
    const client = new RedisClient({ url: `memory://${name}` });
    await client.connect();
    const counts = countStoreCalls(client);
    await client.set("k", 1);
    expect(await client.get("k")).toBe(1);
    expect(await client.incr("n", 2)).toBe(2);
    expect(await client.transaction<number>("k", (v) => (v ?? 0) + 1)).toBe(2);
    expect(await client.acquireLease("l", "me", 5)).toBe(true);
    expect(Object.fromEntries(counts)).toEqual({
      SET: 1,
      GET: 2, // get, and the transaction's read
      INCRBY: 1,
      "EVALSHA:compare-and-set": 1,
      "EVALSHA:acquire-lease": 1,
    });
    expect(countStoreCalls(client)).toBe(counts); // counted once, however often asked
    await client.disconnect();
  });
});
