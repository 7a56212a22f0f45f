import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../helpers/free-port.js";
import { runTriad, startSideBySide, type TriadProcess } from "../helpers/processes.js";
import { parsePrometheusText, sumOf } from "../helpers/prometheus-text.js";
import { testRedis } from "../helpers/redis-server.js";

/**
 * The CLI as a user runs it: every tier its own `bin/triad` process, talking HTTP to each
 * other and to a real Redis; tasks in with `triad submit`, state out with `triad status`.
 */

const SECRET = "e2e-secret-0123456789";
const TOKEN = "e2e-api-token";
const env = { TRIAD_SECRET: SECRET, TRIAD_API_TOKEN: TOKEN, TRIAD_LOG_LEVEL: "warn" };

describe("triad CLI with each tier in its own process", () => {
  let redis: Awaited<ReturnType<typeof testRedis>>;
  const procs: TriadProcess[] = [];
  let coordinatorUrl = "";

  /**
   * The four processes start side by side, each given its upstream's address before that one
   * listens (an agent waits for its upstream): the set-up needs one start-up (START_UP_MS, within
   * the file's hook budget). Started one after the other within a 60 s hook, a loaded 2-core
   * machine ran it out of the hook ("Hook timed out in 60000ms").
   */
  beforeAll(async () => {
    redis = await testRedis();
    const [cp, dp, w1p, w2p] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const dUrl = `http://127.0.0.1:${dp}`;
    const [c] = await startSideBySide(
      [
        ["coordinator", "--id", "c1", "--redis", redis.url, "--port", String(cp)],
        [
          ...["distributor", "--id", "d1", "--coordinator", `http://127.0.0.1:${cp}`],
          ...["--redis", redis.url, "--port", String(dp)],
        ],
        [
          ...["worker", "--id", "w1", "--distributor", dUrl, "--port", String(w1p)],
          ...["--handlers", "examples/handlers.mjs"],
        ],
        ["worker", "--id", "w2", "--distributor", dUrl, "--port", String(w2p)],
      ],
      { env, into: procs },
    );
    coordinatorUrl = c.url;
  });

  afterAll(async () => {
    for (const p of procs) await p.kill();
    await redis.close();
  });

  it("triad submit --wait prints each task's final record", async () => {
    const r = await runTriad(
      [
        "submit",
        "--coordinator",
        coordinatorUrl,
        "--type",
        "compute",
        "--payload",
        '{"operation":"max","values":[3,9,4]}',
        "--count",
        "5",
        "--wait",
      ],
      { env },
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(5);
    for (const t of lines)
      expect(t).toMatchObject({ task_type: "compute", status: "completed", result: { result: 9 } });
  });

  it("a task record's members come in SPEC's order, whether its answer waited for its end or not", async () => {
    // The members SPEC lists, in its order; the record as submitted, as waited for, as read.
    const order = [
      "task_id",
      "task_type",
      "payload",
      "status",
      "result",
      "error",
      "attempts",
      "assigned_to",
      "created_at",
      "started_at",
      "completed_at",
    ];
    const args = ["submit", "--coordinator", coordinatorUrl, "--type", "echo", "--payload", '{"n":1}'];
    const submitted = await runTriad(args, { env });
    expect(submitted.code, submitted.stderr).toBe(0);
    const record = JSON.parse(submitted.stdout) as { task_id: string };
    expect(Object.keys(record)).toEqual(order);
    // Its end reported by the distributor (the message's members come sorted): --wait prints it.
    const waited = await runTriad([...args, "--wait"], { env });
    expect(waited.code, waited.stderr).toBe(0);
    const done = JSON.parse(waited.stdout) as { task_id: string; status: string };
    expect(done.status).toBe("completed");
    expect(Object.keys(done)).toEqual(order);
    const headers = { authorization: `Bearer ${TOKEN}` };
    for (const query of ["", "?wait=5000"]) {
      const res = await fetch(`${coordinatorUrl}/tasks/${done.task_id}${query}`, { headers });
      expect(res.status).toBe(200);
      expect(Object.keys((await res.json()) as object), query).toEqual(order);
    }
  });

  it("triad submit --priority --delay --expires-at: recorded on the task, not started before the delay; a bad value is refused", async () => {
    const before = Date.now();
    const expiresAt = new Date(Date.now() + 600_000).toISOString();
    const args = ["submit", "--coordinator", coordinatorUrl, "--type", "echo", "--payload", '{"a":1}'];
    const r = await runTriad(
      [...args, "--priority", "7", "--delay", "0.3s", "--expires-at", expiresAt, "--wait"],
      {
        env,
      },
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const done = JSON.parse(r.stdout.trim());
    expect(done).toMatchObject({ status: "completed", priority: 7, expires_at: expiresAt, result: { a: 1 } });
    expect(Date.parse(done.run_at)).toBeGreaterThanOrEqual(before + 300);
    expect(Date.parse(done.started_at)).toBeGreaterThanOrEqual(Date.parse(done.run_at));
    const bad = await runTriad([...args, "--run-at", "next tuesday"], { env });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("run_at");
  });

  it("runs a user's handlers (a function and a LangGraph graph) loaded with --handlers, on the worker that has them", async () => {
    const input = [
      { task_type: "word_count", payload: { text: "three tier agents" } },
      { task_type: "review", payload: { text: "short" } },
    ]
      .map((t) => JSON.stringify(t))
      .join("\n");
    const r = await runTriad(["submit", "--coordinator", coordinatorUrl, "--file", "-", "--wait"], {
      env,
      input,
    });
    expect(r.code).toBe(0);
    const [count, review] = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(count).toMatchObject({
      status: "completed",
      assigned_to: "w1",
      result: { words: 3, longest: "agents" },
    });
    expect(review).toMatchObject({
      status: "completed",
      assigned_to: "w1",
      result: { draft: "Summary: short", approved: true },
    });
  });

  it("triad submit --file takes a workflow graph (depends_on), sent dependencies first, and refuses a cycle", async () => {
    const run = `g${Date.now()}`;
    // Written join first: a request carries the whole graph (a file over 1,000 tasks is sent in dependency order).
    const graph = [
      {
        task_id: `${run}-join`,
        task_type: "echo",
        payload: { step: "join" },
        depends_on: [`${run}-a`, `${run}-b`],
      },
      { task_id: `${run}-a`, task_type: "echo", payload: { step: "a" }, depends_on: [`${run}-plan`] },
      { task_id: `${run}-b`, task_type: "echo", payload: { step: "b" }, depends_on: [`${run}-plan`] },
      { task_id: `${run}-plan`, task_type: "echo", payload: { step: "plan" } },
    ];
    const r = await runTriad(["submit", "--coordinator", coordinatorUrl, "--file", "-", "--wait"], {
      env,
      input: JSON.stringify(graph),
    });
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { task_id: string; status: string; completed_at: string });
    // Printed as each finishes; every task ran, and the join after what it depends on.
    expect(lines.map((l) => l.task_id).sort()).toEqual([
      `${run}-a`,
      `${run}-b`,
      `${run}-join`,
      `${run}-plan`,
    ]);
    expect(lines.every((l) => l.status === "completed")).toBe(true);
    const at = Object.fromEntries(lines.map((l) => [l.task_id, l.completed_at]));
    expect(at[`${run}-join`]! >= at[`${run}-a`]!).toBe(true);
    expect(at[`${run}-a`]! >= at[`${run}-plan`]!).toBe(true);
    const cycle = await runTriad(["submit", "--coordinator", coordinatorUrl, "--file", "-"], {
      env,
      input: JSON.stringify([
        { task_id: `${run}-x`, task_type: "echo", depends_on: [`${run}-y`] },
        { task_id: `${run}-y`, task_type: "echo", depends_on: [`${run}-x`] },
      ]),
    });
    expect(cycle.code).not.toBe(0);
    expect(cycle.stderr).toMatch(/cycle/);
  });

  it("triad submit --wait exits 1 when a task fails, and says why", async () => {
    const r = await runTriad(
      ["submit", "--coordinator", coordinatorUrl, "--type", "no_such_type", "--wait"],
      { env },
    );
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({
      status: "failed",
      error: expect.stringContaining("unknown task type"),
    });
  });

  it("the tiers talk over message streams: the coordinator's /metrics counts what it sent by transport", async () => {
    const r = await runTriad(
      ["submit", "--coordinator", coordinatorUrl, "--type", "echo", "--count", "3", "--wait"],
      { env },
    );
    expect(r.code).toBe(0);
    const m = parsePrometheusText(await (await fetch(`${coordinatorUrl}/metrics`)).text());
    expect(sumOf(m, "triad_a2a_messages_sent_total", { transport: "stream", agent: "c1" })).toBeGreaterThan(
      0,
    );
    expect(sumOf(m, "triad_a2a_messages_sent_total", { transport: "post", agent: "c1" })).toBe(0);
  });

  it("triad status --json lists the agents of every tier and the task counts", async () => {
    const r = await runTriad(["status", "--coordinator", coordinatorUrl, "--json"], { env });
    expect(r.code).toBe(0);
    const body = JSON.parse(r.stdout);
    const tiers = Object.fromEntries(body.agents.map((a: { id: string; tier: string }) => [a.id, a.tier]));
    expect(tiers).toEqual({ c1: "coordinator", d1: "distributor", w1: "worker", w2: "worker" });
    for (const a of body.agents) expect(a.status).not.toBe("dead");
    expect(body.tasks.completed).toBeGreaterThanOrEqual(7);
  });

  it("triad status --task ID --follow prints a sleep's changes (its progress too) until it ends, exit 0", async () => {
    const submitted = await runTriad(
      // Progress every second: 6 s leaves reports for a `--follow` that is slow to start (a CI run
      // on a loaded host started it more than 3.5 s after the submit and saw none).
      ["submit", "--coordinator", coordinatorUrl, "--type", "sleep", "--payload", '{"ms":6000}'],
      { env },
    );
    const id = (JSON.parse(submitted.stdout) as { task_id: string }).task_id;
    const r = await runTriad(
      ["status", "--coordinator", coordinatorUrl, "--task", id, "--follow", "--json"],
      {
        env,
      },
    );
    expect(r.code).toBe(0);
    const events = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string; task: { status: string; progress?: unknown } });
    expect(events.at(-1)).toMatchObject({ type: "terminal", task: { status: "completed" } });
    expect(events.some((e) => e.type === "progress")).toBe(true); // a sleep of 1 s or more reports
  });

  it("the API answers 401 without the token, 4xx with a reason for bad input, 404 for an unknown task", async () => {
    const auth = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
    expect((await fetch(`${coordinatorUrl}/tasks`)).status).toBe(401);
    expect(
      (await fetch(`${coordinatorUrl}/agents`, { headers: { authorization: "Bearer wrong" } })).status,
    ).toBe(401);
    expect((await fetch(`${coordinatorUrl}/metrics`)).status).toBe(200); // metrics stay open to scrapers
    const malformed = await fetch(`${coordinatorUrl}/tasks`, {
      method: "POST",
      headers: auth,
      body: "{not json",
    });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: { code: string } }).error.code).toBe("ERR_MALFORMED_JSON");
    const invalid = await fetch(`${coordinatorUrl}/tasks`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify([{ task_type: "echo" }, { payload: {} }]),
    });
    expect(invalid.status).toBe(422);
    expect(((await invalid.json()) as { error: { message: string } }).error.message).toMatch(
      /^\[1\]\.task_type/,
    );
    const big = await fetch(`${coordinatorUrl}/tasks`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ task_type: "echo", payload: { x: "a".repeat(2 * 1024 * 1024) } }),
    });
    expect(big.status).toBe(413);
    expect((await fetch(`${coordinatorUrl}/tasks/nope`, { headers: auth })).status).toBe(404);
    const ok = await fetch(`${coordinatorUrl}/tasks`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ task_id: "api-1", task_type: "echo", payload: { a: 1 } }),
    });
    expect(ok.status).toBe(202);
    const done = await (await fetch(`${coordinatorUrl}/tasks/api-1?wait=10000`, { headers: auth })).json();
    expect(done).toMatchObject({ task_id: "api-1", status: "completed", result: { a: 1 } });
    const listed = (await (
      await fetch(`${coordinatorUrl}/tasks?status=completed`, { headers: auth })
    ).json()) as { tasks: Array<{ task_id: string }> };
    expect(listed.tasks.map((t: { task_id: string }) => t.task_id)).toContain("api-1");
  });

  it("triad cancel ends a running task abandoned; a finished or unknown task is refused with the reason", async () => {
    const auth = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
    const submitted = await fetch(`${coordinatorUrl}/tasks`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ task_id: "to-cancel", task_type: "sleep", payload: { ms: 60_000 } }),
    });
    expect(submitted.status).toBe(202);
    const deadline = performance.now() + 10_000;
    let status = "";
    let worker = "";
    while (status !== "in_progress" && performance.now() < deadline) {
      const task = (await (await fetch(`${coordinatorUrl}/tasks/to-cancel`, { headers: auth })).json()) as {
        status: string;
        assigned_to: string;
      };
      status = task.status;
      worker = task.assigned_to;
      if (status !== "in_progress") await new Promise((r) => setTimeout(r, 25));
    }
    expect(status).toBe("in_progress");

    const r = await runTriad(["cancel", "--coordinator", coordinatorUrl, "--task", "to-cancel"], { env });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      task_id: "to-cancel",
      status: "abandoned",
      error: "canceled by client",
    });
    // The cancel reached the worker process: its sleep stopped (its slot is free long before the
    // 60 s are over), and the attempt's outcome was refused: the task stays canceled.
    const loadOf = async () =>
      (
        (await (await fetch(`${coordinatorUrl}/agents`, { headers: auth })).json()) as {
          agents: Array<{ id: string; load: number }>;
        }
      ).agents.find((a) => a.id === worker)?.load;
    for (let i = 0; i < 200 && (await loadOf()) !== 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await loadOf()).toBe(0);
    const later = await (await fetch(`${coordinatorUrl}/tasks/to-cancel?wait=100`, { headers: auth })).json();
    expect(later).toMatchObject({ status: "abandoned", error: "canceled by client" });

    const again = await runTriad(["cancel", "--coordinator", coordinatorUrl, "--task", "to-cancel"], { env });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/409 ERR_TASK_FINISHED task to-cancel is already abandoned/);
    const unknown = await fetch(`${coordinatorUrl}/tasks/no-such-task/cancel`, {
      method: "POST",
      headers: auth,
    });
    expect(unknown.status).toBe(404);
    expect((await fetch(`${coordinatorUrl}/tasks/to-cancel/cancel`, { method: "POST" })).status).toBe(401);
    expect((await fetch(`${coordinatorUrl}/tasks/to-cancel/cancel`, { headers: auth })).status).toBe(405);
  });

  it("SIGTERM ends every process with exit 0 within the shutdown bound", async () => {
    const running = procs.filter((p) => p.running);
    expect(running).toHaveLength(4);
    const started = performance.now();
    for (const p of [...running].reverse()) p.signal("SIGTERM");
    const exits = await Promise.all(running.map((p) => p.exit(15_000)));
    expect(exits.map((e) => e.code)).toEqual([0, 0, 0, 0]);
    expect(performance.now() - started).toBeLessThan(15_000);
  });
});

