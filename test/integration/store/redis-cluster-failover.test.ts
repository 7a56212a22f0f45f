import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisClient } from "../../../src/index.js";
import { RedisCluster } from "../../helpers/redis-cluster.js";
import { uniquePrefix } from "../../helpers/redis-server.js";
import { sleep, until } from "../../helpers/wait.js";

/**
 * A Redis Cluster master killed with -9 while writes to its slots keep coming: until its
 * replica is promoted, every write that fails fails as "the store is unavailable" (503 at the
 * edges), never as another error; and once it is promoted the client learns the new slot map
 * within a fraction of a second (node-redis alone waited 5 s), so writes are accepted again.
 */

type Write = { start: number; end: number; ok: boolean; code?: string; message?: string };

const now = () => performance.timeOrigin + performance.now();

describe("store on Redis Cluster, a master failing over", () => {
  let cluster: RedisCluster;
  let client: RedisClient;

  beforeAll(async () => {
    cluster = await RedisCluster.start(3, { replicas: 1, nodeTimeoutMs: 1000 });
    client = new RedisClient({ url: cluster.url, keyPrefix: uniquePrefix("failover") });
    expect(await client.connect()).toBe(true);
  }, 90_000);
  afterAll(async () => {
    await client?.disconnect();
    await cluster?.destroy();
  });

  it("refuses writes as unavailable during the failover and accepts them well before node-redis' 5 s after the promotion", async () => {
    const key = "{failover}:k";
    const master = await cluster.masterOf(client.key(key));
    const replica = await cluster.replicaOf(master);
    const writes: Write[] = [];
    let stop = false;
    const pending: Promise<void>[] = [];
    const writer = (async () => {
      for (let i = 0; !stop; i++) {
        const start = now();
        pending.push(
          client.set(key, i).then(
            () => void writes.push({ start, end: now(), ok: true }),
            (err: Error & { code?: string }) =>
              void writes.push({ start, end: now(), ok: false, code: err.code, message: err.message }),
          ),
        );
        await sleep(20); // the writer's pace: one write every 20 ms
      }
    })();
    await until("writes are accepted before the kill", () => writes.filter((w) => w.ok).length >= 5, 20_000);
    const killedAt = now();
    await cluster.kill(master);
    const promotedAt = await cluster.waitForPromotion(replica);
    // Writes go on for 3 s after the promotion: none of them may be refused past the first 2 s.
    await until(
      "a write sent 3 s after the promotion is answered",
      () => writes.some((w) => w.start >= promotedAt + 3000),
      30_000,
    );
    stop = true;
    await writer;
    await Promise.all(pending);

    const failed = writes.filter((w) => !w.ok);
    expect(failed.length).toBeGreaterThan(0);
    // Unavailable (503 + Retry-After at the edges), and nothing else.
    expect(failed.filter((w) => !/^ERR_STORE_(UNAVAILABLE|TIMEOUT)$/.test(w.code ?? ""))).toEqual([]);
    const firstOk = writes
      .filter((w) => w.ok && w.start >= promotedAt)
      .reduce((min, w) => Math.min(min, w.end), Number.POSITIVE_INFINITY);
    const lastFailedStart = Math.max(...failed.map((w) => w.start));
    process.stderr.write(
      `failover: promoted ${Math.round(promotedAt - killedAt)} ms after the kill; first write accepted ` +
        `${Math.round(firstOk - promotedAt)} ms after the promotion; last refused write sent ` +
        `${Math.round(lastFailedStart - promotedAt)} ms after it; ${failed.length} of ${writes.length} refused\n`,
    );
    // Quiet, the first write is accepted a fraction of a second after the promotion; the bound leaves room for
    // a loaded machine's late timers and still tells the refresh on failure from node-redis' own
    // 5 s wait for a new slot map.
    expect(firstOk - promotedAt).toBeLessThan(2000);
    // None refused once the new map is known.
    expect(lastFailedStart - promotedAt).toBeLessThan(2000);
    expect(await client.get(key)).not.toBeNull();
  }, 60_000);

  it("moves a subscription to the promoted replica, retrying while the new node refuses it, without an unhandled rejection", async () => {
    // A channel whose master has a live replica (the test above killed one master for good).
    let channel = "";
    let master = 0;
    let replica = 0;
    for (let i = 0; replica === 0; i++) {
      channel = `news-${i}`;
      master = await cluster.masterOf(client.key(channel));
      replica = await cluster.replicaOf(master).catch(() => 0);
    }
    const received: string[] = [];
    await client.subscribe(channel, (_ch, data) => void received.push(String(data)));
    // The replica refuses the channel at first: ACLs are per node, not replicated.
    await cluster.command(replica, "ACL", "SETUSER", "default", "resetchannels");
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      await cluster.kill(master);
      await cluster.waitForPromotion(replica);
      // node-redis learns the new map and moves the subscription; the new master refuses it
      // (NOPERM, written in its ACL LOG) until the channel is allowed, then the next attempt holds.
      await until(
        "the promoted replica refuses the subscription",
        async () => /channel/.test(await cluster.command(replica, "ACL", "LOG")),
        20_000,
        50,
      );
      await cluster.command(replica, "ACL", "SETUSER", "default", "allchannels");
      let i = 0;
      await until(
        "a message published on the moved subscription is received",
        async () => {
          if (received.length > 0) return true;
          await client.publish(channel, i++).catch(() => 0);
          return false;
        },
        10_000,
        100,
      );
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
    // node-redis' own handler left the SSUBSCRIBE's NOPERM unhandled (which ends a process)
    // and the channel unsubscribed for good.
    expect(unhandled).toEqual([]);
    expect(received.length).toBeGreaterThan(0);
  }, 60_000);
});
