import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { addWhenTheyAnswer, type CoordinatorFound, discoverCoordinators } from "../../../src/cli/peer.js";
import { silentLogger } from "../../../src/core/logger.js";
import { captureLogger, type LogEntry } from "../../helpers/capture-logger.js";
import { freePort } from "../../helpers/free-port.js";

/**
 * `triad distributor --coordinator URL1,URL2,...` (README "Several coordinators": "they use the
 * first that answers ... list the coordinators in a different order for each distributor"): the
 * list's order is the preference. The first URL that answers is the current coordinator even
 * when a later one answers sooner; the next is tried only once one does not answer.
 */

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.closeAllConnections();
          s.close(() => resolve());
        }),
    ),
  );
});

/** A fake coordinator: GET /a2a answers its agent id after `delayMs` (never, for "hang"). */
async function fakeCoordinator(id: string, delayMs: number | "hang" = 0, port = 0): Promise<string> {
  const server = createServer((req, res) => {
    if (req.url !== "/a2a") return res.writeHead(404).end();
    if (delayMs === "hang") return;
    setTimeout(() => res.end(JSON.stringify({ agent_id: id, protocol: "triad-a2a" })), delayMs);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const ids = (list: Array<{ id: string }>) => list.map((c) => c.id);

describe("discoverCoordinators: the --coordinator list in order of preference", () => {
  it("takes the first of the list that answers, even when a later one answers sooner", async () => {
    const slow = await fakeCoordinator("c1", 300);
    const fast = await fakeCoordinator("c2", 0);
    const { first, rest } = await discoverCoordinators([slow, fast], silentLogger);
    expect(first).toEqual({ id: "c1", url: slow });
    expect(ids(rest.ready)).toEqual(["c2"]); // answered by then: the one to move to
    expect(rest.later).toEqual([]);

    // The other order, the other coordinator: what spreads distributors over coordinators.
    const swapped = await discoverCoordinators([fast, slow], silentLogger);
    expect(swapped.first).toEqual({ id: "c2", url: fast });
  });

  it("moves to the next when one refuses the connection, and adds it once it answers", async () => {
    const downPort = await freePort();
    const down = `http://127.0.0.1:${downPort}`;
    const up = await fakeCoordinator("c2", 50);
    const { first, rest } = await discoverCoordinators([down, up], silentLogger);
    expect(first).toEqual({ id: "c2", url: up });
    expect(rest.ready).toEqual([]);
    expect(rest.later).toHaveLength(1);
    await fakeCoordinator("c1", 0, downPort); // the first of the list comes up: it joins the failover list
    expect(await rest.later[0]).toEqual({ id: "c1", url: down });
  });

  it("keeps asking one that did not answer by giveUpMs: it joins the failover list whenever it comes up", async () => {
    const downPort = await freePort();
    const down = `http://127.0.0.1:${downPort}`;
    const up = await fakeCoordinator("c2", 0);
    const { first, rest } = await discoverCoordinators([down, up], silentLogger, { giveUpMs: 200 });
    expect(first).toEqual({ id: "c2", url: up });
    let joined: unknown = null;
    const later = rest.later[0]!.then(
      (c) => (joined = c),
      (err: unknown) => (joined = err),
    );
    // Past giveUpMs, still down: not given up on.
    await new Promise((r) => setTimeout(r, 600));
    expect(joined).toBeNull();
    await fakeCoordinator("c1", 0, downPort); // restarted, say, after the distributor's coordinator died
    await later;
    expect(joined).toEqual({ id: "c1", url: down });
  });

  it("moves to the next when one does not answer within the timeout", async () => {
    const hung = await fakeCoordinator("c1", "hang");
    const up = await fakeCoordinator("c2", 0);
    const { first } = await discoverCoordinators([hung, up], silentLogger, { answerWithinMs: 200 });
    expect(first).toEqual({ id: "c2", url: up });
  });

  it("lists the others in the order the list goes round from the current one (the failover order)", async () => {
    const a = `http://127.0.0.1:${await freePort()}`; // refuses
    const b = await fakeCoordinator("b", 200); // answers last: c and d have answered by then
    const c = await fakeCoordinator("c", 0);
    const d = await fakeCoordinator("d", 0);
    const { first, rest } = await discoverCoordinators([a, b, c, d], silentLogger);
    expect(first.id).toBe("b");
    expect(ids(rest.ready)).toEqual(["c", "d"]);
    expect(rest.later).toHaveLength(1); // a, after d
  });

  it("fails, naming the URL, when none answers in time; refuses a list without a URL", async () => {
    const down = `http://127.0.0.1:${await freePort()}`;
    await expect(discoverCoordinators([down], silentLogger, { giveUpMs: 300 })).rejects.toThrow(
      /no Triad agent answered at http:\/\/127\.0\.0\.1:\d+\/a2a within 300 ms/,
    );
    await expect(discoverCoordinators([], silentLogger)).rejects.toThrow(/at least one URL/);
  });
});

/**
 * The coordinators that answer late join the failover list (`addWhenTheyAnswer`). A failure there
 * (an add that throws, a promise that rejects after all) was an unhandled rejection, which ends
 * the distributor (exit 1): it is logged with its code, and the others are added all the same.
 */
describe("coordinators that answer late", () => {
  it("a failure to add one is logged with its code, not an unhandled rejection; the others join", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const entries: LogEntry[] = [];
      const added: string[] = [];
      const later: Array<Promise<CoordinatorFound>> = [
        Promise.resolve({ id: "c-bad", url: "http://127.0.0.1:1" }),
        Promise.reject(Object.assign(new Error("asked no more"), { code: "ERR_TEST_ASK" })),
        Promise.resolve({ id: "c2", url: "http://127.0.0.1:2" }),
      ];
      await addWhenTheyAnswer(
        later,
        (c) => {
          if (c.id === "c-bad") throw new Error("not a coordinator id");
          added.push(c.id);
        },
        captureLogger(entries),
      );
      await new Promise((r) => setImmediate(r));
      expect(added).toEqual(["c2"]);
      expect(entries.filter((e) => e.level === "error").map((e) => e.fields.code)).toEqual([
        "ERR_COORDINATOR_NOT_ADDED",
        "ERR_TEST_ASK",
      ]);
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });
});
