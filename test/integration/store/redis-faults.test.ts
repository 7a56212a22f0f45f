import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisClient } from "../../../src/index.js";
import { freePort } from "../../helpers/free-port.js";
import { RedisServer, uniquePrefix } from "../../helpers/redis-server.js";

/** What the store does when the Redis server is unreachable, or restarts under it. */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("store on an unreachable Redis", () => {
  it("connect() resolves false within a few seconds instead of throwing or hanging", async () => {
    const port = await freePort();
    const client = new RedisClient({ url: `redis://127.0.0.1:${port}`, connectTimeoutMs: 1000 });
    const started = performance.now();
    await expect(client.connect()).resolves.toBe(false);
    expect(performance.now() - started).toBeLessThan(5000);
    await expect(client.get("k")).rejects.toMatchObject({ code: "ERR_NOT_CONNECTED" });
  });

  it("a script sent before connect() is a rejected promise, not a throw from the call", async () => {
    // A throw escaped the ledger's batch flush (a microtask) and ended the process: a
    // coordinator's submitTask before initialize() or after cleanup() did that on Redis.
    const client = new RedisClient({ url: `redis://127.0.0.1:${await freePort()}` });
    const script = { name: "probe", numKeys: 1, lua: "return 1", sha1: "0".repeat(40), memory: () => 1 };
    let sent: Promise<unknown> | undefined;
    expect(() => {
      sent = client.runScript(script, ["k"], []);
    }).not.toThrow();
    await expect(sent).rejects.toMatchObject({ code: "ERR_NOT_CONNECTED" });
  });
});

// Restarting a server is only possible for one this test started itself, never for REDIS_URL.
describe.skipIf(Boolean(process.env.REDIS_URL))(
  "store across a Redis restart (own redis-server, AOF on)",
  () => {
    let server: RedisServer;
    beforeAll(async () => {
      server = await RedisServer.start({ appendOnly: true });
    });
    afterAll(async () => {
      await server.destroy();
    });

    it("reconnects by itself and later commands succeed, with data kept by AOF", async () => {
      const client = new RedisClient({ url: server.url, keyPrefix: uniquePrefix("restart") });
      expect(await client.connect()).toBe(true);
      await client.set("before", { kept: true });
      await client.acquireLease("lease", "owner-1", 60);
      const token = (await client.getLease("lease"))!.token;

      await server.restart({ downMs: 300 });

      // Commands issued while it reconnects wait in the offline queue, then succeed.
      expect(await client.get("before")).toEqual({ kept: true });
      expect(await client.set("after", 1)).toBe(true);
      expect(await client.incr("after")).toBe(2);
      // Lua scripts are gone from the restarted server's cache: they are sent again.
      expect((await client.getLease("lease"))?.token).toBe(token);
      expect(await client.renewLease("lease", "owner-1", 60)).toBe(true);
      await client.disconnect();
    });

    it("subscriptions come back after a reconnect", async () => {
      const prefix = uniquePrefix("resub");
      const sub = new RedisClient({ url: server.url, keyPrefix: prefix });
      const pub = new RedisClient({ url: server.url, keyPrefix: prefix });
      expect(await sub.connect()).toBe(true);
      const got: unknown[] = [];
      await sub.subscribe("news", (_c, data) => got.push(data));

      await server.restart({ hard: true, downMs: 200 });
      expect(await pub.connect()).toBe(true);

      // Publish until the resubscribed connection hears it (it comes back within its backoff).
      const deadline = performance.now() + 10_000;
      let n = 0;
      while (!got.length && performance.now() < deadline) {
        await pub.publish("news", { n: ++n });
        await sleep(100);
      }
      expect(got.length).toBeGreaterThan(0);
      expect(got[0]).toMatchObject({ n: expect.any(Number) });
      await sub.disconnect();
      await pub.disconnect();
    });
  },
);
