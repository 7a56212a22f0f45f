import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

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

/**
 * The test harness's own promise: a redis-server a test process started does not outlive it,
 * even when that process is killed -9 (as a killed vitest's workers are), single or a cluster node.
 */
describe("servers started by a test process", () => {
  const dir = mkdtempSync(join(tmpdir(), "triad-reaper-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("are killed when that process is killed -9, and one it stopped itself is left alone", async () => {
    const script = join(dir, "starts-redis.mts");
    const helper = pathToFileURL(join(HELPERS, "redis-server.ts")).href;
    writeFileSync(
      script,
      [
        `const { RedisServer } = await import(${JSON.stringify(helper)});`,
        "const stopped = await RedisServer.start();",
        "const stoppedPid = stopped.pid;",
        "await stopped.stop();",
        "const kept = await RedisServer.start();",
        "process.stdout.write(JSON.stringify({ kept: kept.pid, stopped: stoppedPid }) + '\\n');",
        "setInterval(() => {}, 1000);",
      ].join("\n"),
    );
    const child = spawn(process.execPath, ["--import", "tsx", script], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    const pids = await new Promise<{ kept: number; stopped: number }>((resolve, reject) => {
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("\n")) resolve(JSON.parse(out.split("\n")[0]!));
      });
      child.once("exit", (code) => reject(new Error(`the child exited (${code}) first: ${err}`)));
    });
    expect(alive(pids.kept)).toBe(true);
    expect(alive(pids.stopped)).toBe(false);
    child.kill("SIGKILL");
    const deadline = performance.now() + 10_000;
    while (alive(pids.kept) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const left = alive(pids.kept);
    if (left) process.kill(pids.kept, "SIGKILL"); // not left behind by this test either
    expect(left, `redis-server ${pids.kept} outlived the process that started it`).toBe(false);
  }, 30_000);
});
