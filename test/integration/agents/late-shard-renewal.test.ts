import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ShardLeases } from "../../../src/agents/coordinator/shard-leases.js";
import { shardTag } from "../../../src/agents/ledger/shards.js";
import type { StoreScript } from "../../../src/core/store/index.js";
import { RedisClient } from "../../../src/index.js";
import { testEngines } from "../../helpers/engines.js";

/**
 * A coordinator late to renew its shard leases (its event loop stalled past their TTL) renews
 * those nobody took meanwhile: it does not give up and take back every shard, rescanning each,
 * at every stall. One that another coordinator held meanwhile is lost, as before.
 */

type Leases = { held: Map<number, { value: string; until: number }> };

const GET_LUA = "return redis.call('GET', KEYS[1]) or ''";
const readOwner: StoreScript = {
  name: "test-read-owner",
  numKeys: 1,
  lua: GET_LUA,
  sha1: createHash("sha1").update(GET_LUA).digest("hex"),
  memory: (db, [key]) => db.get(key!) ?? "",
};
const DEL_LUA = "return redis.call('DEL', KEYS[1])";
const dropOwner: StoreScript = {
  name: "test-drop-owner",
  numKeys: 1,
  lua: DEL_LUA,
  sha1: createHash("sha1").update(DEL_LUA).digest("hex"),
  memory: (db, [key]) => db.del(key!),
};
const SHARDS = 16;
/**
 * Long: no lease lapses by itself, however slow a tick is on a loaded machine. The stall is made
 * by the test (see stall): the leases gone in the store, the coordinator's own deadlines passed.
 */
const TTL_MS = 60_000;

describe.each(testEngines("late-shard-renewal"))("late shard renewals on $name", (engine) => {
  const open: RedisClient[] = [];
  async function client(): Promise<RedisClient> {
    const c = new RedisClient(engine.config());
    expect(await c.connect()).toBe(true);
    open.push(c);
    return c;
  }
  beforeAll(() => engine.setup(), 60_000);
  afterAll(async () => {
    for (const c of open) await c.disconnect();
    await engine.teardown();
  });

  function leasesOf(store: RedisClient, id: string) {
    const moves = { gained: [] as number[], lost: [] as number[] };
    const leases = new ShardLeases({
      coordinatorId: id,
      store,
      shards: SHARDS,
      ttlMs: TTL_MS,
      members: () => [id],
      gained: (s) => {
        moves.gained.push(...s);
      },
      lost: (s) => {
        moves.lost.push(...s);
      },
    });
    return { leases, moves };
  }
  /**
   * A stall past the TTL of `leases`: every lease has expired in the store (removed, as its expiry
   * would) and, on the coordinator's own clock, its deadline has passed.
   */
  async function stall(store: RedisClient, leases: ShardLeases): Promise<void> {
    for (let s = 0; s < SHARDS; s++) await store.runScript(dropOwner, [`${shardTag(s)}owner`], []);
    for (const held of (leases as unknown as Leases).held.values()) held.until = 0;
  }
  const every = Array.from({ length: SHARDS }, (_, s) => s);

  it("renews leases that expired while it stalled and nobody took: nothing lost, nothing regained", async () => {
    const store = await client();
    const { leases, moves } = leasesOf(store, "c1");
    await leases.tick();
    expect(leases.owned()).toEqual(every);
    const values = every.map((s) => leases.ownerValue(s));
    await stall(store, leases);
    expect(leases.owned()).toEqual([]); // past its own deadline, it acts for no shard
    await leases.tick();
    expect(leases.owned()).toEqual(every);
    expect(every.map((s) => leases.ownerValue(s))).toEqual(values); // the same grants
    expect(moves).toEqual({ gained: every, lost: [] }); // one gain at start, no churn
    expect(await store.runScript(readOwner, [`${shardTag(0)}owner`], [])).toBe(values[0]);
  });

  it("loses a lease another coordinator held meanwhile, even when it is free again", async () => {
    const store = await client();
    const c1 = leasesOf(store, "c1");
    await c1.leases.tick();
    const before = c1.leases.ownerValue(0);
    await stall(store, c1.leases);
    const c2 = leasesOf(store, "c2");
    await c2.leases.tick(); // takes every free shard...
    expect(c2.leases.owned()).toEqual(every);
    await c2.leases.releaseAll(); // ...and leaves
    await c1.leases.tick();
    expect(c1.moves.lost).toEqual(every); // its grants moved on: lost, then taken anew
    expect(c1.leases.owned()).toEqual(every);
    expect(c1.leases.ownerValue(0)).not.toBe(before);
  });
});
