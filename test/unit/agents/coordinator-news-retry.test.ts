import { afterEach, describe, expect, it } from "vitest";
import { CoordinatorPeers, type CoordinatorView } from "../../../src/agents/coordinator/coordinator-peers.js";
import { RedisClient } from "../../../src/index.js";
import { until } from "../../helpers/wait.js";

/**
 * News between coordinators is a hint, but one that failed to go out (the store failing for a
 * moment) is not dropped: it goes out with the next flush — at the latest the next tick — and the
 * failure is told once per outage.
 */
describe("news between coordinators", () => {
  const clients: RedisClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.disconnect();
  });

  it("a publish that failed is sent again at the next flush, the failure told once", async () => {
    const url = `memory://news-retry-${process.pid}-${Date.now()}`;
    const keyPrefix = "n:";
    const client = async () => {
      const c = new RedisClient({ url, keyPrefix });
      expect(await c.connect()).toBe(true);
      clients.push(c);
      return c;
    };
    const storeA = await client();
    const storeB = await client();
    // a's publishes fail while `failing` holds.
    let failing = false;
    let refused = 0;
    const publish = storeA.publish.bind(storeA);
    storeA.publish = (channel, message) => {
      if (!failing) return publish(channel, message);
      refused++;
      return Promise.reject(new Error("store down"));
    };
    const view = (id: string): CoordinatorView => ({
      id,
      url: null,
      started_at: "",
      shards: [],
      stats: {},
      distributors: [],
    });
    const told: number[] = [];
    const heardByB: string[] = [];
    const a = new CoordinatorPeers({
      coordinatorId: "a",
      store: storeA,
      ttlMs: 60_000,
      view: () => view("a"),
      ended: () => {},
      unplaced: () => {},
      watched: () => {},
      newsFailed: (_err, ids) => told.push(ids),
    });
    const b = new CoordinatorPeers({
      coordinatorId: "b",
      store: storeB,
      ttlMs: 60_000,
      view: () => view("b"),
      ended: () => {},
      unplaced: (ids) => heardByB.push(...ids),
      watched: () => {},
    });
    await b.start();
    await a.start();
    // Heard while the store works.
    a.handOff("before");
    await until("b hears the first news", () => heardByB.includes("before"));
    failing = true;
    a.handOff("lost-1");
    await until("the first news is refused", () => refused >= 1);
    a.handOff("lost-2");
    await until("the second news is refused too", () => refused >= 2);
    failing = false;
    await a.tick(); // the tick sends what failed, without waiting for new news
    await until("b hears the news that failed", () =>
      ["lost-1", "lost-2"].every((id) => heardByB.includes(id)),
    );
    expect(heardByB.filter((id) => id === "lost-1")).toHaveLength(1);
    // Told once per outage (with the ids then waiting), not once per failed publish.
    expect(told).toEqual([1]);
    await a.stop();
    await b.stop();
  });
});
