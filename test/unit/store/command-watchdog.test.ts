import { once } from "node:events";
import { createConnection, createServer, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { CommandWatchdog } from "../../../src/core/store/engines/command-watchdog.js";
import { StoreOutage } from "../../../src/core/store/store-outage.js";

/** Every store command gets a deadline from one sweeping timer, not a timer of its own. */

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe("CommandWatchdog", () => {
  it("passes replies and errors through, in whatever order they come", async () => {
    const now = 0;
    const dog = new CommandWatchdog(
      5000,
      () => "redis://test",
      () => now,
    );
    const a = deferred<string>();
    const b = deferred<string>();
    const pa = dog.watch(a.promise);
    const pb = dog.watch(b.promise);
    b.resolve("second first");
    a.reject(new Error("boom"));
    expect(await pb).toBe("second first");
    await expect(pa).rejects.toThrow("boom");
    expect(dog.pending).toBe(0);
    dog.stop();
  });

  it("refuses, at the sweep after its deadline, a command with no reply; a later reply changes nothing", async () => {
    let now = 0;
    const dog = new CommandWatchdog(
      5000,
      () => "redis://test",
      () => now,
    );
    const stuck = deferred<string>();
    const fresh = deferred<string>();
    const p1 = dog.watch(stuck.promise);
    now = 3000;
    const p2 = dog.watch(fresh.promise);
    now = 4999;
    dog.sweep();
    expect(dog.pending).toBe(2);
    now = 5000;
    dog.sweep();
    await expect(p1).rejects.toMatchObject({ code: "ERR_STORE_TIMEOUT" });
    expect(dog.pending).toBe(1); // the younger one still waits
    stuck.resolve("too late");
    fresh.resolve("in time");
    expect(await p2).toBe("in time");
    expect(dog.pending).toBe(0);
    dog.stop();
  });

  it("a reply that came while the process was too busy to read it is a reply, not a timeout nor an outage", async () => {
    // A store answering at once, and a process that then does not get the CPU for longer than the
    // deadline (a busy loop here, a loaded machine in CI): the reply waits in the socket, and the
    // sweep, first of the next turn of the event loop, used to refuse it as ERR_STORE_TIMEOUT and
    // start a store outage ("store unavailable" in the log) with Redis up all along.
    const server = createServer((socket) =>
      socket
        .on("error", () => {})
        .on("data", () => {
          socket.write("pong");
          const until = performance.now() + 1000;
          while (performance.now() < until) {
            // the process busy: the pong reaches the client's socket meanwhile, unread
          }
        }),
    );
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const client: Socket = createConnection((server.address() as { port: number }).port, "127.0.0.1");
    await once(client, "connect");
    const failures: unknown[] = [];
    const dog = new CommandWatchdog(300, () => "redis://test", undefined, undefined, {
      answered: () => {},
      failed: (err) => failures.push(err),
    });
    try {
      const reply = new Promise<string>((resolve) =>
        client.once("data", (d: Buffer) => resolve(d.toString())),
      );
      const watched = dog.watch(reply);
      client.write("ping");
      expect(await watched).toBe("pong");
      expect(failures).toEqual([]);
    } finally {
      dog.stop();
      client.destroy();
      server.close();
    }
  });

  it("a command sent during an outage that times out after the store is back starts no new outage", async () => {
    // Redis restarted: the commands that waited in the offline queue are sent, most answered at
    // once; on a loaded machine one's reply is still on its way when the sweep finds it past its
    // deadline. It was logged twice: "store unavailable" again, then "store available again".
    let now = 0;
    const outage = new StoreOutage(1000, () => now);
    const told: string[] = [];
    outage.listen({ down: () => told.push("down"), up: () => told.push("up") });
    const dog = new CommandWatchdog(
      5000,
      () => "redis://test",
      () => now,
      undefined,
      outage,
    );
    const lost = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
    await expect(dog.watch(Promise.reject(lost))).rejects.toMatchObject({ code: "ERR_STORE_UNAVAILABLE" });
    now = 100;
    const queued = deferred<string>();
    const late = dog.watch(queued.promise);
    now = 1500;
    expect(await dog.watch(Promise.resolve("back"))).toBe("back");
    expect(told).toEqual(["down", "up"]);
    now = 5100;
    dog.sweep();
    await expect(late).rejects.toMatchObject({ code: "ERR_STORE_TIMEOUT" });
    expect(told).toEqual(["down", "up"]);
    expect(outage.down).toBe(false);
    // A command sent after the end that times out is a new outage.
    const stuck = dog.watch(deferred<string>().promise);
    now = 10_200;
    dog.sweep();
    await expect(stuck).rejects.toMatchObject({ code: "ERR_STORE_TIMEOUT" });
    expect(told).toEqual(["down", "up", "down"]);
    dog.stop();
  });

  it("keeps its queue short however many commands go through", async () => {
    const dog = new CommandWatchdog(5000, () => "redis://test");
    for (let i = 0; i < 5000; i++) expect(await dog.watch(Promise.resolve(i))).toBe(i);
    expect((dog as unknown as { queue: unknown[] }).queue.length).toBe(0);
    dog.stop();
  });

  it("names the command, or the script, that failed in its error (a log of it tells which call it was)", async () => {
    let now = 0;
    const dog = new CommandWatchdog(
      5000,
      () => "redis://test",
      () => now,
    );
    const down = () => Promise.reject(new Error("CLUSTERDOWN The cluster is down"));
    await expect(dog.watch(down(), "EVALSHA", "assign-unplaced-1")).rejects.toMatchObject({
      code: "ERR_STORE_UNAVAILABLE",
      message: expect.stringContaining("(CLUSTERDOWN The cluster is down; script assign-unplaced-1)"),
    });
    await expect(dog.watch(down(), "SET")).rejects.toMatchObject({
      message: expect.stringContaining("(CLUSTERDOWN The cluster is down; SET)"),
    });
    await expect(dog.watch(down())).rejects.toMatchObject({
      message: expect.stringContaining("(CLUSTERDOWN The cluster is down)"),
    });
    // Any other error is the store's own, as it was.
    await expect(dog.watch(Promise.reject(new Error("ERR boom")), "GET")).rejects.toThrow(/^ERR boom$/);
    const stuck = dog.watch(new Promise(() => {}), "EVALSHA", "commit-1");
    now = 5000;
    dog.sweep();
    await expect(stuck).rejects.toMatchObject({
      code: "ERR_STORE_TIMEOUT",
      message: expect.stringContaining("within 5000 ms to script commit-1"),
    });
    dog.stop();
  });
});
