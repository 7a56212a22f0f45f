import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisClient, type RedisConfig } from "../../../src/index.js";
import { testEngines } from "../../helpers/engines.js";
import { sleep, until } from "../../helpers/wait.js";

/**
 * The store's promises, checked unchanged against every engine: the embedded memory:// engine,
 * a real redis-server started by this file (or REDIS_URL) and a 3-master Redis Cluster started
 * by this file (or REDIS_CLUSTER_URL).
 */

const engines = testEngines("store", { cluster: true });

/** Resolves once the store has dropped `key` (its TTL ran out), polled with a deadline. */
async function expired(c: RedisClient, key: string): Promise<void> {
  await until(`${key} expires`, async () => !(await c.exists(key)), 5_000, 25);
}

/** Resolves once the lease `name` has expired (no owner), polled with a deadline. */
async function leaseExpired(c: RedisClient, name: string): Promise<void> {
  await until(`lease ${name} expires`, async () => (await c.getLease(name)) === null, 5_000, 25);
}

describe.each(engines)("store on $name", (engine) => {
  const open: RedisClient[] = [];
  async function client(config: RedisConfig = engine.config()): Promise<RedisClient> {
    const c = new RedisClient(config);
    expect(await c.connect()).toBe(true);
    open.push(c);
    return c;
  }

  beforeAll(async () => {
    await engine.setup();
  }, 60_000);
  afterAll(async () => {
    for (const c of open) await c.disconnect();
    await engine.teardown();
  });

  describe("values", () => {
    it("stores JSON and gives it back parsed", async () => {
      const c = await client();
      const doc = { data: "value", n: 3.5, list: [1, "two", null, { deep: true }] };
      expect(await c.set("doc", doc)).toBe(true);
      expect(await c.get("doc")).toEqual(doc);
      await c.set("list", [1, 2, 3]);
      expect(await c.get("list")).toEqual([1, 2, 3]);
      await c.set("flag", false);
      expect(await c.get("flag")).toBe(false);
    });

    it("gives plain strings back as strings, never as numbers or objects", async () => {
      const c = await client();
      await c.set("s", "hello");
      expect(await c.get("s")).toBe("hello");
      await c.set("digits", "42");
      expect(await c.get("digits")).toBe("42");
      await c.set("looks-like-json", '{"a":1}');
      expect(await c.get("looks-like-json")).toBe('{"a":1}');
      await c.set("n", 42);
      expect(await c.get("n")).toBe(42);
    });

    it("reads a raw string another program wrote", async () => {
      const c = await client();
      await c.engine.set(c.key("raw"), "not json at all");
      expect(await c.get("raw")).toBe("not json at all");
    });

    it("returns null for a key that does not exist", async () => {
      const c = await client();
      expect(await c.get("missing")).toBeNull();
      expect(await c.exists("missing")).toBe(false);
    });

    it("deletes, and tells whether something was deleted", async () => {
      const c = await client();
      await c.set("gone", { a: 1 });
      expect(await c.exists("gone")).toBe(true);
      expect(await c.delete("gone")).toBe(true);
      expect(await c.exists("gone")).toBe(false);
      expect(await c.get("gone")).toBeNull();
      expect(await c.delete("gone")).toBe(false);
    });

    it("keeps keys of different prefixes apart", async () => {
      const a = await client();
      const b = await client();
      await a.set("shared-name", "from a");
      expect(await b.get("shared-name")).toBeNull();
      await b.set("shared-name", "from b");
      expect(await a.get("shared-name")).toBe("from a");
    });
  });

  describe("TTL", () => {
    it("expires a key after its TTL and not before", async () => {
      const c = await client();
      await c.set("short", { v: 1 }, 0.3);
      await c.set("long", { v: 2 }, 60);
      expect(await c.get("short")).toEqual({ v: 1 });
      await expired(c, "short");
      expect(await c.get("short")).toBeNull();
      expect(await c.exists("short")).toBe(false);
      expect(await c.get("long")).toEqual({ v: 2 });
    });

    it("overwriting without a TTL makes the key persistent", async () => {
      const c = await client();
      await c.set("k", 1, 0.2);
      await c.set("k", 2);
      // A witness set with the same TTL after it: once the witness is gone, so would k be.
      await c.set("k-witness", 1, 0.2);
      await expired(c, "k-witness");
      expect(await c.get("k")).toBe(2);
    });
  });

  describe("incr", () => {
    it("counts from zero, by any integer amount", async () => {
      const c = await client();
      expect(await c.incr("counter")).toBe(1);
      expect(await c.incr("counter", 5)).toBe(6);
      expect(await c.incr("counter", -2)).toBe(4);
      expect(await c.get("counter")).toBe(4);
    });

    it("continues from a number stored with set", async () => {
      const c = await client();
      await c.set("ten", 10);
      expect(await c.incr("ten")).toBe(11);
    });

    it("resolves null when the key holds something that is not an integer", async () => {
      const c = await client();
      await c.set("obj", { a: 1 });
      expect(await c.incr("obj")).toBeNull();
      expect(await c.get("obj")).toEqual({ a: 1 });
    });
  });

  describe("publish/subscribe", () => {
    it("delivers parsed JSON to subscribers and counts the receivers", async () => {
      const pub = await client();
      const sub = await client({ ...engine.config(), keyPrefix: pub.keyPrefix });
      const got: Array<[string, unknown]> = [];
      let gotBoth!: () => void;
      const received = new Promise<void>((resolve) => {
        gotBoth = resolve;
      });
      // Resolves once the subscription is confirmed: a message published after it is delivered.
      await sub.subscribe(["events", "other"], (channel, data) => {
        got.push([channel, data]);
        if (got.length === 2) gotBoth();
      });
      expect(await pub.publish("events", { event: "data", n: 1 })).toBe(1);
      expect(await pub.publish("other", "plain")).toBe(1);
      await received;
      // Each message once; the order across two channels is not promised (on Redis Cluster the
      // channels' messages may reach the subscriber over different node connections).
      expect(got).toHaveLength(2);
      expect(got).toEqual(
        expect.arrayContaining([
          ["events", { event: "data", n: 1 }],
          ["other", "plain"],
        ]),
      );
    });

    it("stops delivering after unsubscribe", async () => {
      const pub = await client();
      const sub = await client({ ...engine.config(), keyPrefix: pub.keyPrefix });
      const got: unknown[] = [];
      await sub.subscribe("ch", (_c, data) => got.push(data));
      expect(await pub.publish("ch", 1)).toBe(1);
      await until("the first message is delivered", () => got.length === 1, 5_000, 10);
      await sub.unsubscribe("ch");
      expect(await pub.publish("ch", 2)).toBe(0);
      // A negative check: nothing is delivered after unsubscribe, so a fixed wait for it.
      await sleep(100);
      expect(got).toEqual([1]);
    });

    it("a callback that throws does not stop later deliveries", async () => {
      const pub = await client();
      const sub = await client({ ...engine.config(), keyPrefix: pub.keyPrefix });
      const got: unknown[] = [];
      await sub.subscribe("boom", (_c, data) => {
        got.push(data);
        throw new Error("subscriber bug");
      });
      await pub.publish("boom", 1);
      await pub.publish("boom", 2);
      await until("both messages are delivered", () => got.length === 2, 5_000, 10);
      expect(got).toEqual([1, 2]);
    });
  });

  describe("watch/transaction", () => {
    it("fifty concurrent increments from two clients end at exactly +50", async () => {
      const a = await client();
      const b = await client({ ...engine.config(), keyPrefix: a.keyPrefix });
      await a.set("tx-counter", { n: 100 });
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          (i % 2 ? a : b).transaction<{ n: number }>("tx-counter", (cur) => ({ n: (cur?.n ?? 0) + 1 })),
        ),
      );
      expect(results.every((r) => r !== null)).toBe(true);
      expect(await a.get("tx-counter")).toEqual({ n: 150 });
      // Every committed value is distinct: no two increments were applied to the same read.
      expect(new Set(results.map((r) => r?.n)).size).toBe(50);
    });

    it("creates the key when it did not exist", async () => {
      const c = await client();
      expect(await c.transaction<number>("fresh", (cur) => (cur ?? 0) + 1)).toBe(1);
      expect(await c.get("fresh")).toBe(1);
    });

    it("re-runs the update on the fresh value when another writer got in between", async () => {
      const a = await client();
      const b = await client({ ...engine.config(), keyPrefix: a.keyPrefix });
      await a.set("contended", 1);
      const seen: Array<number | null> = [];
      const result = await a.transaction<number>("contended", async (cur) => {
        seen.push(cur);
        if (seen.length === 1) await b.set("contended", 10);
        return (cur ?? 0) * 2;
      });
      expect(seen).toEqual([1, 10]);
      expect(result).toBe(20);
      expect(await a.get("contended")).toBe(20);
    });

    it("after watch, a write by someone else makes the transaction start over on the new value", async () => {
      const a = await client();
      const b = await client({ ...engine.config(), keyPrefix: a.keyPrefix });
      await a.set("watched", 1);
      expect(await a.watch("watched")).toBe(true);
      await b.set("watched", 5);
      const seen: Array<number | null> = [];
      const result = await a.transaction<number>("watched", (cur) => {
        seen.push(cur);
        return (cur ?? 0) + 1;
      });
      expect(seen).toEqual([1, 5]);
      expect(result).toBe(6);
    });

    it("resolves null when it gives up, and leaves the other writer's value", async () => {
      const a = await client();
      const b = await client({ ...engine.config(), keyPrefix: a.keyPrefix });
      await a.set("lost", 0);
      let calls = 0;
      const result = await a.transaction<number>(
        "lost",
        async () => {
          calls++;
          await b.set("lost", 1000 + calls);
          return -1;
        },
        { maxRetries: 2 },
      );
      expect(result).toBeNull();
      expect(calls).toBe(3);
      expect(await a.get("lost")).toBe(1003);
    });

    it("keeps the key's TTL", async () => {
      const c = await client();
      await c.set("ttl-tx", 1, 0.3);
      await c.transaction<number>("ttl-tx", (cur) => (cur ?? 0) + 1);
      expect(await c.get("ttl-tx")).toBe(2);
      await expired(c, "ttl-tx");
      expect(await c.get("ttl-tx")).toBeNull();
    });
  });

  describe("leases", () => {
    it("is exclusive while held, and says who holds it with a fencing token", async () => {
      const c = await client();
      expect(await c.acquireLease("shared-state", "distributor-1", 10)).toBe(true);
      expect(await c.acquireLease("shared-state", "distributor-2", 10)).toBe(false);
      expect(await c.acquireLease("shared-state", "distributor-1", 10)).toBe(false);
      const info = await c.getLease("shared-state");
      expect(info?.owner).toBe("distributor-1");
      expect(info?.token).toBeGreaterThanOrEqual(1);
      const acquired = Date.parse(info!.acquired_at);
      const expires = Date.parse(info!.expires_at);
      expect(Math.abs(acquired - Date.now())).toBeLessThan(5000);
      expect(expires - acquired).toBeGreaterThan(9000);
      expect(expires - acquired).toBeLessThanOrEqual(10_100);
    });

    it("only the owner renews or releases", async () => {
      const c = await client();
      await c.acquireLease("l", "owner-a", 1);
      expect(await c.renewLease("l", "owner-b", 30)).toBe(false);
      expect(await c.releaseLease("l", "owner-b")).toBe(false);
      expect((await c.getLease("l"))?.owner).toBe("owner-a");
      expect(await c.renewLease("l", "owner-a", 30)).toBe(true);
      const renewed = await c.getLease("l");
      expect(Date.parse(renewed!.expires_at) - Date.now()).toBeGreaterThan(20_000);
      expect(await c.releaseLease("l", "owner-a")).toBe(true);
      expect(await c.getLease("l")).toBeNull();
      expect(await c.acquireLease("l", "owner-b", 1)).toBe(true);
    });

    it("an expired lease can be taken by another owner, with a larger token", async () => {
      const c = await client();
      const first = await c.acquireLeaseToken("expiring", "old-owner", 0.2);
      expect(first).not.toBeNull();
      expect(await c.acquireLease("expiring", "new-owner", 5)).toBe(false);
      await leaseExpired(c, "expiring");
      expect(await c.getLease("expiring")).toBeNull();
      const second = await c.acquireLeaseToken("expiring", "new-owner", 5);
      expect(second).toBeGreaterThan(first!);
      // The old owner woke up late: it can neither renew nor release what is no longer its.
      expect(await c.renewLease("expiring", "old-owner", 5)).toBe(false);
      expect(await c.releaseLease("expiring", "old-owner")).toBe(false);
      expect((await c.getLease("expiring"))?.owner).toBe("new-owner");
    });

    it("the token never goes backwards across grants, releases and expiries", async () => {
      const c = await client();
      const tokens: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t = await c.acquireLeaseToken("fenced", `owner-${i}`, 0.15);
        tokens.push(t!);
        if (i % 2 === 0) await c.releaseLease("fenced", `owner-${i}`);
        else await leaseExpired(c, "fenced");
      }
      for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1]!);
    });

    it("a renewal or release naming an older grant of the same owner is refused", async () => {
      const c = await client();
      const old = await c.acquireLeaseToken("same-owner", "distributor-1", 0.15);
      await leaseExpired(c, "same-owner");
      const fresh = await c.acquireLeaseToken("same-owner", "distributor-1", 5);
      expect(fresh).toBeGreaterThan(old!);
      expect(await c.renewLease("same-owner", "distributor-1", 5, old!)).toBe(false);
      expect(await c.releaseLease("same-owner", "distributor-1", old!)).toBe(false);
      expect(await c.renewLease("same-owner", "distributor-1", 5, fresh!)).toBe(true);
      expect(await c.releaseLease("same-owner", "distributor-1", fresh!)).toBe(true);
    });
  });

  describe("bad input", () => {
    const notJson: Array<[string, unknown]> = [
      ["undefined", undefined],
      ["a function", () => 1],
      ["a BigInt", 10n],
      ["NaN", Number.NaN],
      ["a nested undefined", { a: { b: undefined } }],
      [
        "a cycle",
        (() => {
          const o: Record<string, unknown> = {};
          o.self = o;
          return o;
        })(),
      ],
    ];

    it.each(notJson)("refuses %s with ERR_INVALID_JSON and writes nothing", async (_label, value) => {
      const c = await client();
      await expect(c.set("bad", value as never)).rejects.toMatchObject({ code: "ERR_INVALID_JSON" });
      expect(await c.exists("bad")).toBe(false);
      await expect(c.publish("ch", value as never)).rejects.toMatchObject({ code: "ERR_INVALID_JSON" });
      await expect(c.transaction("bad", () => value as never)).rejects.toMatchObject({
        code: "ERR_INVALID_JSON",
      });
      expect(await c.exists("bad")).toBe(false);
    });

    it("refuses empty keys", async () => {
      const c = await client();
      await expect(c.set("", 1)).rejects.toMatchObject({ code: "ERR_INVALID_KEY" });
      await expect(c.get("")).rejects.toMatchObject({ code: "ERR_INVALID_KEY" });
    });

    it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])(
      "refuses TTL %s and writes nothing",
      async (ttl) => {
        const c = await client();
        await expect(c.set("ttl-bad", 1, ttl)).rejects.toMatchObject({ code: "ERR_INVALID_TTL" });
        expect(await c.exists("ttl-bad")).toBe(false);
        await expect(c.acquireLease("lease-bad", "o", ttl)).rejects.toMatchObject({
          code: "ERR_INVALID_TTL",
        });
        expect(await c.getLease("lease-bad")).toBeNull();
      },
    );

    it("refuses a fractional incr amount", async () => {
      const c = await client();
      await expect(c.incr("x", 1.5)).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
    });
  });

  describe("a client not connected", () => {
    // The embedded engine served a client before connect() and after disconnect(): code that
    // kept using a closed client worked on memory:// and failed on Redis.
    const everyCommand = (c: RedisClient): [string, () => Promise<unknown>][] => [
      ["get", () => c.get("nc")],
      ["set", () => c.set("nc", 1)],
      ["delete", () => c.delete("nc")],
      ["exists", () => c.exists("nc")],
      ["incr", () => c.incr("nc-count")],
      ["publish", () => c.publish("nc-ch", 1)],
      ["subscribe", () => c.subscribe("nc-ch", () => {})],
      ["transaction", () => c.transaction<number>("nc", (n) => (n ?? 0) + 1)],
      ["acquireLease", () => c.acquireLease("nc-lease", "o", 10)],
      ["getLease", () => c.getLease("nc-lease")],
    ];
    const refusesAll = async (c: RedisClient) => {
      for (const [name, command] of everyCommand(c)) {
        await expect(command(), name).rejects.toMatchObject({
          code: "ERR_NOT_CONNECTED",
          message: expect.stringContaining("call connect() first"),
          details: expect.objectContaining({ status: 503 }),
        });
      }
    };

    it("refuses every command before connect() and after disconnect() with ERR_NOT_CONNECTED, and serves again once connected", async () => {
      const c = new RedisClient(engine.config());
      open.push(c);
      await refusesAll(c);
      expect(await c.connect()).toBe(true);
      expect(await c.set("nc", 7)).toBe(true);
      await c.disconnect();
      await refusesAll(c);
      expect(await c.connect()).toBe(true);
      // Nothing refused was written: the key holds what was set while connected.
      expect(await c.get("nc")).toBe(7);
      expect(await c.getLease("nc-lease")).toBeNull();
    });
  });
});