describe("triad CLI usage", () => {
  it.each([
    [["coordinator", "--port", "1"], /missing required option --id/],
    [["worker", "--id", "w", "--distributor", "http://x", "--port", "nope"], /--port must be a number/],
    [["up", "--bogus"], /unknown option --bogus/],
    [["up", "--memory-max-finished", "0"], /--memory-max-finished must be a positive integer \(got 0\)/],
    [
      ["up", "--redis", "redis://127.0.0.1:1", "--memory-max-finished", "5"],
      /--memory-max-finished is for the embedded store/,
    ],
    [["frobnicate"], /unknown command "frobnicate"/],
  ])("bad flags %j: usage on stderr and exit 2", async (args, message) => {
    const r = await runTriad(args as string[], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/usage: triad/);
  });

  it("a secret on the command line is not an option; without TRIAD_SECRET a tier refuses to start", async () => {
    expect(
      (
        await runTriad(["coordinator", "--id", "c", "--redis", "redis://x", "--port", "1", "--secret", "s"], {
          env,
        })
      ).code,
    ).toBe(2);
    const r = await runTriad(["coordinator", "--id", "c", "--redis", "redis://127.0.0.1:1", "--port", "1"], {
      env: { ...env, TRIAD_SECRET: "" },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/TRIAD_SECRET is not set/);
  });

  it("a negative --busy-poll is refused before anything starts, naming the option", async () => {
    const r = await runTriad(
      ["coordinator", "--id", "c", "--redis", "redis://127.0.0.1:1", "--port", "0", "--busy-poll", "-5"],
      { env },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/busyPollUs must be a non-negative number.*ERR_INVALID_CONFIG/);
  });

  it("--help documents every option and its environment variable", async () => {
    const r = await runTriad(["distributor", "--help"], { env });
    expect(r.code).toBe(0);
    for (const flag of [
      "--id",
      "--coordinator",
      "--redis",
      "--port",
      "--log-level",
      "--config",
      "--busy-poll",
      "TRIAD_REDIS",
      "TRIAD_BUSY_POLL",
      "TRIAD_SECRET",
    ]) {
      expect(r.stdout).toContain(flag);
    }
  });

  it("triad up --tasks 2000 finishes and prints its summary", async () => {
    const r = await runTriad(["up", "--tasks", "2000", "--port", "0"], { env, timeoutMs: 120_000 });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Summary: 2000 tasks/);
    expect(r.stdout).toMatch(/completed\s+2000/);
    expect(r.stdout).toMatch(/retried\s+[1-9]\d*/);
    expect(r.stdout).toMatch(/latency\s+p50 .* p95 .* p99 /);
    expect(r.stdout).toMatch(/all checked results right/);
  });
});
