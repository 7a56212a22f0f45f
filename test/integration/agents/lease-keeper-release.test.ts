import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LeaseKeeper } from "../../../src/agents/distributor/lease-keeper.js";
import { RedisClient } from "../../../src/index.js";
import { testEngines } from "../../helpers/engines.js";

/**
 * A distributor that stops hands its lease back: a take still on its way when release() is
 * called must not leave the lease held (until its TTL) by a run that has gone, or a restart
 * under the same id waits for it.
 */

const engines = testEngines("lease-keeper");

describe.each(engines)("LeaseKeeper on $name", (engine) => {
  const open: RedisClient[] = [];
  async function client(): Promise<RedisClient> {
    const c = new RedisClient(engine.config());
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

  it("a release while the lease is being taken leaves it free, and the keeper takes nothing more", async () => {
    const store = await client();
    const keeper = new LeaseKeeper(store, "distributor:d1", "d1", 3000);
    const taking = keeper.keep(); // in flight, as a lease timer's pass when stop() comes
    await keeper.release();
    expect(await taking).toBe(false);
    expect(keeper.owns).toBe(false);
    expect(await store.getLease("distributor:d1")).toBeNull();
    expect(await keeper.keep()).toBe(false); // a timer firing after the stop
    expect(await store.getLease("distributor:d1")).toBeNull();
    // A restart under the same id takes it at once.
    const next = new LeaseKeeper(store, "distributor:d1", "d1", 3000);
    expect(await next.acquire()).toBe(true);
    await next.release();
    expect(await store.getLease("distributor:d1")).toBeNull();
  });

  it("a release of a lease held gives it back", async () => {
    const store = await client();
    const keeper = new LeaseKeeper(store, "distributor:d2", "d2", 3000);
    expect(await keeper.keep()).toBe(true);
    expect((await store.getLease("distributor:d2"))?.owner).toBe("d2");
    await keeper.release();
    expect(keeper.owns).toBe(false);
    expect(await store.getLease("distributor:d2")).toBeNull();
  });
});
