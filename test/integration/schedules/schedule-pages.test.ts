import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { upsertSchedule } from "../../../src/agents/schedules/schedule-scripts.js";
import { SCHEDULE_PAGE_BYTES } from "../../../src/agents/schedules/schedule-spec.js";
import { ScheduleStore } from "../../../src/agents/schedules/schedule-store.js";
import type { TriadError } from "../../../src/core/errors.js";
import { canonicalJson } from "../../../src/core/messaging/canonical-json.js";
import { RedisClient } from "../../../src/index.js";
import { testEngines } from "../../helpers/engines.js";

/**
 * GET /schedules read every schedule in one store call and answered them all (2,000 schedules
 * of 50 KB payloads: 100 MB in one answer), and nothing bounded how many there could be. Now a
 * page is one bounded call, in id order after a cursor, and a new schedule past the most there
 * may be is refused atomically; the same on memory://, Redis and Redis Cluster.
 */
describe.each(testEngines("schedule-pages", { cluster: true }))("schedule pages on $name", (engine) => {
  let store: RedisClient;
  beforeAll(async () => {
    await engine.setup();
  }, 60_000);
  afterAll(async () => {
    await store?.disconnect();
    await engine.teardown();
  });
  /** A store of its own (a fresh key prefix): the schedules of one test only. */
  const fresh = async (): Promise<ScheduleStore> => {
    await store?.disconnect();
    store = new RedisClient(engine.config());
    expect(await store.connect()).toBe(true);
    return new ScheduleStore(store);
  };
  const every = (id: string, payload = {}) => ({
    schedule_id: id,
    every_ms: 60_000,
    task: { task_type: "echo", payload },
  });
  /** Reply rows of each page-schedules call: what one call read from the store. */
  const pageReplies = (): number[] => {
    const sizes: number[] = [];
    const run = store.runScript.bind(store);
    store.runScript = (async (...args: Parameters<RedisClient["runScript"]>) => {
      const reply = await run(...args);
      if (args[0].name === "page-schedules") sizes.push((reply as [string, unknown[]])[1].length);
      return reply;
    }) as RedisClient["runScript"];
    return sizes;
  };

  it("pages return every schedule exactly once, in id order, each page one call of at most limit", async () => {
    const schedules = await fresh();
    // Ids whose code-unit and byte orders differ (U+FF5E against one beyond U+FFFF) and mixed case.
    const ids = Array.from({ length: 53 }, (_, i) => `s${String(i).padStart(3, "0")}`);
    ids.push("B", "a", "z\u{ff5e}", "z\u{1f600}");
    for (const id of ids) await schedules.upsert(every(id, { pad: "x".repeat(1000) }));
    const sizes = pageReplies();
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await schedules.page({ limit: 7, cursor });
      expect(page.schedules.length).toBeLessThanOrEqual(7);
      seen.push(...page.schedules.map((s) => s.schedule_id));
      cursor = page.next_cursor ?? undefined;
      pages++;
    } while (cursor !== undefined);
    expect(pages).toBe(Math.ceil(ids.length / 7));
    expect(sizes.every((n) => n <= 7)).toBe(true);
    expect(new Set(seen).size).toBe(seen.length);
    const bytewise = [...ids].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect(seen).toEqual(bytewise);
    // The default page is 100; list() reads every one a page at a time.
    expect((await schedules.page()).schedules).toHaveLength(ids.length);
    expect((await schedules.list()).map((s) => s.schedule_id)).toEqual(bytewise);
  });

  it("a page is bounded by bytes too: schedules of 1 MiB make pages of a few, every one listed once", async () => {
    const schedules = await fresh();
    // Ten schedules of ~1 MiB (the POST body's bound): 100 of them in one page were a 100 MiB answer.
    const big = "x".repeat(1024 * 1024 - 200);
    const ids = Array.from({ length: 10 }, (_, i) => `big${i}`);
    for (const id of ids) await schedules.upsert(every(id, { pad: big }));
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await schedules.page({ limit: 100, cursor });
      const bytes = page.schedules.reduce((n, s) => n + Buffer.byteLength(JSON.stringify(s)), 0);
      expect(page.schedules.length).toBeGreaterThanOrEqual(1);
      expect(bytes).toBeLessThanOrEqual(SCHEDULE_PAGE_BYTES + 64 * 1024);
      seen.push(...page.schedules.map((s) => s.schedule_id));
      cursor = page.next_cursor ?? undefined;
      pages++;
    } while (cursor !== undefined);
    expect(seen).toEqual(ids);
    expect(pages).toBeGreaterThanOrEqual(Math.ceil((10 * 1024 * 1024) / SCHEDULE_PAGE_BYTES));
  }, 60_000);

  it("a schedule larger than the byte bound makes a page of its own; the page's cursor goes on after it", async () => {
    const schedules = await fresh();
    for (const id of ["a", "b", "c", "d", "e"]) await schedules.upsert(every(id, { pad: "é".repeat(300) }));
    // Each record is over 600 bytes (é is two in UTF-8): a bound of 1000 holds one; of 1800, two.
    const pageIds = async (maxBytes: number) => {
      const out: string[][] = [];
      let cursor: string | undefined;
      do {
        const page = await schedules.page({ limit: 10, cursor, maxBytes });
        out.push(page.schedules.map((s) => s.schedule_id));
        cursor = page.next_cursor ?? undefined;
      } while (cursor !== undefined);
      return out;
    };
    expect(await pageIds(1)).toEqual([["a"], ["b"], ["c"], ["d"], ["e"]]);
    expect(await pageIds(1000)).toEqual([["a"], ["b"], ["c"], ["d"], ["e"]]);
    expect(await pageIds(1800)).toEqual([["a", "b"], ["c", "d"], ["e"]]);
    // The count bound still holds under a large byte bound, and the last page says so.
    expect(await pageIds(10_000_000)).toEqual([["a", "b", "c", "d", "e"]]);
    expect((await schedules.page({ limit: 5, maxBytes: 10_000_000 })).next_cursor).toBeNull();
  });

  it("a schedule added or removed between pages does not move the others", async () => {
    const schedules = await fresh();
    for (const id of ["b", "d", "f", "h", "j"]) await schedules.upsert(every(id));
    const first = await schedules.page({ limit: 2 });
    expect(first.schedules.map((s) => s.schedule_id)).toEqual(["b", "d"]);
    await schedules.remove("b");
    await schedules.remove("f");
    await schedules.upsert(every("a"));
    await schedules.upsert(every("g"));
    const rest = await schedules.page({ limit: 10, cursor: first.next_cursor! });
    expect(rest.schedules.map((s) => s.schedule_id)).toEqual(["g", "h", "j"]);
    expect(rest.next_cursor).toBeNull();
  });

  it("schedules recorded before the id index (an older coordinator) are paged all the same", async () => {
    const schedules = await fresh();
    await schedules.upsert(every("new"));
    // As an older upsert wrote them: the definition and the fire time, no id index.
    for (const id of ["old1", "old2"]) {
      const spec = { schedule_id: id, every_ms: 60_000, task: { task_type: "echo", payload: {} } };
      await store.runScript(
        upsertSchedule,
        ["{schedules}:def"],
        [store.key("{schedules}:"), id, canonicalJson(spec), Date.now() + 60_000],
      );
    }
    await store.delete("{schedules}:ids");
    const page = await schedules.page({ limit: 10 });
    expect(page.schedules.map((s) => s.schedule_id)).toEqual(["new", "old1", "old2"]);
  });

  it("refuses the schedule past the most there may be, atomically; a replacement is not a new one", async () => {
    const schedules = await fresh();
    const now = Date.now();
    for (const id of ["c1", "c2", "c3"])
      expect((await schedules.upsert(every(id), now, 3)).outcome).toBe("created");
    const refused = await schedules.upsert(every("c4"), now, 3).catch((e: TriadError) => e);
    expect((refused as TriadError).code).toBe("ERR_TOO_MANY_SCHEDULES");
    expect((refused as TriadError).details?.status).toBe(409);
    expect(await schedules.get("c4")).toBeNull();
    // Replacing one, or sending the same again, is not a new schedule.
    expect((await schedules.upsert({ ...every("c2"), every_ms: 120_000 }, now, 3)).outcome).toBe("replaced");
    expect((await schedules.upsert({ ...every("c2"), every_ms: 120_000 }, now, 3)).outcome).toBe("unchanged");
    // Many at once past the cap: exactly as many as there is room for get in.
    await schedules.remove("c1");
    const racing = await Promise.allSettled(
      ["r1", "r2", "r3", "r4"].map((id) => schedules.upsert(every(id), now, 3)),
    );
    expect(racing.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect((await schedules.list()).length).toBe(3);
  });
});
