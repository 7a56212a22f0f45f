import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../helpers/free-port.js";
import { startSideBySide, TriadProcess } from "../helpers/processes.js";
import { raw } from "../helpers/raw-socket.js";
import { testRedis } from "../helpers/redis-server.js";

/**
 * Requests no client library would send, to the processes `bin/triad` runs: each answers 400 to
 * a request target no URL parser takes and goes on serving. One such request used to end the
 * coordinator before any credential was looked at.
 */

const BAD_TARGETS = ["//[/", "http://[::1/", "http:///", "http://a:99999/x", "//[/tasks", "http://[::1/a2a"];

/** Sends every bad target to `port` and checks the answers; the process must still be running. */
async function survives(port: number, proc: TriadProcess, after: string): Promise<void> {
  for (const target of BAD_TARGETS) {
    for (const method of ["GET", "POST"]) {
      const a = await raw(port, method, target, { "content-type": "application/json" }, "{}");
      expect(a.status, `${method} ${target}`).toBe(400);
      expect(a.json).toMatchObject({ error: { code: "ERR_BAD_REQUEST" } });
    }
  }
  await new Promise((r) => setTimeout(r, 200)); // a crash would show by now
  expect(proc.running, proc.output.slice(-2000)).toBe(true);
  expect((await raw(port, "GET", after)).status).toBe(200);
}

describe("request targets no URL parser takes, against bin/triad processes", () => {
  const procs: TriadProcess[] = [];
  let redis: Awaited<ReturnType<typeof testRedis>>;
  const env = { TRIAD_SECRET: "edges-secret-0123456789", TRIAD_API_TOKEN: "", TRIAD_LOG_LEVEL: "warn" };
  const start = (args: string[], extra: Record<string, string> = {}) => {
    const p = new TriadProcess(args, { ...env, ...extra });
    procs.push(p);
    return p;
  };

  beforeAll(async () => {
    redis = await testRedis();
  });

  afterAll(async () => {
    for (const p of procs) await p.kill();
    await redis?.close();
  });

  it("triad up --keep answers 400 and keeps serving, with and without a token", async () => {
    for (const token of ["", "edges-token"]) {
      const port = await freePort();
      const up = start(["up", "--tasks", "0", "--keep", "--port", String(port), "--workers", "1"], {
        TRIAD_API_TOKEN: token,
      });
      await up.waitFor(/serving at (http:\/\/\S+);/, 30_000);
      await survives(port, up, "/metrics");
    }
  });

  it("triad coordinator, distributor and worker answer 400 on their listeners and keep serving", async () => {
    const [cp, dp, wp] = await Promise.all([freePort(), freePort(), freePort()]);
    // Side by side, each given its upstream's address before that one listens (an agent waits
    // for its upstream).
    const [{ proc: c }, { proc: d }, { proc: w }] = await startSideBySide(
      [
        ["coordinator", "--id", "c1", "--redis", redis.url, "--port", String(cp)],
        [
          ...["distributor", "--id", "d1", "--coordinator", `http://127.0.0.1:${cp}`],
          ...["--redis", redis.url, "--port", String(dp)],
        ],
        ["worker", "--id", "w1", "--distributor", `http://127.0.0.1:${dp}`, "--port", String(wp)],
      ],
      { env, into: procs },
    );
    await survives(cp, c, "/agents");
    await survives(dp, d, "/a2a");
    await survives(wp, w, "/a2a");
  });
});
