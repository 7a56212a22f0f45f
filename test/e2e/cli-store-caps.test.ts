import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../helpers/free-port.js";
import { START_UP_MS, startSideBySide, type TriadProcess } from "../helpers/processes.js";
import { RedisServer } from "../helpers/redis-server.js";

/**
 * `triad coordinator` and `triad up` take the caps on schedules and limited task types
 * (schedules.maxSchedules, limits.maxLimits) as --max-schedules / --max-limits, their
 * environment variables or a config file's keys: the schedule or limited type past the cap is
 * refused over REST with 409 and its code, a replacement is not.
 */
describe("triad coordinator / up: --max-schedules and --max-limits", () => {
  let redis: RedisServer;
  let coordinator: TriadProcess;
  let up: TriadProcess;
  let coordinatorUrl: string;
  let upUrl: string;
  let dir: string;
  const env = { TRIAD_SECRET: "cli-store-caps-secret", TRIAD_LOG_LEVEL: "warn" };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "triad-caps-"));
    const config = join(dir, "up.json");
    writeFileSync(config, JSON.stringify({ "max-limits": 2 }));
    redis = await RedisServer.start();
    const port = await freePort();
    // Side by side: the coordinator by flags; up by its environment and a config file.
    [{ proc: coordinator, url: coordinatorUrl }, { proc: up, url: upUrl }] = await startSideBySide(
      [
        {
          args: [
            ...["coordinator", "--id", "c1", "--redis", redis.url, "--port", String(port)],
            ...["--max-schedules", "2", "--max-limits", "1"],
          ],
          ready: /ready coordinator c1 (http:\/\/\S+)/,
        },
        {
          args: ["up", "--tasks", "0", "--keep", "--port", "0", "--distributors", "1", "--workers", "1"],
          env: { TRIAD_MAX_SCHEDULES: "1", TRIAD_CONFIG: config },
          ready: /Dashboard and API: (http:\/\/\S+)/,
        },
      ],
      { env },
    );
  }, 2 * START_UP_MS);
  afterAll(async () => {
    await Promise.all([coordinator?.kill(), up?.kill()]);
    await redis?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const call = async (url: string, method: string, path: string, body: unknown) => {
    const r = await fetch(`${url}${path}`, {
      method,
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: r.status, body: (await r.json()) as { error?: { code: string; message: string } } };
  };
  const schedule = (id: string, everyMs = 3_600_000) => ({
    schedule_id: id,
    every_ms: everyMs,
    task: { task_type: "echo" },
  });

  /** POSTs `max` schedules, then one more (409), then a replacement of the first (200). */
  async function fillSchedules(url: string, max: number) {
    for (let i = 1; i <= max; i++)
      expect((await call(url, "POST", "/schedules", schedule(`s${i}`))).status).toBe(201);
    const refused = await call(url, "POST", "/schedules", schedule(`s${max + 1}`));
    expect(refused.status).toBe(409);
    expect(refused.body.error?.code).toBe("ERR_TOO_MANY_SCHEDULES");
    expect(refused.body.error?.message).toContain(`there are ${max} schedules already`);
    expect((await fetch(`${url}/schedules/s${max + 1}`)).status).toBe(404);
    expect((await call(url, "POST", "/schedules", schedule("s1", 7_200_000))).status).toBe(200);
  }

  /** PUTs limits on `max` types, then on one more (409), then changes the first (200). */
  async function fillLimits(url: string, max: number) {
    for (let i = 1; i <= max; i++)
      expect((await call(url, "PUT", `/limits/t${i}`, { concurrency: 2 })).status).toBe(201);
    const refused = await call(url, "PUT", `/limits/t${max + 1}`, { concurrency: 2 });
    expect(refused.status).toBe(409);
    expect(refused.body.error?.code).toBe("ERR_TOO_MANY_LIMITS");
    expect((await call(url, "PUT", "/limits/t1", { concurrency: 3 })).status).toBe(200);
  }

  it("triad coordinator --max-schedules 2: the third schedule is 409 ERR_TOO_MANY_SCHEDULES", async () => {
    await fillSchedules(coordinatorUrl, 2);
  });

  it("triad coordinator --max-limits 1: a limit on a second type is 409 ERR_TOO_MANY_LIMITS", async () => {
    await fillLimits(coordinatorUrl, 1);
  });

  it("triad up with TRIAD_MAX_SCHEDULES=1 and a config file's max-limits 2", async () => {
    await fillSchedules(upUrl, 1);
    await fillLimits(upUrl, 2);
  });
});
