import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { TriadProcess } from "../../helpers/processes.js";
import { stoppedWithTest } from "../../helpers/reaper.js";

const HELPERS = fileURLToPath(new URL("../../helpers/", import.meta.url));

/** Running: neither gone nor a zombie (killed, its parent gone, not yet reaped by init). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0] !== "Z";
  } catch {
    return false; // gone between the two looks
  }
}

/** The module specifier (a file: URL, as a JSON string) of test/helpers/`file`, for a script's import. */
const helper = (file: string) => JSON.stringify(pathToFileURL(join(HELPERS, file)).href);

/**
 * Writes `lines` to `script` (TypeScript) and runs it under tsx in a node process of its own;
 * `said` is the JSON of the first line it prints, and rejects (with its stderr) if it exits first.
 */
function runScript<T>(script: string, lines: string[]): { child: ChildProcess; said: Promise<T> } {
  writeFileSync(script, lines.join("\n"));
  const child = spawn(process.execPath, ["--import", "tsx", script], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stderr.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const said = new Promise<T>((resolve, reject) => {
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("\n")) resolve(JSON.parse(out.split("\n")[0]!) as T);
    });
    child.once("exit", (code) => reject(new Error(`the child exited (${code}) first: ${err}`)));
  });
  return { child, said };
}

/** Whether `pid` is gone within `timeoutMs`; killed (SIGKILL) if not, so this test leaves nothing behind either. */
async function gone(pid: number, timeoutMs = 10_000): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (alive(pid) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const left = alive(pid);
  if (left) process.kill(pid, "SIGKILL"); // not left behind by this test either
  return !left;
}

/**
 * The test harness's own promise: a redis-server a test process started does not outlive it,
 * even when that process is killed -9 (as a killed vitest's workers are), single or a cluster node.
 */
describe("servers started by a test process", () => {
  const dir = mkdtempSync(join(tmpdir(), "triad-reaper-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("are killed when that process is killed -9, and one it stopped itself is left alone", async () => {
    const { child, said } = runScript<{ kept: number; stopped: number }>(join(dir, "starts-redis.mts"), [
      `const { RedisServer } = await import(${helper("redis-server.ts")});`,
      "const stopped = await RedisServer.start();",
      "const stoppedPid = stopped.pid;",
      "await stopped.stop();",
      "const kept = await RedisServer.start();",
      "process.stdout.write(JSON.stringify({ kept: kept.pid, stopped: stoppedPid }) + '\\n');",
      "setInterval(() => {}, 1000);",
    ]);
    const pids = await said;
    expect(alive(pids.kept)).toBe(true);
    expect(alive(pids.stopped)).toBe(false);
    child.kill("SIGKILL");
    expect(await gone(pids.kept), `redis-server ${pids.kept} outlived the process that started it`).toBe(
      true,
    );
  }, 30_000);
});

/** What a test's `bin/triad` process is to the harness, without its start-up: a node process that waits. */
const IDLE = ["-e", "setInterval(() => {}, 1000)"];

/**
 * Processes a test starts (TriadProcess) do not outlive it: a chaos scenario that failed or timed
 * out left a standby distributor it had started running for minutes after vitest ended.
 */
describe("processes a test starts", () => {
  const dir = mkdtempSync(join(tmpdir(), "triad-started-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("are killed when the test process is stopped with SIGTERM (as vitest stops its workers: no exit handler runs)", async () => {
    const { child, said } = runScript<{ pid: number }>(join(dir, "starts-triad.mts"), [
      `const { TriadProcess } = await import(${helper("processes.ts")});`,
      `const started = new TriadProcess([], {}, ${JSON.stringify(IDLE)});`,
      "process.stdout.write(JSON.stringify({ pid: started.pid }) + '\\n');",
      "setInterval(() => {}, 1000);",
    ]);
    const { pid } = await said;
    expect(alive(pid)).toBe(true);
    child.kill("SIGTERM");
    expect(await gone(pid), `process ${pid} outlived the test process that started it`).toBe(true);
  }, 30_000);

  // The two below fail on purpose, after starting a process; the test after them checks it is gone.
  const pids: number[] = [];

  it.fails("(fails on purpose) one that throws", ({ onTestFinished }) =>
    stoppedWithTest(onTestFinished, async () => {
      pids.push(new TriadProcess([], {}, IDLE).pid);
      throw new Error("a scenario failed");
    }));

  it.fails(
    "(times out on purpose) one that waits past its timeout",
    ({ onTestFinished }) =>
      stoppedWithTest(onTestFinished, async () => {
        pids.push(new TriadProcess([], {}, IDLE).pid);
        await new Promise(() => {}); // its own clean-up (a finally) never runs
      }),
    1000,
  );

  it("are killed when a test that started them inside stoppedWithTest fails or times out", async () => {
    expect(pids.length).toBe(2);
    for (const pid of pids) expect(await gone(pid), `process ${pid} outlived its failed test`).toBe(true);
  });
});
