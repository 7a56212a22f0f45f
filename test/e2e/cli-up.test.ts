import { execFile, spawn } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runTriad, START_UP_MS, TRIAD_BIN, TriadProcess } from "../helpers/processes.js";
import { reapWithThisProcess } from "../helpers/reaper.js";
import { testRedis } from "../helpers/redis-server.js";

/**
 * What a new user meets first with `triad up`: their own handlers run by its workers, log lines
 * a person can read on a terminal (JSON lines when piped), and the dashboard's address printed
 * after the agents' start-up lines, not buried among them.
 */

const env = {
  TRIAD_SECRET: "up-secret-0123456789",
  TRIAD_API_TOKEN: "",
  TRIAD_LOG_LEVEL: "info",
  TRIAD_LOG_FORMAT: "",
};
const SMALL = ["up", "--tasks", "0", "--port", "0", "--distributors", "2", "--workers", "3"];
const SCRIPT = "/usr/bin/script";
// biome-ignore lint/suspicious/noControlCharactersInRegex: the escape sequences of colours
const ANSI = /\u001b\[/;

/** Runs `triad ...args` in a pseudo-terminal (util-linux `script`): stdout and stderr are one TTY. */
function onTerminal(args: string[], extraEnv: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      SCRIPT,
      ["-q", "-e", "-c", [process.execPath, TRIAD_BIN, ...args].join(" "), "/dev/null"],
      { env: { ...process.env, ...env, ...extraEnv }, timeout: 60_000 },
      (err, stdout) => (err ? reject(err) : resolve(stdout)),
    );
  });
}

/** Runs `triad ...args` with stdout and stderr written to one file, so its lines keep their order. */
function interleaved(args: string[]): Promise<string[]> {
  const file = join(mkdtempSync(join(tmpdir(), "triad-up-")), "out.txt");
  const fd = openSync(file, "w");
  const child = spawn(process.execPath, [TRIAD_BIN, ...args], {
    env: { ...process.env, ...env, TRIAD_LOG_FORMAT: "json" },
    stdio: ["ignore", fd, fd],
  });
  reapWithThisProcess(child);
  closeSync(fd);
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0 ? resolve(readFileSync(file, "utf8").split("\n")) : reject(new Error(`exit ${code}`)),
    );
  });
}

