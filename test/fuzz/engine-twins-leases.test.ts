import fc from "fast-check";
import { describe, it } from "vitest";
import type { JsonValue, RedisClient } from "../../src/index.js";
import { property, same } from "../helpers/fuzz/twin-checks.js";
import { dump, onBoth, twinStoresOfFile } from "../helpers/fuzz/twin-stores.js";

/**
 * Differential fuzz of the lease and transaction scripts (src/core/store/scripts) against their
 * embedded-engine twins, as test/fuzz/engine-twins.test.ts says: the same random operations on
 * memory:// and on a redis-server of the test's own; after every step the answers and a raw dump
 * of both keyspaces must be equal, the values made from the engine's own clock normalised (named
 * where they are).
 */

const stores = twinStoresOfFile();

type LeaseOp =
  | { op: "acquire"; key: string; owner: string; ttl: number }
  | { op: "renew"; key: string; owner: string; ttl: number; token: "none" | "current" | "other" }
  | { op: "release"; key: string; owner: string; token: "none" | "current" | "other" }
  | { op: "get"; key: string }
  | { op: "transaction"; key: string; update: "incr" | "reset" | "string" };

const leaseKey = fc.constantFrom("l1", "shared-state:d1");
const owner = fc.constantFrom("o1", "o2");
const tokenChoice = fc.constantFrom("none" as const, "current" as const, "other" as const);
const leaseOps: fc.Arbitrary<LeaseOp[]> = fc.array(
  fc.oneof(
    fc.record({ op: fc.constant("acquire" as const), key: leaseKey, owner, ttl: fc.constantFrom(30, 60.5) }),
    fc.record({
      op: fc.constant("renew" as const),
      key: leaseKey,
      owner,
      ttl: fc.constantFrom(30, 90),
      token: tokenChoice,
    }),
    fc.record({ op: fc.constant("release" as const), key: leaseKey, owner, token: tokenChoice }),
    fc.record({ op: fc.constant("get" as const), key: leaseKey }),
    fc.record({
      op: fc.constant("transaction" as const),
      key: fc.constantFrom("k1", "k2"),
      update: fc.constantFrom("incr" as const, "reset" as const, "string" as const),
    }),
  ),
  { minLength: 5, maxLength: 25 },
);

async function runLeases(ops: LeaseOp[]): Promise<void> {
  await stores.run(
    "engine-twins-lease",
    (client) => ({ client }),
    ops,
    async (op, sides, log) => {
      const tokenOf = async (c: RedisClient, key: string, t: "none" | "current" | "other") => {
        if (t === "none") return undefined;
        const current = (await c.getLease(key))?.token ?? 0;
        return t === "current" ? current : current + 7;
      };
      const answers = await onBoth(sides, async ({ client: c }) => {
        switch (op.op) {
          case "acquire":
            return c.acquireLeaseToken(op.key, op.owner, op.ttl);
          case "renew":
            return c.renewLease(op.key, op.owner, op.ttl, await tokenOf(c, op.key, op.token));
          case "release":
            return c.releaseLease(op.key, op.owner, await tokenOf(c, op.key, op.token));
          case "get": {
            const lease = await c.getLease(op.key);
            // acquired_at and expires_at are the engine's clock (TIME): compared as "present".
            return lease === null
              ? null
              : { owner: lease.owner, token: lease.token, times: "<engine clock>" };
          }
          case "transaction":
            return c.transaction<JsonValue>(op.key, (cur) =>
              op.update === "incr"
                ? typeof cur === "number"
                  ? cur + 1
                  : 1
                : op.update === "reset"
                  ? 0
                  : "s/ü",
            );
        }
      });
      same(log, `the answer to ${op.op}`, answers);
      const dumps = await onBoth(sides, async ({ client: c }) => {
        const d = await dump(c);
        // A lease's acquired_at is the engine's clock.
        for (const [key, entry] of Object.entries(d))
          if (entry.type === "hash" && /^\{lease:/.test(key))
            entry.value = { ...(entry.value as object), acquired_at: "<engine clock>" };
        return d;
      });
      same(log, `the raw keyspace after ${op.op}`, dumps);
    },
  );
}

describe("engine twins: every Lua script and its memory:// twin answer and write the same", () => {
  it("leases and transaction", ...property(leaseOps, runLeases, 20));
});
