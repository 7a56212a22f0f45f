import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisClient } from "../../../src/index.js";
import { RedisServer, uniquePrefix } from "../../helpers/redis-server.js";

/**
 * A command issued on Redis leaves in this tick's socket write, not after the rest of the event
 * loop's turn (node-redis's own scheduling: setImmediate), and the commands issued together
 * still leave in one write (src/core/store/engines/written-soon.ts).
 */

describe("commands on Redis are written at the end of the tick", () => {
  let server: RedisServer;
  let client: RedisClient;
  const writes: string[] = [];
  const write = Reflect.get(net.Socket.prototype, "_writeGeneric") as (...args: unknown[]) => unknown;

  beforeAll(async () => {
    server = await RedisServer.start();
    client = new RedisClient({ url: server.url, keyPrefix: uniquePrefix("soon") });
    await client.connect();
    // Every write to this test's redis-server, in order with what else the test notes.
    const port = Number(new URL(server.url).port);
    Reflect.set(net.Socket.prototype, "_writeGeneric", function (this: net.Socket, ...args: unknown[]) {
      if (this.remotePort === port) writes.push("write");
      return write.apply(this, args);
    });
  });
  afterAll(async () => {
    Reflect.set(net.Socket.prototype, "_writeGeneric", write);
    await client?.disconnect();
    await server?.destroy();
  });

  it("before an immediate queued earlier in the same turn, the commands of the tick in one write", async () => {
    const replies = await new Promise<unknown[]>((resolve, reject) => {
      // From a timer, as from any I/O callback: node-redis alone writes in the check phase,
      // after the immediate queued here.
      setTimeout(() => {
        writes.length = 0;
        // (The reply may come before it runs, the write went out so early: both are awaited.)
        const immediate = new Promise<void>((ran) => setImmediate(() => ran(void writes.push("immediate"))));
        const sent = Promise.all([client.set("a", 1), client.set("b", 2), client.get("a")]);
        Promise.all([sent, immediate]).then(([replies]) => resolve(replies), reject);
      }, 1);
    });
    expect(replies).toEqual([true, true, 1]);
    expect(writes, writes.join(" ")).toEqual(["write", "immediate"]); // three commands, one write
  });

  it("leaves setImmediate as it was", async () => {
    await client.get("a");
    const order: string[] = [];
    await new Promise<void>((resolve) => {
      setImmediate(() => {
        order.push("immediate");
        resolve();
      });
      process.nextTick(() => order.push("tick"));
    });
    expect(order).toEqual(["tick", "immediate"]);
  });
});
