import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TaskLedger } from "../../../src/agents/ledger/task-ledger.js";
import { ScheduleKeeper } from "../../../src/agents/schedules/schedule-keeper.js";
import { upsertSchedule } from "../../../src/agents/schedules/schedule-scripts.js";
import { latestTick, type ScheduleSpec, ticksAfter } from "../../../src/agents/schedules/schedule-spec.js";
import { ScheduleStore } from "../../../src/agents/schedules/schedule-store.js";
import type { JsonObject } from "../../../src/core/json.js";
import { canonicalJson } from "../../../src/core/messaging/canonical-json.js";
import { RedisClient } from "../../../src/index.js";
import { testEngines } from "../../helpers/engines.js";
import { until } from "../../helpers/wait.js";

/**
 * Recurring schedules in the store: exactly one task per tick whoever fires it and however
 * often, missed ticks collapsed into the latest, the same on memory://, Redis and Redis Cluster.
 */
describe.each(testEngines("schedules", { cluster: true }))("schedules on $name", (engine) => {
  let store: RedisClient;
  let schedules: ScheduleStore;
  let ledger: TaskLedger;
  /** Submits through the ledger, whose submit script refuses an id it knows (the real idempotency). */
  const submitted: string[] = [];
  const submit = async (task: JsonObject) => {
    const created = await ledger.submit({
      taskId: String(task.task_id),
      taskType: String(task.task_type),
      payload: task.payload as JsonObject,
      createdAt: String(task.created_at),
      maxRetries: 0,
      backoffMs: 0,
    });
    if (created) submitted.push(String(task.task_id));
    return created;
  };
  beforeAll(async () => {
    await engine.setup();
    store = new RedisClient(engine.config());
    expect(await store.connect()).toBe(true);
    schedules = new ScheduleStore(store);
    ledger = new TaskLedger(store);
  }, 60_000);
  afterAll(async () => {
    await store.disconnect();
    await engine.teardown();
  });

  it("records, shows (next runs), re-applies without moving, replaces, lists and removes", async () => {
    const input = {
      schedule_id: "nightly",
      cron: "0 3 * * *",
      timezone: "Europe/Paris",
      task: { task_type: "echo", priority: 7 },
    };
    const now = Date.parse("2026-12-03T01:00:00Z");
    expect((await schedules.upsert(input, now)).outcome).toBe("created");
    const view = await schedules.get("nightly");
    expect(view).toMatchObject({
      schedule_id: "nightly",
      task: { task_type: "echo", payload: {}, priority: 7 },
    });
    expect(view!.next_runs.slice(0, 2)).toEqual(["2026-12-03T02:00:00.000Z", "2026-12-04T02:00:00.000Z"]);
    expect((await schedules.upsert(input, now + 86_400_000)).outcome).toBe("unchanged");
    expect((await schedules.get("nightly"))!.next_runs[0]).toBe("2026-12-03T02:00:00.000Z");
    expect((await schedules.upsert({ ...input, cron: "30 3 * * *" }, now)).outcome).toBe("replaced");
    expect((await schedules.get("nightly"))!.next_runs[0]).toBe("2026-12-03T02:30:00.000Z");
    expect((await schedules.list()).map((s) => s.schedule_id)).toContain("nightly");
    expect(await schedules.remove("nightly")).toBe(true);
    expect(await schedules.remove("nightly")).toBe(false);
    expect(await schedules.get("nightly")).toBeNull();
  });

  it("fires only the latest of the ticks missed, once, and moves on past it", async () => {
    const now = Date.now();
    await schedules.upsert(
      { schedule_id: "missed", every_ms: 1000, task: { task_type: "echo" } },
      now - 5500,
    );
    const keeper = new ScheduleKeeper(schedules, { submit });
    await keeper.fireDue();
    const mine = submitted.filter((id) => id.startsWith("missed@"));
    expect(mine).toHaveLength(1);
    const tick = Date.parse(mine[0]!.slice("missed@".length));
    expect(tick % 1000).toBe(0);
    expect(tick).toBeGreaterThanOrEqual(now - 1000);
    const view = (await schedules.get("missed"))!;
    expect(view.last_tick).toBe(new Date(tick).toISOString());
    expect(view.recent_task_ids).toEqual(mine);
    expect(Date.parse(view.next_runs[0]!)).toBe(tick + 1000);
    await schedules.remove("missed");
  });

  it("collapses the ticks missed while its own process stood still (SIGSTOP, a GC pause) into the latest, as after no coordinator ran", async () => {
    await schedules.upsert({ schedule_id: "stalled", every_ms: 1000, task: { task_type: "echo" } });
    const keeper = new ScheduleKeeper(schedules, { submit });
    const mine = () => submitted.filter((id) => id.startsWith("stalled@"));
    const tickOf = (id: string) => Date.parse(id.slice("stalled@".length));
    keeper.start();
    try {
      await until("the first tick fires", () => mine().length >= 1);
      const first = tickOf(mine()[0]!);
      // No timer, no I/O for 3.2 s: the ticks first+1 s and first+2 s fall while it stands still.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 3_200);
      await until("a tick after the stall fires", () => mine().length >= 2);
      const [, after] = mine().map(tickOf) as [number, number];
      expect(
        after - first,
        "the first tick fired after the stall is the latest one missed",
      ).toBeGreaterThanOrEqual(3000);
    } finally {
      keeper.stop();
      await schedules.remove("stalled");
    }
  });

  it("makes one task per tick however many keepers fire it at once, and after a crash between submit and advance", async () => {
    await schedules.upsert(
      { schedule_id: "shared", every_ms: 1000, task: { task_type: "echo" } },
      Date.now() - 1000,
    );
    const keepers = [1, 2, 3].map(() => new ScheduleKeeper(schedules, { submit }));
    await Promise.all(keepers.map((k) => k.fireDue()));
    expect(submitted.filter((id) => id.startsWith("shared@"))).toHaveLength(1);
    expect((await schedules.get("shared"))!.recent_task_ids).toHaveLength(1);
    // A keeper that submits and dies before it moves the schedule on; the next fires the same id.
    await schedules.upsert(
      { schedule_id: "crashy", every_ms: 1000, task: { task_type: "echo" } },
      Date.now() - 1000,
    );
    const dying = new ScheduleKeeper(schedules, {
      submit: async (task) => {
        await submit(task);
        throw new Error("killed");
      },
    });
    await dying.fireDue();
    const view = (await schedules.get("crashy"))!;
    expect(view.recent_task_ids).toEqual([]);
    const before = submitted.filter((id) => id.startsWith("crashy@"));
    expect(before).toHaveLength(1);
    await new ScheduleKeeper(schedules, { submit }).fireDue();
    const after = (await schedules.get("crashy"))!;
    // The same tick again (nothing new recorded), or a later one if the clock passed a second.
    const ids = submitted.filter((id) => id.startsWith("crashy@"));
    expect(new Set(ids).size).toBe(ids.length);
    expect(after.recent_task_ids[0]).toBe(ids.at(-1));
    expect(Date.parse(after.next_runs[0]!)).toBeGreaterThan(Date.parse(ids.at(-1)!.slice(7)));
    // Both fire every second: left in the store, they would be due in the tests after this one.
    for (const id of ["shared", "crashy"]) await schedules.remove(id);
  });

  it("reads only the due head of the sorted set, a batch at a time, and says when to look again", async () => {
    // Hourly, so that no h* schedule comes due again while the looks run: a minute's period was
    // crossed by a slow run now and then (a sixth due, a fourth look). Not in an hour's last seconds.
    const hour = 3_600_000;
    const left = hour - (Date.now() % hour);
    if (left < 15_000) await new Promise((r) => setTimeout(r, left + 50));
    const now = Date.now();
    const ids = ["h1", "h2", "h3", "h4", "h5"];
    for (const id of ids)
      await schedules.upsert(
        { schedule_id: id, every_ms: hour, task: { task_type: "echo" } },
        now - 2 * hour,
      );
    await schedules.upsert(
      { schedule_id: "later", every_ms: 7 * 24 * hour, task: { task_type: "echo" } },
      now,
    );
    expect((await schedules.list()).map((s) => s.schedule_id).sort()).toEqual([...ids, "later"]);
    const keeper = new ScheduleKeeper(schedules, { submit, batch: 2 });
    // Five due, two per look: three looks, the first two full (more), the last not.
    const looks: Array<Awaited<ReturnType<ScheduleKeeper["fireDue"]>>> = [];
    do looks.push(await keeper.fireDue());
    while (looks.at(-1)!.more);
    expect(looks.map((l) => l.more)).toEqual([true, true, false]);
    expect(looks.reduce((a, l) => a + l.fired, 0)).toBe(5);
    for (const id of ids) expect(submitted.filter((t) => t.startsWith(`${id}@`))).toHaveLength(1);
    // Then it looks again at the h* schedules' next tick (within the hour), not the weekly one.
    expect(looks.at(-1)!.earliestMs! - looks.at(-1)!.nowMs).toBeLessThanOrEqual(hour);
    for (const id of [...ids, "later"]) await schedules.remove(id);
  });

  it("refuses a bad schedule naming the field, and records nothing", async () => {
    const task = { task_type: "echo" };
    const bad: Array<[unknown, RegExp]> = [
      [{ schedule_id: "b", cron: "61 * * * *", task }, /^cron: /],
      [{ schedule_id: "b", cron: "* * * * * *", task }, /^cron: want five fields/],
      [{ schedule_id: "b", cron: "not a cron at all", task }, /^cron: /],
      // A hashed value is drawn at random on every parse: each look at the schedule moved its ticks.
      [{ schedule_id: "b", cron: "H * * * *", task }, /^cron: .*hashed value \(H\)/],
      [{ schedule_id: "b", cron: "0 0 H/5 * *", task }, /^cron: .*hashed value \(H\)/],
      [{ schedule_id: "b", cron: "0 0 * * THU,H", task }, /^cron: .*hashed value \(H\)/],
      [{ schedule_id: "b", cron: "* * * * *", timezone: "Mars/Olympus", task }, /^timezone: /],
      [{ schedule_id: "b", every_ms: 1000, timezone: "UTC", task }, /^timezone: only a cron/],
      [{ schedule_id: "b", cron: "* * * * *", every_ms: 5000, task }, /^cron, every_ms: give exactly one/],
      [{ schedule_id: "b", task }, /^cron, every_ms: give exactly one/],
      [{ schedule_id: "b", every_ms: 999, task }, /^every_ms: must be at least 1000 ms \(1 second\)$/],
      [{ schedule_id: "b", every_ms: 1500.5, task }, /^every_ms: must be an integer/],
      [{ schedule_id: "b", every_ms: 1e20, task }, /^every_ms: must be at most 31622400000 ms \(366 days\)$/],
      [{ schedule_id: "a b", every_ms: 1000, task }, /^schedule_id: /],
      [{ schedule_id: "b@c", every_ms: 1000, task }, /^schedule_id: /],
      [{ schedule_id: "b", every_ms: 1000, task: {} }, /^task.task_type: /],
      [{ schedule_id: "b", every_ms: 1000, task: { task_type: "echo", task_id: "x" } }, /^task.task_id: /],
      [{ schedule_id: "b", every_ms: 1000, task: { task_type: "echo", payload: [] } }, /^task.payload: /],
      [{ schedule_id: "b", every_ms: 1000, task: { task_type: "echo", priority: 10 } }, /^task.priority: /],
      [
        { schedule_id: "b", every_ms: 1000, task: { task_type: "echo", run_at: "2026-12-03T01:00:00Z" } },
        /^task.run_at: /,
      ],
      [{ schedule_id: "b", every_ms: 1000, task, extra: 1 }, /extra|Unrecognized/],
      [
        { schedule_id: "b", every_ms: 1000, task: { task_type: "echo", delay_ms: 5 } },
        /^task: Unrecognized key/,
      ],
      [
        { schedule_id: "b", every_ms: 1000, task: { task_type: "echo", expires_at: "2000-01-01T00:00:00Z" } },
        /^task.expires_at: 2000-01-01T00:00:00Z has passed/,
      ],
    ];
    for (const [input, why] of bad) {
      const err = await schedules.upsert(input).catch((e: unknown) => e);
      expect(err, JSON.stringify(input)).toMatchObject({ code: "ERR_INVALID_SCHEDULE" });
      expect((err as Error).message, JSON.stringify(input)).toMatch(why);
    }
    expect(await schedules.get("b")).toBeNull();
    // A day name with an H in it is a name, not a hashed value.
    const thursdays = { schedule_id: "thursdays", cron: "0 0 * * THU", task };
    expect((await schedules.upsert(thursdays)).outcome).toBe("created");
    expect(await schedules.remove("thursdays")).toBe(true);
  });

  it("ticks a schedule stored with a hashed H value (before H was refused) on times drawn from its id: the same on every read, every coordinator and every fire", async () => {
    // Written straight into the store, past checkSchedule, as an earlier release recorded it.
    const spec: ScheduleSpec = {
      schedule_id: "hashed",
      cron: "H H * * *",
      task: { task_type: "echo", payload: {} },
    };
    const day = 86_400_000;
    const stored = Date.now() - 2 * day;
    await store.runScript(
      upsertSchedule,
      ["{schedules}:def"],
      [store.key("{schedules}:"), spec.schedule_id, canonicalJson(spec), stored],
    );
    const other = new RedisClient(engine.config(store.keyPrefix));
    expect(await other.connect()).toBe(true);
    try {
      const runs = async (s: ScheduleStore) => (await s.get("hashed"))!.next_runs;
      const first = await runs(schedules);
      expect(first[0]).toBe(new Date(stored).toISOString());
      // Once a day at one minute of one hour, the same whoever reads it and however often.
      const daily = first.slice(1).map(Date.parse);
      for (const [i, t] of daily.entries()) if (i > 0) expect(t - daily[i - 1]!).toBe(day);
      for (let read = 0; read < 5; read++) expect(await runs(schedules)).toEqual(first);
      expect(await runs(new ScheduleStore(other))).toEqual(first);
      // Fired: the latest tick by the same draw, and then the next one after it.
      await new ScheduleKeeper(new ScheduleStore(other), { submit }).fireDue();
      const mine = submitted.filter((id) => id.startsWith("hashed@"));
      expect(mine).toHaveLength(1);
      const tick = Date.parse(mine[0]!.slice("hashed@".length));
      expect(tick).toBe(latestTick(spec, Date.now()));
      expect((tick - daily[0]!) % day).toBe(0);
      const after = await runs(schedules);
      expect(Date.parse(after[0]!)).toBe(tick + day);
      expect(await runs(new ScheduleStore(other))).toEqual(after);
    } finally {
      await other.disconnect();
      await schedules.remove("hashed");
    }
  });
});

describe("fire times", () => {
  it("follow the cron fields in the time zone given, and every_ms on multiples of it since the epoch", () => {
    const at = Date.parse("2026-12-03T02:47:10Z");
    const cron = {
      schedule_id: "c",
      cron: "0 9 * * 1-5",
      timezone: "America/New_York",
      task: { task_type: "e", payload: {} },
    };
    expect(ticksAfter(cron, at, 3).map((t) => new Date(t).toISOString())).toEqual([
      "2026-12-03T14:00:00.000Z",
      "2026-12-04T14:00:00.000Z",
      "2026-12-07T14:00:00.000Z",
    ]);
    const every = { schedule_id: "e", every_ms: 60_000, task: { task_type: "e", payload: {} } };
    expect(ticksAfter(every, at, 2).map((t) => new Date(t).toISOString())).toEqual([
      "2026-12-03T02:48:00.000Z",
      "2026-12-03T02:49:00.000Z",
    ]);
  });
});
