import { describe, expect, it } from "vitest";
import { freePort } from "../helpers/free-port.js";
import { runTriad } from "../helpers/processes.js";

/**
 * A tier process that cannot start tells the user why in one line — the message and its code,
 * `triad <command>: ... [CODE]` — and exits 1. The error's whole record (its stack) is for
 * whoever asks for it with --log-level debug, not printed before that line at every level.
 */

const env = { TRIAD_SECRET: "start-failure-secret-0123456789", TRIAD_LOG_FORMAT: "json" };

/** A coordinator pointed at a Redis port where nothing listens. */
async function coordinatorWithoutRedis(logLevel: string) {
  const [redisPort, port] = [await freePort(), await freePort()];
  return runTriad(
    [
      "coordinator",
      "--id",
      "c-no-store",
      "--redis",
      `redis://127.0.0.1:${redisPort}`,
      "--port",
      String(port),
    ],
    { env: { ...env, TRIAD_LOG_LEVEL: logLevel }, timeoutMs: 30_000 },
  );
}

describe("a tier process that cannot start", () => {
  it.each(["info", "warn"])(
    "says so in one line with its code at --log-level %s, exit 1",
    async (level) => {
      const r = await coordinatorWithoutRedis(level);
      expect(r.code).toBe(1);
      const lines = r.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        /^triad coordinator: coordinator c-no-store cannot reach its store at redis:\/\/127\.0\.0\.1:\d+: .*\[ERR_STORE_UNAVAILABLE\]$/,
      );
      expect(r.stderr).not.toContain("stack");
      expect(r.stdout).not.toMatch(/^ready /m);
    },
    40_000,
  );

  it("logs the error's whole record, its stack too, at --log-level debug", async () => {
    const r = await coordinatorWithoutRedis("debug");
    expect(r.code).toBe(1);
    const record = r.stderr
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { msg: string; code?: string; err?: { stack?: string } })
      .find((l) => l.msg === "coordinator could not start: exiting");
    expect(record?.code).toBe("ERR_STORE_UNAVAILABLE");
    expect(record?.err?.stack).toMatch(/cannot reach its store/);
    expect(r.stderr.trim().split("\n").at(-1)).toMatch(/^triad coordinator: .*\[ERR_STORE_UNAVAILABLE\]$/);
  }, 40_000);
});
