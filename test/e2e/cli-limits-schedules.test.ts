import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../helpers/free-port.js";
import { runTriad, START_UP_MS, TriadProcess } from "../helpers/processes.js";
import { RedisServer } from "../helpers/redis-server.js";

/**
 * `triad coordinator --limit` and `triad schedule add|list|rm` against a bin/triad coordinator:
 * what a user types, the exit codes and the 422s they see.
 */
describe("the CLI for limits and schedules", () => {
  let coordinator: TriadProcess;
  let url: string;
  // A Redis of its own (the coordinator's limits and schedules live in the store).
  let redis: RedisServer;
  const env = { TRIAD_SECRET: "cli-limits-secret", TRIAD_LOG_LEVEL: "warn" };

  beforeAll(async () => {
    redis = await RedisServer.start();
    const port = await freePort();
    coordinator = new TriadProcess(
      [
        "coordinator",
        "--id",
        "c1",
        "--redis",
        redis.url,
        "--port",
        String(port),
        "--limit",
        "llm=concurrency:3",
        "--limit",
        "web=rate:0.5,concurrency:10",
      ],
      env,
    );
    url = (await coordinator.waitFor(/ready coordinator c1 (http:\/\/\S+)/, START_UP_MS))[1]!;
  }, 60_000);
  afterAll(async () => {
    await coordinator?.kill();
    await redis?.destroy();
  });

  it("starts the coordinator with the --limit flags", async () => {
    const { limits } = (await (await fetch(`${url}/limits`)).json()) as { limits: unknown[] };
    expect(limits).toEqual([
      { task_type: "llm", concurrency: 3, in_use: 0, waiting: 0 },
      { task_type: "web", concurrency: 10, rate_per_s: 0.5, in_use: 0, waiting: 0 },
    ]);
  });

  it("refuses a limit of 0 at start: exit 2 naming the flag and the field", async () => {
    const bad = await runTriad(
      ["coordinator", "--id", "c2", "--redis", redis.url, "--port", "0", "--limit", "llm=concurrency:0"],
      {
        env,
      },
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--limit llm=concurrency:0: concurrency: must be an integer >= 1");
  });

  it("adds, lists and removes a schedule; its ticks become tasks <id>@<tick>", async () => {
    const add = await runTriad(
      [
        "schedule",
        "add",
        "--coordinator",
        url,
        "--id",
        "beat",
        "--every",
        "1000",
        "--type",
        "echo",
        "--payload",
        '{"a":1}',
      ],
      { env },
    );
    expect(add.code, add.stderr).toBe(0);
    expect(JSON.parse(add.stdout)).toMatchObject({
      schedule_id: "beat",
      every_ms: 1000,
      task: { payload: { a: 1 } },
    });
    const cron = await runTriad(
      [
        "schedule",
        "add",
        "--coordinator",
        url,
        "--id",
        "nightly",
        "--cron",
        "0 3 * * *",
        "--timezone",
        "Europe/Paris",
        "--type",
        "echo",
      ],
      { env },
    );
    expect(cron.code, cron.stderr).toBe(0);
    let ticks: string[] = [];
    while (ticks.length === 0) {
      ticks = ((await (await fetch(`${url}/schedules/beat`)).json()) as { recent_task_ids: string[] })
        .recent_task_ids;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(ticks[0]).toMatch(/^beat@\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
    expect(
      ((await (await fetch(`${url}/tasks/${encodeURIComponent(ticks[0]!)}`)).json()) as { task_type: string })
        .task_type,
    ).toBe("echo");
    const list = await runTriad(["schedule", "list", "--coordinator", url], { env });
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^SCHEDULE\s+WHEN\s+TYPE\s+NEXT RUN\s+LAST TICK$/m);
    expect(list.stdout).toMatch(/^beat\s+every 1000 ms\s+echo\s+\S+Z\s+\S+Z$/m);
    expect(list.stdout).toMatch(
      /^nightly\s+cron "0 3 \* \* \*" Europe\/Paris\s+echo\s+\S+T0[12]:00:00\.000Z\s+-$/m,
    );
    expect((await runTriad(["schedule", "rm", "--coordinator", url, "--id", "beat"], { env })).code).toBe(0);
    const again = await runTriad(["schedule", "rm", "--coordinator", url, "--id", "beat"], { env });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("404 ERR_NOT_FOUND");
  });

  it("schedule list pages through more schedules than one page holds; --limit lists the first N", async () => {
    const ids = Array.from({ length: 1003 }, (_, i) => `many-${String(i).padStart(4, "0")}`);
    for (let i = 0; i < ids.length; i += 50)
      await Promise.all(
        ids.slice(i, i + 50).map(async (id) => {
          const r = await fetch(`${url}/schedules`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ schedule_id: id, every_ms: 3_600_000, task: { task_type: "echo" } }),
          });
          expect(r.status).toBe(201);
        }),
      );
    try {
      const all = await runTriad(["schedule", "list", "--coordinator", url, "--json"], { env });
      expect(all.code).toBe(0);
      const listed = (JSON.parse(all.stdout) as Array<{ schedule_id: string }>).map((s) => s.schedule_id);
      expect(listed.filter((id) => id.startsWith("many-"))).toEqual(ids);
      const two = await runTriad(["schedule", "list", "--coordinator", url, "--json", "--limit", "2"], {
        env,
      });
      expect(two.code).toBe(0);
      expect((JSON.parse(two.stdout) as unknown[]).length).toBe(2);
    } finally {
      for (let i = 0; i < ids.length; i += 50)
        await Promise.all(
          ids.slice(i, i + 50).map((id) => fetch(`${url}/schedules/${id}`, { method: "DELETE" })),
        );
    }
  }, 180_000);

  it("exits 1 naming the field for a bad schedule, and records nothing", async () => {
    // One through the CLI (every refusal is tested against the store in schedules.test.ts).
    const cases: Array<[string[], string]> = [[["--cron", "61 * * * *"], "cron:"]];
    for (const [flags, why] of cases) {
      const out = await runTriad(
        ["schedule", "add", "--coordinator", url, "--id", "bad", "--type", "echo", ...flags],
        { env },
      );
      expect(out.code, flags.join(" ")).toBe(1);
      expect(out.stderr).toContain("422 ERR_INVALID_SCHEDULE");
      expect(out.stderr).toContain(why);
    }
    expect((await fetch(`${url}/schedules/bad`)).status).toBe(404);
  });
});
