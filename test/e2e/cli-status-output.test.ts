import { spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runTriad, TRIAD_BIN } from "../helpers/processes.js";

/**
 * `triad status` as a reader sees it: every coordinator with its shards, what each agent runs
 * (never past its capacity) apart from what it queues, and a reader that stops early (`triad
 * status | head`) ends the command quietly, not with a stack trace.
 */
describe("triad status output", () => {
  let server: Server;
  let url = "";
  const now = new Date().toISOString();
  const agents = [
    {
      id: "c1",
      tier: "coordinator",
      status: "idle",
      last_heartbeat: now,
      parent: null,
      shards: [0, 1, 2, 3, 5],
    },
    { id: "c2", tier: "coordinator", status: "idle", last_heartbeat: now, parent: null, shards: [4, 6, 7] },
    // Busy: the worker holds 12 (4 running, 8 queued on it), its distributor 20.
    {
      id: "d9",
      tier: "distributor",
      status: "busy",
      last_heartbeat: now,
      parent: "c1",
      load: 20,
      running: 4,
      queued: 16,
      capacity: 4,
    },
    {
      id: "w9",
      tier: "worker",
      status: "busy",
      last_heartbeat: now,
      parent: "d9",
      load: 12,
      running: 4,
      queued: 8,
      capacity: 4,
    },
    // An older coordinator's answer: load alone.
    { id: "w8", tier: "worker", status: "busy", last_heartbeat: now, parent: "d9", load: 12, capacity: 4 },
    ...Array.from({ length: 2000 }, (_, i) => ({
      id: `w${i}`,
      tier: "worker",
      status: "idle",
      last_heartbeat: now,
      parent: "d1",
      load: 0,
      capacity: 8,
    })),
  ];

  /** What the server lists beside `agents` (set by a test, cleared after it). */
  let extra: Array<Record<string, unknown>> = [];
  /** What the server lists instead of `agents` and `extra` (set by a test, cleared after it). */
  let only: Array<Record<string, unknown>> | undefined;
  /** The cluster's counts the server gives beside its own (set by a test, cleared after it). */
  let clusterTasks: Record<string, number> | undefined;

  beforeAll(async () => {
    server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          agents: only ?? [...agents, ...extra],
          tasks: { submitted: 3, completed: 3 },
          ...(clusterTasks ? { cluster_tasks: clusterTasks } : {}),
        }),
      );
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  it("lists each coordinator's shards as runs", async () => {
    const r = await runTriad(["status", "--coordinator", url]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^AGENT\s+TIER\s+STATUS\s+HEARTBEAT\s+RUNNING\s+QUEUED\s+DONE\s+SHARDS$/m);
    expect(r.stdout).toMatch(/^c1\s+coordinator\s.*\s0-3,5$/m);
    expect(r.stdout).toMatch(/^c2\s+coordinator\s.*\s4,6-7$/m);
  });

  it("says its task counts are the coordinator's since it started (a restart starts them at 0), apart from what waits now", async () => {
    const r = await runTriad(["status", "--coordinator", url]);
    expect(r.stdout).toContain(
      "tasks since this coordinator started: 3 submitted, 3 completed, 0 failed, 0 abandoned; now 0 waiting for a distributor, 0 waiting for input\n",
    );
  });

  it("shows what runs, of the capacity, apart from what waits: a worker holding 12 at concurrency 4 runs 4", async () => {
    const r = await runTriad(["status", "--coordinator", url]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ {2}d9\s+distributor\s+busy\s+\S+ s ago\s+4\/4\s+16\s+0$/m);
    expect(r.stdout).toMatch(/^ {4}w9\s+worker\s+busy\s+\S+ s ago\s+4\/4\s+8\s+0$/m);
    expect(r.stdout).toMatch(/^ {4}w8\s+worker\s+busy\s+\S+ s ago\s+4\/4\s+8\s+0$/m);
    expect(r.stdout).toMatch(/^c1\s+coordinator\s+idle\s+\S+ s ago\s+-\s+0\s+0\s+0-3,5$/m);
    expect(r.stdout).not.toMatch(/12\/4/);
  });

  it("lists an agent that stopped gracefully as stopped, a crashed one as dead, and exits 0 while the cluster serves; neither shows a capacity", async () => {
    const dead = { tier: "worker", status: "dead", last_heartbeat: now, parent: "d9", load: 0, capacity: 4 };
    extra = [
      { ...dead, id: "d7", tier: "distributor", parent: "c1", stopped: true },
      { ...dead, id: "w7", parent: "d7", stopped: true },
    ];
    try {
      const r = await runTriad(["status", "--coordinator", url]);
      expect(r.stdout).toMatch(/^ {2}d7\s+distributor\s+stopped\s/m);
      expect(r.stdout).toMatch(/^ {4}w7\s+worker\s+stopped\s/m);
      // Dead or stopped, it runs nothing and has no slots: no capacity shown (it was 0/4).
      expect(r.stdout).toMatch(/^ {4}w7\s+worker\s+stopped\s+\S+ s ago\s+0\/-\s+0\s+0$/m);
      expect(r.code).toBe(0);

      // A crashed distributor and worker beside live ones (their tasks are moved): reported, exit 0.
      extra.push({ ...dead, id: "w6" }, { ...dead, id: "d6", tier: "distributor", parent: "c1" });
      for (const json of [false, true]) {
        const crashed = await runTriad(["status", "--coordinator", url, ...(json ? ["--json"] : [])]);
        if (!json) expect(crashed.stdout).toMatch(/^ {4}w6\s+worker\s+dead\s+\S+ s ago\s+0\/-\s+0\s+0$/m);
        if (!json) expect(crashed.stdout).toMatch(/^ {2}d6\s+distributor\s+dead\s/m);
        expect(crashed.stderr).toBe("");
        expect(crashed.code).toBe(0);
      }
    } finally {
      extra = [];
    }
  }, 60_000);

  it("exits 1, saying why on stderr, when the cluster cannot run a task: no live distributor, none with a live worker, or the coordinator cut off from its store", async () => {
    const now2 = new Date().toISOString();
    const c1 = { id: "c1", tier: "coordinator", status: "idle", last_heartbeat: now2, parent: null };
    const d1 = { id: "d1", tier: "distributor", status: "idle", last_heartbeat: now2, parent: "c1" };
    const w1 = { id: "w1", tier: "worker", status: "idle", last_heartbeat: now2, parent: "d1" };
    const cases: Array<[Array<Record<string, unknown>>, number, string]> = [
      [[c1, d1, w1], 0, ""],
      [[c1], 1, "no distributor has joined"],
      [[c1, { ...d1, status: "dead" }, { ...w1, status: "unknown" }], 1, "no live distributor (d1 dead)"],
      [[c1, { ...d1, status: "dead", stopped: true }], 1, "no live distributor (d1 stopped)"],
      [[c1, d1], 1, "no live worker under a live distributor"],
      [[c1, d1, { ...w1, status: "dead" }], 1, "no live worker under a live distributor"],
      [[{ ...c1, store_unreachable_since: now2 }, d1, w1], 1, `c1 cannot reach its store (since ${now2})`],
    ];
    try {
      for (const [listed, code, why] of cases) {
        only = listed;
        // --json exits alike (asked of two cases: each run is a process start, seconds under load).
        for (const json of code === 0 || why.startsWith("no distributor") ? [false, true] : [false]) {
          const r = await runTriad(["status", "--coordinator", url, ...(json ? ["--json"] : [])]);
          const ids = listed.map((a) => a.id).join(",");
          expect(r.code, `${ids} json=${json}`).toBe(code);
          expect(r.stderr, ids).toBe(
            why === "" ? "" : `triad status: the cluster cannot run tasks now: ${why}\n`,
          );
        }
      }
    } finally {
      only = undefined;
    }
  }, 120_000);

  it("prints the whole cluster's task counts (every coordinator's), not only the one asked's", async () => {
    const own = await runTriad(["status", "--coordinator", url]);
    expect(own.stdout).toMatch(/^tasks since this coordinator started: 3 submitted, 3 completed, 0 failed,/m); // an older coordinator's answer
    clusterTasks = { submitted: 200, completed: 190, failed: 4, abandoned: 1, waiting: 5, input_required: 2 };
    try {
      const r = await runTriad(["status", "--coordinator", url]);
      expect(r.stdout).toMatch(
        /^tasks since the first coordinator on this store started: 200 submitted, 190 completed, 4 failed, 1 abandoned; now 5 waiting for a distributor, 2 waiting for input$/m,
      );
    } finally {
      clusterTasks = undefined;
    }
  });

  it("a reader that closes the pipe early ends it with exit 0 and no stack trace", async () => {
    const child = spawn(process.execPath, [TRIAD_BIN, "status", "--coordinator", url], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    // As `head -1` does: read the first chunk, then close the pipe.
    child.stdout.once("data", () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
    expect(stderr).not.toMatch(/EPIPE|Error|at /);
    expect(code).toBe(0);
  });
});
