import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LimitStore } from "../../../src/agents/limits/limit-store.js";
import type { TriadError } from "../../../src/core/errors.js";
import { RedisClient } from "../../../src/index.js";
import { testEngines } from "../../helpers/engines.js";
import { servedCoordinatorPerSuite } from "../../helpers/served-cluster.js";

/**
 * PUT /limits/<new type> added a limit record for each new type without end. Now there may be
 * at most limits.maxLimits types with a limit (default 1,000): one more is refused atomically in
 * the store with ERR_TOO_MANY_LIMITS; changing a type's limit is not one more.
 */
describe.each(testEngines("limit-cap", { cluster: true }))("the limit cap on $name", (engine) => {
  let store: RedisClient;
  let limits: LimitStore;
  beforeAll(async () => {
    await engine.setup();
    store = new RedisClient(engine.config());
    expect(await store.connect()).toBe(true);
    limits = new LimitStore(store);
  }, 60_000);
  afterAll(async () => {
    await store.disconnect();
    await engine.teardown();
  });

  it("refuses the (max+1)th type, lets a change of one in, and one new type after a removal", async () => {
    for (const type of ["t1", "t2", "t3"]) expect(await limits.set(type, { concurrency: 1 }, 3)).toBe(false);
    const refused = await limits.set("t4", { concurrency: 1 }, 3).catch((e: TriadError) => e);
    expect((refused as TriadError).code).toBe("ERR_TOO_MANY_LIMITS");
    expect((refused as TriadError).details?.status).toBe(409);
    expect((await limits.list()).map((l) => l.task_type).sort()).toEqual(["t1", "t2", "t3"]);
    expect(await limits.set("t2", { concurrency: 5 }, 3)).toBe(true);
    expect(await limits.remove("t1")).toBe(true);
    const racing = await Promise.allSettled(
      ["r1", "r2", "r3"].map((t) => limits.set(t, { concurrency: 1 }, 3)),
    );
    expect(racing.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(await limits.list()).toHaveLength(3);
  });
});

describe("PUT /limits past limits.maxLimits", () => {
  const { call } = servedCoordinatorPerSuite("limit-cap-http", { limits: { maxLimits: 2 } });

  it("409 ERR_TOO_MANY_LIMITS for a third type; changing one of the two is fine", async () => {
    expect((await call("PUT", "/limits/a", { concurrency: 1 })).status).toBe(201);
    expect((await call("PUT", "/limits/b", { concurrency: 1 })).status).toBe(201);
    const r = await call("PUT", "/limits/c", { concurrency: 1 });
    expect(r.status).toBe(409);
    expect(r.json.error.code).toBe("ERR_TOO_MANY_LIMITS");
    expect((await call("PUT", "/limits/a", { concurrency: 4 })).status).toBe(200);
    expect((await call("GET", "/limits")).json.limits).toHaveLength(2);
  });
});
