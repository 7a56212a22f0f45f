import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runTriad, TriadProcess } from "../helpers/processes.js";
import { RedisServer } from "../helpers/redis-server.js";

/**
 * `triad up` stopped by a signal stops what it started, as SPEC says of SIGTERM / SIGINT: during
 * its start-up too (no more agents start, those that did give up their leases and shards, exit
 * 0), and its agents have --shutdown-timeout to finish what they run, the allowance the other
 * commands' flag gives (it was a fixed 2 s per tier).
 */

const env = { TRIAD_SECRET: "up-shutdown-secret-0123456789", TRIAD_API_TOKEN: "", TRIAD_LOG_LEVEL: "info" };
const json = { ...env, TRIAD_LOG_FORMAT: "json" };

describe("triad up stopped by a signal", () => {
  let redis: RedisServer;
  const procs: TriadProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), "triad-up-shutdown-"));

  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(async () => {
    for (const p of procs) await p.kill();
    await redis.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * The kinds of key `triad up` runs left in the store: run ids and agent numbers as X. A
   * coordinator's last view, written by its graceful stop (`stopping: true`) with the view's TTL
   * (a few seconds), is not counted: whether it is still there when this looks depended on how
   * long the run took to exit, so under load a clean run's had expired and an interrupted one's
   * had not (a flake). A view that is not a stop's still counts.
   */
  const keyKinds = async (): Promise<Set<string>> => {
    const client = createClient({ url: redis.url });
    await client.connect();
    try {
      const all = await client.keys("triad:up-*");
      const stopViews = new Set<string>();
      for (const k of all.filter((k) => /:coordinator-view:/.test(k))) {
        const view = JSON.parse((await client.get(k)) ?? "null") as { stopping?: unknown } | null;
        if (view?.stopping === true) stopViews.add(k);
      }
      const keys = all.filter((k) => !stopViews.has(k));
      await client.flushAll();
      return new Set(keys.map((k) => k.replace(/triad:up-[0-9a-f]+:/g, "").replace(/\d+/g, "X")));
    } finally {
      await client.quit();
    }
  };

  /**
   * What a run that ends by itself leaves in the store (fencing counters and the like): one run
   * for both signals' tests (keyKinds empties the store after each look, so each interrupted
   * run is compared from an empty store alike). It was one run per test, a whole `triad up`.
   */
  let leftByARunOnce: Promise<Set<string>> | undefined;
  const leftByARun = () => {
    leftByARunOnce ??= (async () => {
      const clean = await runTriad(["up", "--redis", redis.url, "--tasks", "0", "--port", "0"], {
        env: json,
        timeoutMs: 60_000,
      });
      expect(clean.code, clean.stderr.slice(-3000)).toBe(0);
      return keyKinds();
    })();
    return leftByARunOnce;
  };

  it.each(["SIGINT", "SIGTERM"] as const)(
    "%s during the start-up: no more agents start, those that did stop as at the end of a run, exit 0",
    async (sig) => {
      const leftByARunKinds = await leftByARun();
      await keyKinds(); // an empty store, whatever a failed test before this one left

      const up = new TriadProcess(
        [
          "up",
          "--redis",
          redis.url,
          "--distributors",
          "20",
          "--workers",
          "200",
          "--tasks",
          "5",
          "--port",
          "0",
        ],
        json,
      );
      procs.push(up);
      // One distributor registered, nineteen and two hundred workers to go.
      await up.waitFor(/"msg":"distributor registered"/, 60_000);
      up.signal(sig);
      const { code, signal } = await up.exit(60_000);
      expect(signal).toBeNull(); // not killed by it
      expect(code).toBe(0);
      expect(up.output).toContain(`${sig}: shutting down`);
      expect(up.output).toContain("interrupted while starting: no more agents start, those that did stop");
      expect(up.output).not.toContain("Triad up:");
      expect(up.output).not.toContain("stack");
      // No lease, shard or registration of the run left behind: only what a whole run leaves.
      const left = await keyKinds();
      expect(left.size).toBeGreaterThan(0);
      expect([...left].filter((k) => !leftByARunKinds.has(k))).toEqual([]);
    },
    150_000,
  );

  it("the agents have --shutdown-timeout to finish what they run (not 2 s)", async () => {
    // `compute` that takes 6 s, and says when it starts.
    const agents = new URL("../../dist/agents/index.js", import.meta.url).href;
    const module = join(dir, "slow-compute.mjs");
    writeFileSync(
      module,
      [
        `import { builtinHandlers } from ${JSON.stringify(agents)};`,
        "const { compute } = builtinHandlers();",
        "export default {",
        "  compute: async (task, ctx) => {",
        '    process.stdout.write("slow compute " + task.taskId + " started\\n");',
        "    await new Promise((r) => setTimeout(r, 6000));",
        "    return compute(task, ctx);",
        "  },",
        "};",
      ].join("\n"),
    );
    // Three tasks: two compute, one data_processing.
    const up = new TriadProcess(
      ["up", "--tasks", "3", "--port", "0", "--handlers", module, "--shutdown-timeout", "40000"],
      env,
    );
    procs.push(up);
    await up.waitFor(/slow compute \S+ started\n(.|\n)*slow compute \S+ started/, 60_000);
    up.signal("SIGTERM");
    const { code } = await up.exit(60_000);
    expect(code).toBe(0);
    expect(up.output).toMatch(/Summary: 3 tasks\n/);
    expect(up.output).toMatch(/completed\s+3\n/);
    expect(up.output).toMatch(/all checked results right/);
  }, 120_000);
});
