import { describe, expect, it } from "vitest";
import { servedCoordinatorPerSuite } from "../../helpers/served-cluster.js";

/** PUT/GET/DELETE /limits and the limit gauges of /metrics; bad input is 422 naming the field, nothing recorded. */
describe("REST /limits", () => {
  const { call, coordinator } = servedCoordinatorPerSuite("limits-api");

  it("sets (201), replaces (200), lists, shows in /metrics and removes a limit", async () => {
    expect(await call("PUT", "/limits/llm", { concurrency: 20 })).toEqual({
      status: 201,
      json: { task_type: "llm", concurrency: 20, in_use: 0, waiting: 0 },
    });
    const replaced = await call("PUT", "/limits/llm", { concurrency: 5, rate_per_s: 50 });
    expect(replaced).toMatchObject({ status: 200, json: { concurrency: 5, rate_per_s: 50 } });
    await call("PUT", `/limits/${encodeURIComponent("web search")}`, { rate_per_s: 0.5 });
    const listed = await call("GET", "/limits");
    expect(listed.json.limits.map((l: { task_type: string }) => l.task_type)).toEqual(["llm", "web search"]);
    const metrics = (await call("GET", "/metrics")).json as string;
    expect(metrics).toContain('triad_limit_in_use{task_type="llm"} 0');
    expect(metrics).toContain('triad_limit_waiting{task_type="web search"} 0');
    expect(await call("DELETE", "/limits/llm")).toEqual({
      status: 200,
      json: { task_type: "llm", removed: true },
    });
    expect((await call("DELETE", "/limits/llm")).status).toBe(404);
    expect((await coordinator().listLimits()).map((l) => l.task_type)).toEqual(["web search"]);
  });

  it("answers a bad limit 422 ERR_INVALID_TYPE_LIMIT naming the field, and records nothing", async () => {
    const bad: Array<[unknown, string]> = [
      [{ concurrency: 0 }, "concurrency"],
      [{ concurrency: -3 }, "concurrency"],
      [{ concurrency: 2.5 }, "concurrency"],
      [{ concurrency: "3" }, "concurrency"],
      [{ rate_per_s: 0 }, "rate_per_s"],
      [{ rate_per_s: -1 }, "rate_per_s"],
      [{}, "concurrency, rate_per_s"],
      [{ concurrency: 1, burst: 2 }, "burst"],
      [[1], "limit"],
    ];
    for (const [body, field] of bad) {
      const answer = await call("PUT", "/limits/bad", body);
      expect(answer.status, JSON.stringify(body)).toBe(422);
      expect(answer.json.error.code).toBe("ERR_INVALID_TYPE_LIMIT");
      expect(answer.json.error.message, JSON.stringify(body)).toContain(field);
    }
    expect((await call("PUT", `/limits/${"t".repeat(300)}`, { concurrency: 1 })).status).toBe(422);
    expect((await coordinator().listLimits()).some((l) => l.task_type === "bad")).toBe(false);
  });
});
