import { describe, expect, it } from "vitest";
import { SCHEDULE_PAGE_BYTES } from "../../../src/agents/schedules/schedule-spec.js";
import { CoordinatorAgent } from "../../../src/index.js";
import { servedCoordinatorPerSuite } from "../../helpers/served-cluster.js";

/**
 * GET /schedules answers a page (?limit=, default 100, at most 1000; ?cursor= the next_cursor of
 * the page before), no longer every schedule at once; POST /schedules past the coordinator's
 * schedules.maxSchedules is refused with 409 ERR_TOO_MANY_SCHEDULES, a replacement is not.
 */
describe("GET /schedules pages, POST /schedules is capped", () => {
  const { call } = servedCoordinatorPerSuite("schedule-pages-http", { schedules: { maxSchedules: 5 } });
  const every = (id: string, ms = 60_000) => ({ schedule_id: id, every_ms: ms, task: { task_type: "echo" } });

  it("pages through every schedule exactly once with limit and next_cursor", async () => {
    const ids = ["a?b", "c&d", "e#f", "g%h+", "i"];
    for (const id of ids) expect((await call("POST", "/schedules", every(id))).status).toBe(201);
    const seen: string[] = [];
    let path = "/schedules?limit=2";
    for (;;) {
      const r = await call("GET", path);
      expect(r.status).toBe(200);
      expect(r.json.schedules.length).toBeLessThanOrEqual(2);
      seen.push(...r.json.schedules.map((s: { schedule_id: string }) => s.schedule_id));
      if (r.json.next_cursor === null) break;
      path = `/schedules?limit=2&cursor=${encodeURIComponent(r.json.next_cursor)}`;
    }
    expect(seen).toEqual(ids);
    const all = await call("GET", "/schedules");
    expect(all.json.schedules.map((s: { schedule_id: string }) => s.schedule_id)).toEqual(ids);
    expect(all.json.next_cursor).toBeNull();
  });

  it("refuses the sixth schedule with 409 ERR_TOO_MANY_SCHEDULES; replacing one is fine", async () => {
    const r = await call("POST", "/schedules", every("sixth"));
    expect(r.status).toBe(409);
    expect(r.json.error.code).toBe("ERR_TOO_MANY_SCHEDULES");
    expect((await call("GET", "/schedules/sixth")).status).toBe(404);
    expect((await call("POST", "/schedules", every("i", 120_000))).status).toBe(200);
    expect((await call("DELETE", "/schedules/i")).status).toBe(200);
    expect((await call("POST", "/schedules", every("sixth"))).status).toBe(201);
  });

  it.each([
    ["limit=0", "ERR_INVALID_LIMIT"],
    ["limit=x", "ERR_INVALID_LIMIT"],
    ["limit=1&limit=2", "ERR_INVALID_LIMIT"],
    ["cursor=", "ERR_INVALID_CURSOR"],
    ["cursor=a&cursor=b", "ERR_INVALID_CURSOR"],
  ])("?%s: 400 %s", async (query, code) => {
    const r = await call("GET", `/schedules?${query}`);
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe(code);
  });

  it("a schedule's payload is bounded as a task's: a body over the limit is 413 ERR_BODY_TOO_LARGE", async () => {
    const big = { ...every("big"), task: { task_type: "echo", payload: { pad: "x".repeat(1024 * 1024) } } };
    const r = await call("POST", "/schedules", big);
    expect(r.status).toBe(413);
    expect(r.json.error.code).toBe("ERR_BODY_TOO_LARGE");
    expect((await call("GET", "/schedules/big")).status).toBe(404);
  });

  it("a limit above 1000 is taken as 1000", async () => {
    expect((await call("GET", "/schedules?limit=5000")).status).toBe(200);
  });

  it("schedules.maxSchedules must be an integer >= 1", () => {
    expect(
      () =>
        new CoordinatorAgent({
          agentId: "c-bad-max",
          redis: { url: "memory://schedule-pages-bad" },
          schedules: { maxSchedules: 0 },
        }),
    ).toThrow(/schedules.maxSchedules must be an integer >= 1/);
  });
});

describe("GET /schedules pages are bounded by bytes", () => {
  const { call } = servedCoordinatorPerSuite("schedule-pages-bytes");

  it("schedules near the body limit: a page holds what fits in 4 MiB, next_cursor goes on", async () => {
    // Six schedules of ~1000 KB (a POST body's limit is 1 MiB): 100 of them made a 100 MB answer.
    const ids = ["b1", "b2", "b3", "b4", "b5", "b6"];
    const pad = "x".repeat(1000 * 1024);
    for (const id of ids) {
      const body = { schedule_id: id, every_ms: 60_000, task: { task_type: "echo", payload: { pad } } };
      expect((await call("POST", "/schedules", body)).status).toBe(201);
    }
    const pages: string[][] = [];
    let path = "/schedules";
    for (;;) {
      const r = await call("GET", path);
      expect(r.status).toBe(200);
      expect(Buffer.byteLength(JSON.stringify(r.json))).toBeLessThanOrEqual(SCHEDULE_PAGE_BYTES + 64 * 1024);
      pages.push(r.json.schedules.map((s: { schedule_id: string }) => s.schedule_id));
      if (r.json.next_cursor === null) break;
      path = `/schedules?cursor=${encodeURIComponent(r.json.next_cursor)}`;
    }
    expect(pages).toEqual([
      ["b1", "b2", "b3", "b4"],
      ["b5", "b6"],
    ]);
  }, 60_000);
});
