import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { START_UP_MS } from "../helpers/processes.js";

/**
 * bench/ab.ts (two builds side by side) says how it is used, and starts nothing to say it: no
 * redis-server, no run. A bad flag is refused with the usage's pointer, before any run starts.
 */
const REPO = fileURLToPath(new URL("../..", import.meta.url));
const TSX = fileURLToPath(new URL("../../node_modules/tsx/dist/cli.mjs", import.meta.url));

function ab(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [TSX, "bench/ab.ts", ...args],
      { cwd: REPO, timeout: START_UP_MS },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== "number") return reject(err);
        resolve({ code: child.exitCode, stdout, stderr });
      },
    );
  });
}

describe("bench/ab.ts --help", () => {
  it.each([["--help"], ["-h"]])(
    "%s prints the usage, every flag with its default, and exits 0",
    async (flag) => {
      const { code, stdout } = await ab([flag]);
      expect(code).toBe(0);
      expect(stdout).toMatch(/^Usage: npx tsx bench\/ab\.ts/);
      for (const option of ["--a DIR", "--b DIR", "--mode MODE", "--pairs N", "--tasks N", "--warm N"])
        expect(stdout).toContain(option);
      expect(stdout).toContain("default 6");
    },
    START_UP_MS + 10_000,
  );

  it.each([
    [["--pairs", "two"], "--pairs"],
    [["--tasks", "0"], "--tasks"],
    [["--warm", "-1"], "--warm"],
    [["--mode", "fast"], "--mode"],
    [["--rounds", "3"], "--rounds"],
  ])(
    "%j is refused before any run, naming the flag and --help",
    async (args, flag) => {
      const { code, stdout, stderr } = await ab(args);
      expect(code).not.toBe(0);
      expect(stdout).toBe("");
      expect(stderr).toContain(flag);
      expect(stderr).toContain("--help");
    },
    START_UP_MS + 10_000,
  );
});
