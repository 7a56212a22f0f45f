import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisClient } from "../../../src/index.js";
import { RedisCluster } from "../../helpers/redis-cluster.js";
import { uniquePrefix } from "../../helpers/redis-server.js";

/**
 * What Redis Cluster adds to the store's promises (the rest is the conformance suite): keys
 * spread over the masters, a client that follows MOVED and ASK while a slot moves between
 * nodes, and scripts whose keys share a hash tag running whole on one node.
 */

describe("store on Redis Cluster", () => {
  let cluster: RedisCluster;
  const open: RedisClient[] = [];
  async function client(keyPrefix = uniquePrefix("cluster")): Promise<RedisClient> {
    const c = new RedisClient({ url: cluster.url, keyPrefix });
    expect(await c.connect()).toBe(true);
    open.push(c);
    return c;
  }

  beforeAll(async () => {
    cluster = await RedisCluster.start(3);
  }, 60_000);
  afterAll(async () => {
    for (const c of open) await c.disconnect();
    await cluster?.destroy();
  });

  it("speaks to the cluster through any one of its nodes, and spreads keys over every master", async () => {
    const c = new RedisClient({ url: `redis+cluster://127.0.0.1:${cluster.ports[1]}`, keyPrefix: "spread:" });
    expect(await c.connect()).toBe(true);
    open.push(c);
    for (let i = 0; i < 60; i++) await c.set(`key-${i}`, { i });
    for (let i = 0; i < 60; i++) expect(await c.get(`key-${i}`)).toEqual({ i });
    const perNode = await Promise.all(cluster.ports.map((p) => cluster.command(p, "DBSIZE")));
    expect(perNode.map(Number).every((n) => n > 0)).toBe(true);
    expect(perNode.map(Number).reduce((a, b) => a + b, 0)).toBe(60);
  });

  it("takes the nodes as cluster.rootNodes too", async () => {
    const c = new RedisClient({
      cluster: { rootNodes: cluster.ports.map((p) => `redis://127.0.0.1:${p}`) },
      keyPrefix: uniquePrefix("roots"),
    });
    expect(await c.connect()).toBe(true);
    open.push(c);
    await c.set("x", 1);
    expect(await c.get("x")).toBe(1);
  });

  it("connect() says false when no node answers", async () => {
    const c = new RedisClient({ url: "redis+cluster://127.0.0.1:1", connectTimeoutMs: 300 });
    expect(await c.connect()).toBe(false);
  });

  it("follows ASK while a slot migrates and MOVED after it moved, without losing a write", async () => {
    const c = await client("migrate:");
    const key = "{moving}:a";
    await c.set(key, "before");
    const full = c.key(key);
    const slot = await cluster.command(cluster.ports[0]!, "CLUSTER", "KEYSLOT", full);
    const from = await cluster.masterOf(full);
    const to = cluster.ports.find((p) => p !== from)!;
    const fromId = await cluster.command(from, "CLUSTER", "MYID");
    const toId = await cluster.command(to, "CLUSTER", "MYID");

    await cluster.command(to, "CLUSTER", "SETSLOT", slot, "IMPORTING", fromId);
    await cluster.command(from, "CLUSTER", "SETSLOT", slot, "MIGRATING", toId);
    // A key still on the old node is served there; a new key of the slot is answered with ASK.
    expect(await c.get(key)).toBe("before");
    await c.set("{moving}:b", "new during migration");
    await cluster.command(from, "MIGRATE", "127.0.0.1", String(to), "", "0", "5000", "KEYS", full);
    expect(await c.get(key)).toBe("before"); // ASK to the node it went to
    expect(await c.get("{moving}:b")).toBe("new during migration");

    for (const port of cluster.ports) await cluster.command(port, "CLUSTER", "SETSLOT", slot, "NODE", toId);
    await c.set(key, "after"); // MOVED: the client learns the new owner
    expect(await c.get(key)).toBe("after");
    expect(await cluster.command(to, "GET", full)).toBe('"after"');
    // The key created during the migration was created where ASK sent it: on the new node.
    expect(await cluster.command(to, "EXISTS", c.key("{moving}:b"))).toBe("1");
    expect(await cluster.masterOf(full)).toBe(to);
  });

  it("runs a lease (two keys, one hash tag) on one node, wherever its slot is", async () => {
    const c = await client();
    const owners = ["a", "b", "c", "d", "e", "f"];
    for (const owner of owners) {
      expect(await c.acquireLease(`lease-${owner}`, owner, 5)).toBe(true);
      expect((await c.getLease(`lease-${owner}`))?.owner).toBe(owner);
    }
    const nodes = new Set(
      await Promise.all(owners.map((o) => cluster.masterOf(c.key(`{lease:lease-${o}}`)))),
    );
    expect(nodes.size).toBeGreaterThan(1);
  });

  it("delivers published messages on channels of every node (sharded pub/sub), counting receivers", async () => {
    const pub = await client();
    const sub = await client(pub.keyPrefix);
    const channels = Array.from({ length: 8 }, (_, i) => `ch-${i}`);
    const got = new Map<string, unknown>();
    let gotAll!: () => void;
    const all = new Promise<void>((resolve) => {
      gotAll = resolve;
    });
    // Resolves once every node has confirmed its SSUBSCRIBE.
    await sub.subscribe(channels, (channel, data) => {
      got.set(channel, data);
      if (got.size === channels.length) gotAll();
    });
    for (const ch of channels) expect(await pub.publish(ch, { ch })).toBe(1);
    await all;
    for (const ch of channels) expect(got.get(ch)).toEqual({ ch });
    const nodes = new Set(await Promise.all(channels.map((ch) => cluster.masterOf(pub.key(ch)))));
    expect(nodes.size).toBeGreaterThan(1);
    await sub.unsubscribe();
    expect(await pub.publish("ch-0", "gone")).toBe(0);
  });
});
