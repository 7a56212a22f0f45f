import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../helpers/free-port.js";
import { runTriad, startSideBySide, type TriadProcess } from "../helpers/processes.js";
import { parsePrometheusText, sumOf } from "../helpers/prometheus-text.js";
import { testRedis } from "../helpers/redis-server.js";

/**
 * Two worker processes started with the same --id (a copied command, a deployment's replicas
 * given one id): the distributor takes the first and gives the second no work, and says so. It
 * took both, each heartbeat moving the worker's address to the other, and tasks ran twice. A
 * second distributor process under one id waits for the lease: the coordinator keeps the first
 * as the distributor (it listed the waiting one, "recovering", in its place half the time), and
 * what the first reports (it took the waiting one's reports in their place too).
 */

const env = { TRIAD_SECRET: "e2e-duplicate-worker", TRIAD_LOG_LEVEL: "warn" };
const FAST = ["--heartbeat-interval", "200", "--heartbeat-timeout", "800", "--monitor-interval", "100"];
// d1 declares a worker dead after 4 s of silence, not 0.8 s: a first worker starved that long on
// a loaded host is dead to it, and a second process under its id then follows it legitimately
// (a restart). That is not what this test is about; the check below tells the two apart.
const DIST = ["--heartbeat-interval", "200", "--heartbeat-timeout", "4000", "--monitor-interval", "100"];

describe("two processes under one worker id, or one distributor id", () => {
  let redis: Awaited<ReturnType<typeof testRedis>>;
  const procs: TriadProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), "triad-dup-"));

  beforeAll(async () => {
    redis = await testRedis();
    // Each process writes the tasks it runs to a file of its own.
    writeFileSync(
      join(dir, "handlers.mjs"),
      [
        'import { appendFileSync } from "node:fs";',
        `const file = ${JSON.stringify(dir)} + "/ran-" + process.pid + ".txt";`,
        "export default {",
        "  note: async (task) => {",
        '    appendFileSync(file, task.taskId + "\\n");',
        "    await new Promise((r) => setTimeout(r, 100));",
        "    return { ok: true };",
        "  },",
        "};",
      ].join("\n"),
    );
  }, 60_000);

  afterAll(async () => {
    for (const p of procs.reverse()) await p.kill();
    await redis?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("the second worker is given no work (no task runs twice); the second distributor is not listed in the first's place", async () => {
    const [cp, dp, w1p, w2p] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    // The coordinator, the distributor and the first worker side by side, each given its
    // upstream's address before that one listens (an agent waits for its upstream); the second
    // worker once the first is ready.
    const dUrl = `http://127.0.0.1:${dp}`;
    const worker = (port: number) => [
      "worker",
      ...["--id", "w1", "--distributor", dUrl, "--port", String(port), "--concurrency", "4"],
      ...["--handlers", join(dir, "handlers.mjs"), "--heartbeat-interval", "200"],
    ];
    const [c, d] = await startSideBySide(
      [
        ["coordinator", "--id", "c1", "--redis", redis.url, "--port", String(cp), ...FAST],
        [
          ...["distributor", "--id", "d1", "--coordinator", `http://127.0.0.1:${cp}`],
          ...["--redis", redis.url, "--port", String(dp)],
          ...DIST,
        ],
        worker(w1p),
      ],
      { env, into: procs },
    );
    await startSideBySide([worker(w2p)], { env, into: procs });
    const dist = procs[1]!;
    const r = await runTriad(
      ["submit", "--coordinator", c.url, "--type", "note", "--payload", "{}", "--count", "40", "--wait"],
      { env, timeoutMs: 60_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    const statuses = r.stdout
      .trim()
      .split("\n")
      .map((l) => (JSON.parse(l) as { status: string }).status);
    expect(statuses).toEqual(Array(40).fill("completed"));
    // The first worker was live throughout (never declared dead): a second process that ran tasks
    // was taken while the first was heard, the bug, not a takeover after its silence.
    expect(dist.output, "w1 was declared dead (starved past d1's heartbeat timeout): a takeover").not.toMatch(
      /worker declared dead/,
    );
    const files = readdirSync(dir).filter((f) => f.startsWith("ran-"));
    const ran = files.flatMap((f) => readFileSync(join(dir, f), "utf8").trim().split("\n"));
    expect(files).toHaveLength(1); // one process ran them all
    expect(new Set(ran).size).toBe(ran.length); // none twice
    expect(ran).toHaveLength(40);
    expect(dist.output).toMatch(/a second process heartbeats under this worker id/);

    // A second distributor process under d1 waits for the lease the first holds: the
    // coordinator keeps listing the first (its address, its worker) and sends it the tasks.
    // It says it is a standby (not ready): cli-distributor-standby.test.ts.
    const [dp2] = await Promise.all([freePort()]);
    await startSideBySide(
      [
        {
          args: [
            "distributor",
            ...["--id", "d1", "--coordinator", c.url, "--redis", redis.url, "--port", String(dp2)],
            ...DIST,
          ],
          ready: /standby distributor d1 (http:\/\/\S+)/,
        },
      ],
      { env, into: procs },
    );
    // What d1 reports (here its workers' heartbeats, a counter) is the first's too: the second's
    // reports (no worker heartbeats) were kept in its place whenever it heartbeat last.
    let workerBeats = 0;
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, 200));
      const metrics = parsePrometheusText(await (await fetch(`${c.url}/metrics`)).text());
      const beats = sumOf(metrics, "triad_heartbeats_total", { tier: "worker", agent: "d1" });
      expect(beats, `d1's workers' heartbeats, poll ${i}`).toBeGreaterThanOrEqual(Math.max(1, workerBeats));
      workerBeats = beats;
      const agents = (
        (await (await fetch(`${c.url}/agents`)).json()) as {
          agents: Array<{
            id: string;
            tier: string;
            url?: string | null;
            status: string;
            parent?: string | null;
          }>;
        }
      ).agents;
      const d1 = agents.filter((a) => a.id === "d1");
      expect(d1, JSON.stringify(agents)).toHaveLength(1);
      expect(d1[0]).toMatchObject({ url: d.url });
      expect(d1[0]!.status).not.toBe("recovering");
      expect(agents.some((a) => a.id === "w1" && a.parent === "d1")).toBe(true);
    }
    const again = await runTriad(
      ["submit", "--coordinator", c.url, "--type", "note", "--payload", "{}", "--count", "10", "--wait"],
      { env, timeoutMs: 60_000 },
    );
    expect(again.code, again.stderr).toBe(0);
    expect(procs[0]!.output).toMatch(/a second process under this distributor id waits for its lease/);
  }, 120_000);
});
