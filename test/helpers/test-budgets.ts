import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * How long the tests give things, in one place (vitest.config.ts and the helpers read them).
 * Every number here is a bound for something that never happens, not a speed check: a test that
 * meets it fast ends fast, and speed is measured in bench/.
 */

/**
 * How long a process a test starts may take to say it is ready (`bin/triad`, an agent script
 * under tsx, Chromium). On a loaded 2-core machine a `bin/triad` process printed nothing for
 * 30 s (Node's start and the package's import alone), so 30 s failed tests with nothing wrong.
 */
export const START_UP_MS = 60_000;

/** What a test or hook has for its own work: vitest's testTimeout and hookTimeout. */
export const WORK_MS = 30_000;

/**
 * A test or hook in a file that starts processes: one start-up at its bound (several started
 * side by side count once), then the work every test has. A test that starts processes one
 * after another says so with its own timeout (`n * START_UP_MS + WORK_MS`).
 */
export const PROCESS_TEST_MS = START_UP_MS + WORK_MS;

/**
 * What a test file that starts processes says: the helpers that start `bin/triad` (TriadProcess,
 * startSideBySide, runTriad, conformanceTriad), an agent script (AgentProcess), the fuzz suite's
 * cluster of processes (processSystem), Chromium (openDashboardBrowser), or a spawn of Node itself.
 */
export const STARTS_PROCESSES =
  /\b(TriadProcess|startSideBySide|runTriad|conformanceTriad|AgentProcess|processSystem|openDashboardBrowser)\b|\b(spawn|execFile|fork)(Sync)?\(\s*process\.execPath\b/;

/**
 * The test files under `dirs` (relative to `root`) that start processes, as paths relative to
 * `root` with forward slashes, sorted: the files of vitest.config.ts's "processes" project.
 */
export function processTestFiles(root: string, dirs: string[], skip: RegExp): string[] {
  const files: string[] = [];
  for (const dir of dirs) {
    for (const entry of readdirSync(join(root, dir), { recursive: true, encoding: "utf8" })) {
      const path = `${dir}/${entry.split("\\").join("/")}`;
      if (!path.endsWith(".test.ts") || skip.test(path)) continue;
      if (STARTS_PROCESSES.test(readFileSync(join(root, path), "utf8"))) files.push(path);
    }
  }
  return files.sort();
}
