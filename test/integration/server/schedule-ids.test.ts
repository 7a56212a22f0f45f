import { describe, expect, it } from "vitest";
import { servedCoordinatorPerSuite } from "../../helpers/served-cluster.js";

/**
 * A schedule id that is a dot segment ("." or "..") is refused, 422 ERR_INVALID_SCHEDULE, nothing
 * recorded: every URL parser drops such a segment from /schedules/<id>, so no GET or DELETE could
 * name the schedule (DELETE /schedules/.. goes out as DELETE /), and it would fire for ever.
 */
describe("POST /schedules: an id no URL can name", () => {
  const { call } = servedCoordinatorPerSuite("schedule-ids");

  it.each([".", ".."])("schedule_id %j: 422 ERR_INVALID_SCHEDULE naming it, nothing recorded", async (id) => {
    const r = await call("POST", "/schedules", {
      schedule_id: id,
      every_ms: 60_000,
      task: { task_type: "echo" },
    });
    expect(r.status).toBe(422);
    expect(r.json.error.code).toBe("ERR_INVALID_SCHEDULE");
    expect(r.json.error.message).toContain('schedule_id: must not be "." or ".."');
    expect((await call("GET", "/schedules")).json.schedules).toEqual([]);
  });

  it("ids with dots that are not a whole segment are fine, and can be read and removed", async () => {
    for (const id of ["...", ".a", "a..b"]) {
      const made = await call("POST", "/schedules", {
        schedule_id: id,
        every_ms: 60_000,
        task: { task_type: "echo" },
      });
      expect(made.status).toBe(201);
      expect((await call("GET", `/schedules/${encodeURIComponent(id)}`)).json.schedule_id).toBe(id);
      expect((await call("DELETE", `/schedules/${encodeURIComponent(id)}`)).status).toBe(200);
    }
  });
});