describe("triad up for a new user", () => {
  const procs: TriadProcess[] = [];
  let redis: Awaited<ReturnType<typeof testRedis>> | undefined;
  afterAll(async () => {
    for (const p of procs) await p.kill();
    await redis?.close();
  });
  /**
   * `triad up` with SMALL's arguments, piped, run to its end once for the two tests that read what
   * it printed (its summary, its log lines): every other test here starts, signals or configures
   * an `up` of its own, so they cannot share one.
   */
  let smallRun: ReturnType<typeof runTriad> | undefined;
  const small = () => {
    smallRun ??= runTriad(SMALL, { env });
    return smallRun;
  };

  it("--handlers MODULE: every worker runs the module's task types beside the built-in ones", async () => {
    const up = new TriadProcess([...SMALL, "--keep", "--handlers", "examples/handlers.mjs"], env);
    procs.push(up);
    const url = (await up.waitFor(/serving at (http:\/\/\S+);/, START_UP_MS))[1]!;
    expect(up.output).toMatch(/Your task types: word_count, slow_square, review/);
    const post = await fetch(`${url}/tasks`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ task_id: "mine-1", task_type: "word_count", payload: { text: "to be or not" } }),
    });
    expect(post.status).toBe(202);
    const done = await (await fetch(`${url}/tasks/mine-1?wait=10000`)).json();
    expect(done).toMatchObject({ status: "completed", result: { words: 4, longest: "not" } });
    up.signal("SIGTERM");
    expect((await up.exit(15_000)).code).toBe(0);

    const missing = await runTriad([...SMALL, "--handlers", "./no-such-handlers.mjs"], { env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot load handlers module \.\/no-such-handlers\.mjs/);
    // Its budget is the sum of its bounded waits (a start-up of five agents and a handlers module,
    // 60 s; the task, 10 s; the shutdown, 15 s; a second start-up that fails): each step fails with
    // its own message. Under load the whole took 47 s, past the 30 s default it had.
  }, 120_000);

  it.each(["SIGTERM", "SIGINT"] as const)(
    "%s during the workload (no --keep): submits no more, lets what runs end, prints the summary of what ran, exit 0",
    async (sig) => {
      const up = new TriadProcess(["up", "--tasks", "20000", "--port", "0"], env);
      procs.push(up);
      await up.waitFor(/progress: [1-9]\d*\/20000 done/, 60_000);
      up.signal(sig);
      const { code, signal } = await up.exit(60_000);
      expect(signal).toBeNull(); // it was killed by the signal (exit 143 / 130, no summary)
      expect(code).toBe(0);
      expect(up.output).toMatch(new RegExp(`${sig}: shutting down`));
      expect(up.output).toMatch(/Summary: 20000 tasks, interrupted after /);
      expect(up.output).toMatch(/interrupted\s+[1-9]\d* submitted and not finished, \d+ not submitted/);
      // Nothing failed for being interrupted: no task was refused by a worker shutting down.
      expect(up.output).toMatch(/failed\s+0\n/);
      expect(up.output).not.toMatch(/task did not complete/);
    },
    90_000,
  );

  it.each(["memory://", "redis"])(
    "prints the dashboard's address after every agent's registration line (%s)",
    async (store) => {
      if (store === "redis") redis ??= await testRedis();
      const url = store === "redis" ? redis!.url : store;
      const lines = await interleaved([...SMALL, "--redis", url]);
      const address = lines.findIndex((l) => l.startsWith("Dashboard and API: http://"));
      const registered = lines.flatMap((l, i) =>
        /"msg":"(worker|distributor) registered"/.test(l) ? [i] : [],
      );
      expect(registered.length).toBe(5); // 2 distributors, 3 workers
      expect(address).toBeGreaterThan(Math.max(...registered));
      expect(lines[address]).toMatch(/\/openapi\.json/);
    },
  );

  it("--tasks 0: the summary says no tasks were run, with no throughput of 0 tasks/s nor latency of nothing", async () => {
    const r = await small();
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Summary: no tasks were run \(--tasks 0\)$/m);
    expect(r.stdout).not.toMatch(/throughput|latency|tasks\/s/);
    expect(r.stdout).toMatch(/^ {2}workers {7}worker-1 0, worker-2 0, worker-3 0$/m);
  });

  it("logs JSON lines when piped, and TRIAD_LOG_FORMAT=pretty makes them readable (no colours off a terminal)", async () => {
    const piped = await small();
    expect(piped.code).toBe(0);
    // --tasks 0: each agent listed with none finished, no empty line.
    expect(piped.stdout).toMatch(/^ {2}distributors {2}distributor-1 0, distributor-2 0$/m);
    expect(piped.stdout).toMatch(/^ {2}workers {7}worker-1 0, worker-2 0, worker-3 0$/m);
    const lines = piped.stderr.trim().split("\n");
    expect(lines.length).toBeGreaterThan(4);
    for (const line of lines) expect(JSON.parse(line), line).toHaveProperty("msg");

    const pretty = await runTriad(SMALL, { env: { ...env, TRIAD_LOG_FORMAT: "pretty" } });
    expect(pretty.stderr).toMatch(
      /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: worker registered \{"agent":"distributor-1"/m,
    );
    expect(pretty.stderr).not.toMatch(/"level":/);
    expect(pretty.stderr).not.toMatch(ANSI);

    const wrong = await runTriad([...SMALL, "--log-format", "xml"], { env });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/--log-format must be one of auto, pretty, json \(got "xml"\)/);
  });

  it.skipIf(!existsSync(SCRIPT))(
    "logs readable, coloured lines on a terminal by default; TRIAD_LOG_FORMAT=json keeps JSON there",
    async () => {
      const tty = await onTerminal(SMALL);
      expect(tty).toMatch(/INFO.*: .*worker registered/);
      expect(tty).toMatch(ANSI);
      expect(tty).not.toMatch(/"level":30/);
      expect(tty).toMatch(/Dashboard and API: http:/);

      const json = await onTerminal(SMALL, { TRIAD_LOG_FORMAT: "json" });
      expect(json).toMatch(/\{"level":30,.*"msg":"worker registered"/);
    },
  );
});
