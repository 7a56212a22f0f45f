import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TaskLedger } from "../../../src/agents/ledger/task-ledger.js";
import { ScheduleKeeper } from "../../../src/agents/schedules/schedule-keeper.js";
import { ScheduleStore } from "../../../src/agents/schedules/schedule-store.js";
import type { JsonObject } from "../../../src/core/json.js";
import { RedisClient } from "../../../src/index.js";
import { RedisServer, uniquePrefix } from "../../helpers/redis-server.js";
import { sleep, until } from "../../helpers/wait.js";

/**
 * Ticks that fall while Redis is down (docs/DESIGN.md "Recurring schedules"): once a look
 * succeeds again, only the latest tick missed fires — as Celery beat and BullMQ's repeatable
 * jobs do, no burst of catch-up tasks — and none fires twice. Redis only: the embedded
 * memory:// engine cannot be down (its stand-still case is in schedules.test.ts).
 */
describe.skipIf(Boolean(process.env.REDIS_URL))(
  "schedule ticks missed while Redis is down (own redis-server, AOF on)",
  () => {
    let server: RedisServer;
    beforeAll(async () => {
      server = await RedisServer.start({ appendOnly: true });
    }, 60_000);
    afterAll(async () => {
      await server.destroy();
    });

    it("fires only the latest missed tick after Redis comes back, once, then ticks on", async () => {
      const EVERY = 1000;
      const store = new RedisClient({ url: server.url, keyPrefix: uniquePrefix("schedule-outage") });
      expect(await store.connect()).toBe(true);
      const ledger = new TaskLedger(store);
      const schedules = new ScheduleStore(store);
      const fired: number[] = [];
      const submit = async (task: JsonObject) => {
        const created = await ledger.submit({
          taskId: String(task.task_id),
          taskType: String(task.task_type),
          payload: task.payload as JsonObject,
          createdAt: String(task.created_at),
          maxRetries: 0,
          backoffMs: 0,
        });
        if (created) fired.push(Date.parse(String(task.task_id).slice("beat@".length)));
        return created;
      };
      await schedules.upsert({ schedule_id: "beat", every_ms: EVERY, task: { task_type: "echo" } });
      const keeper = new ScheduleKeeper(schedules, { submit, pollMs: 100 });
      keeper.start();
      try {
        await until("two ticks fire", () => fired.length >= 2);
        await server.stop();
        const downAt = Date.now();
        const lastBefore = fired.at(-1)!;
        const atDown = fired.length;
        await sleep(3.5 * EVERY); // three ticks fall while the store is down
        // Read before the restart: once the server is up again, before restart() returns on a
        // loaded machine, the keeper may rightly fire the latest tick.
        expect(fired.length, "nothing fired while the store was down").toBe(atDown);
        // Taken as the restart begins: the first look that works comes after it, however long
        // the restart takes, so the latest tick missed is at least upAt - EVERY.
        const upAt = Date.now();
        await server.restart();
        await until("a tick fires after the store is back", () => fired.some((t) => t >= upAt - EVERY));
        await until("the schedule ticks on", () => fired.filter((t) => t >= upAt).length >= 2);
        const after = fired.filter((t) => t > lastBefore);
        // The ticks that fell while it was down collapse into the latest at the first look that
        // worked: none of those before the restart's own tick period fires.
        const missed = after.filter((t) => t > downAt && t < upAt - EVERY);
        expect(missed, "ticks of the outage fired one by one").toEqual([]);
        expect(after[0]!, "the first tick after the outage is the latest one missed").toBeGreaterThanOrEqual(
          upAt - EVERY,
        );
        expect(new Set(fired).size, "each tick fired once").toBe(fired.length);
        for (let k = 1; k < fired.length; k++) expect(fired[k]! % EVERY).toBe(0);
      } finally {
        keeper.stop();
        await store.disconnect();
      }
    }, 60_000);
  },
);
