import fc from "fast-check";
import { describe, it } from "vitest";
import type { TaskTypeLimit } from "../../src/agents/limits/limit-spec.js";
import { LimitStore } from "../../src/agents/limits/limit-store.js";
import { property, same } from "../helpers/fuzz/twin-checks.js";
import { advanceClock, dump, onBoth, sorted, twinStoresOfFile } from "../helpers/fuzz/twin-stores.js";

/**
 * Differential fuzz of the per-task-type limit scripts (src/agents/limits) against their
 * embedded-engine twins, as test/fuzz/engine-twins.test.ts says: the same random operations on
 * memory:// and on a redis-server of the test's own; after every step the answers and a raw dump
 * of both keyspaces must be equal, the values made from the engine's own clock normalised (named
 * where they are).
 */

const stores = twinStoresOfFile();

type LimitOp =
  | { op: "set"; type: string; limit: TaskTypeLimit; max: number }
  | { op: "remove"; type: string }
  | { op: "acquire"; dist: string; items: Array<{ taskId: string; taskType: string }> }
  | { op: "bind"; items: Array<{ taskId: string; taskType: string; fence: number | null }> }
  | { op: "release"; taskId: string; value: "reservation" | "fence" | "other" }
  | { op: "read"; dist: string; waiting: Array<[string, number]>; withHolders: boolean };

const limitType = fc.constantFrom("echo", "sleep", `t${"y".repeat(70)}`);
const slotTask = fc.constantFrom("a", "b", "c", "7");
const limitOps: fc.Arbitrary<LimitOp[]> = fc.array(
  fc.oneof(
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant("set" as const),
        type: limitType,
        // Rates below one a second: a window of 333-1000 s, so that the two engines' clocks
        // (the faked one, Redis TIME) fall in the same rate buckets.
        limit: fc.oneof(
          fc.record({ concurrency: fc.integer({ min: 1, max: 3 }) }),
          fc.record({ rate_per_s: fc.constantFrom(0.001, 0.002, 0.003) }),
          fc.record({
            concurrency: fc.integer({ min: 1, max: 3 }),
            rate_per_s: fc.constantFrom(0.001, 0.003),
          }),
        ),
        // Most types with a limit: small ones refuse a new type (ERR_TOO_MANY_LIMITS) on both.
        max: fc.constantFrom(1000, 2, 1),
      }),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant("remove" as const), type: limitType }) },
    {
      weight: 4,
      arbitrary: fc.record({
        op: fc.constant("acquire" as const),
        dist: fc.constantFrom("d1", "d2"),
        items: fc.uniqueArray(fc.record({ taskId: slotTask, taskType: limitType }), {
          minLength: 1,
          maxLength: 3,
          selector: (i) => i.taskId,
        }),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        op: fc.constant("bind" as const),
        items: fc.uniqueArray(
          fc.record({ taskId: slotTask, taskType: limitType, fence: fc.constantFrom(null, 1, 2) }),
          { minLength: 1, maxLength: 3, selector: (i) => i.taskId },
        ),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant("release" as const),
        taskId: slotTask,
        value: fc.constantFrom("reservation" as const, "fence" as const, "other" as const),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant("read" as const),
        dist: fc.constantFrom("", "d1", "d2"),
        waiting: fc.array(fc.tuple(limitType, fc.integer({ min: 0, max: 3 })), { maxLength: 2 }),
        withHolders: fc.boolean(),
      }),
    },
  ),
  { minLength: 5, maxLength: 25 },
);

/** A reservation is "r:<engine clock ms>:<distributor>": its time normalised. */
const reservationShape = (v: string) => v.replace(/^r:\d+:/, "r:<engine clock>:");

async function runLimits(ops: LimitOp[]): Promise<void> {
  await stores.run(
    "engine-twins-limits",
    (client) => ({ client, limits: new LimitStore(client), reservation: "r:none" }),
    ops,
    async (op, sides, log) => {
      const answers = await onBoth(sides, async (s) => {
        switch (op.op) {
          case "set":
            return s.limits.set(op.type, op.limit, op.max);
          case "remove":
            return s.limits.remove(op.type);
          case "acquire": {
            // A reservation is "r:<ms>:<distributor>": two acquires of one distributor in the same
            // millisecond share it (on both engines). Each acquire here gets a millisecond of its
            // own on both clocks, so that the faked one (frozen between steps) and Redis TIME agree.
            if (s.client === sides.memory.client) advanceClock(2);
            await new Promise((r) => setTimeout(r, 2));
            const r = await s.limits.acquire(op.dist, op.items);
            s.reservation = r.reservation;
            return {
              reservation: reservationShape(r.reservation),
              // A rate wait is measured on the engine's clock: compared as "wait".
              verdicts: r.verdicts.map((x) => (typeof x === "number" && x > 0 ? "wait" : x)),
            };
          }
          case "bind":
            return s.limits.bind(s.reservation, op.items);
          case "release":
            return s.limits.release(
              op.taskId,
              op.value === "reservation" ? s.reservation : op.value === "fence" ? "1" : "r:0:x",
            );
          case "read": {
            const r = await s.limits.read(op.dist, new Map(op.waiting), op.withHolders);
            return {
              limits: r.limits,
              holders: sorted(r.holders.map((h) => ({ ...h, value: reservationShape(h.value) }))),
            };
          }
        }
      });
      same(log, `the answer to ${op.op}`, answers);
      const dumps = await onBoth(sides, async (s) => {
        const d = await dump(s.client);
        for (const [key, entry] of Object.entries(d)) {
          const h = entry.value as Record<string, string>;
          if (/held:/.test(key))
            entry.value = Object.fromEntries(Object.entries(h).map(([k, v]) => [k, reservationShape(v)]));
          else if (/waiting:/.test(key))
            entry.value = Object.fromEntries(
              Object.entries(h).map(([k, v]) => [k, v.replace(/:\d+$/, ":<ms>")]),
            );
          else if (/rate:/.test(key))
            // Buckets are numbered by the engine's clock: their starts are compared in total.
            entry.value = { starts: Object.values(h).reduce((n, x) => n + Number(x), 0) };
        }
        return d;
      });
      same(log, `the raw keyspace after ${op.op}`, dumps);
    },
  );
}

describe("engine twins: every Lua script and its memory:// twin answer and write the same", () => {
  it("per-task-type limits", ...property(limitOps, runLimits, 20));
});
