import fc from "fast-check";
import { describe, it } from "vitest";
import { type DueSchedule, ScheduleStore } from "../../src/agents/schedules/schedule-store.js";
import type { JsonObject } from "../../src/index.js";
import { property, same } from "../helpers/fuzz/twin-checks.js";
import { payload } from "../helpers/fuzz/twin-ledger-ops.js";
import { dump, onBoth, twinStoresOfFile } from "../helpers/fuzz/twin-stores.js";

/**
 * Differential fuzz of the recurring-schedule scripts (src/agents/schedules) against their
 * embedded-engine twins, as test/fuzz/engine-twins.test.ts says: the same random operations on
 * memory:// and on a redis-server of the test's own; after every step the answers and a raw dump
 * of both keyspaces must be equal, the values made from the engine's own clock normalised (named
 * where they are).
 */

const stores = twinStoresOfFile();

const PAST = Date.UTC(2001, 0, 1);
const FUTURE = Date.UTC(2200, 0, 1);

type ScheduleOp =
  | { op: "upsert"; id: string; every: number | string; at: "past" | "future"; payload: JsonObject }
  | { op: "remove"; id: string }
  | { op: "get"; id: string }
  | { op: "list" }
  | { op: "page"; limit: number; cursor: string | undefined; maxBytes: number | undefined }
  | { op: "due"; max: number }
  | { op: "advance"; id: string; read: "due" | "other"; next: "past" | "future"; k: number };

const scheduleIdArb = fc.constantFrom("s1", "s2", "s-ü");
const scheduleOps: fc.Arbitrary<ScheduleOp[]> = fc.array(
  fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({
        op: fc.constant("upsert" as const),
        id: scheduleIdArb,
        every: fc.constantFrom<number | string>(1000, 60_000, "*/5 * * * *"),
        at: fc.constantFrom("past" as const, "future" as const),
        payload,
      }),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant("remove" as const), id: scheduleIdArb }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant("get" as const), id: scheduleIdArb }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant("list" as const) }) },
    {
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant("page" as const),
        limit: fc.constantFrom(1, 2, 3),
        cursor: fc.constantFrom(undefined, "s1", "s2", "s-"),
        // Small byte bounds cut a page after one row or two (rows are ~100-300 bytes).
        maxBytes: fc.constantFrom(undefined, 1, 150, 300, 600),
      }),
    },
    { weight: 2, arbitrary: fc.record({ op: fc.constant("due" as const), max: fc.constantFrom(1, 10) }) },
    {
      weight: 4,
      arbitrary: fc.record({
        op: fc.constant("advance" as const),
        id: scheduleIdArb,
        read: fc.constantFrom("due" as const, "due" as const, "other" as const),
        next: fc.constantFrom("past" as const, "future" as const),
        k: fc.integer({ min: 1, max: 50 }),
      }),
    },
  ),
  { minLength: 5, maxLength: 30 },
);

async function runSchedules(ops: ScheduleOp[]): Promise<void> {
  await stores.run(
    "engine-twins-schedules",
    (client) => ({ client, schedules: new ScheduleStore(client), due: [] as DueSchedule[] }),
    ops,
    async (op, sides, log) => {
      const answers = await onBoth(sides, async (s) => {
        switch (op.op) {
          case "upsert": {
            const input = {
              schedule_id: op.id,
              ...(typeof op.every === "number" ? { every_ms: op.every } : { cron: op.every }),
              task: { task_type: "echo", payload: op.payload },
            };
            return s.schedules.upsert(input, op.at === "past" ? PAST : FUTURE);
          }
          case "remove":
            return s.schedules.remove(op.id);
          case "get":
            return s.schedules.get(op.id);
          case "list":
            return s.schedules.list();
          case "page":
            return s.schedules.page({ limit: op.limit, cursor: op.cursor, maxBytes: op.maxBytes });
          case "due": {
            const r = await s.schedules.due(op.max);
            s.due = r.due;
            // nowMs is the engine's clock.
            return { earliestMs: r.earliestMs, due: r.due };
          }
          case "advance": {
            const from = s.due.find((d) => d.id === op.id);
            const due: DueSchedule =
              op.read === "due" && from !== undefined
                ? from
                : {
                    id: op.id,
                    dueRaw: "123",
                    spec: { schedule_id: op.id, every_ms: 1000, task: { task_type: "echo", payload: {} } },
                  };
            const next = (op.next === "past" ? PAST : FUTURE) + op.k * 1000;
            const taskId = `${op.id}@${new Date(next).toISOString()}`;
            return s.schedules.advance(due, next, taskId, new Date(next).toISOString());
          }
        }
      });
      same(log, `the answer to ${op.op}`, answers);
      const dumps = await onBoth(sides, (s) => dump(s.client));
      same(log, `the raw keyspace after ${op.op}`, dumps);
    },
  );
}

describe("engine twins: every Lua script and its memory:// twin answer and write the same", () => {
  it("recurring schedules", ...property(scheduleOps, runSchedules, 20));
});
