import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { START_UP_MS, TRIAD_BIN, TriadProcess } from "../helpers/processes.js";
import { until } from "../helpers/wait.js";

/**
 * Ctrl-C or SIGTERM while the CLI's modules load (seconds on a loaded machine, before any
 * command hears a signal) stops the process at once, saying so on stderr (an agent with exit 0); it ended
 * by the signal (130/143) with no word. A load hook holds the loading of one module (the CLI's
 * main, or the command's own module) until the test lets it go: the signal is sent while that
 * module loads, not at a guessed moment. The hook marks the hold by a file the test waits for.
 */
function holdingHook(dir: string): string {
  const hooks = join(dir, "hooks.mjs");
  writeFileSync(
    hooks,
    `import { existsSync, writeFileSync } from "node:fs";
export async function load(url, context, next) {
  if (url.endsWith(process.env.HOLD_MODULE)) {
    writeFileSync(process.env.HOLD_MARK, url);
    // Let go once the release file appears (a test that failed to signal ends all the same).
    await new Promise((resolve) => {
      const timer = setInterval(() => {
        if (existsSync(process.env.HOLD_RELEASE)) {
          clearInterval(timer);
          resolve();
        }
      }, 20);
    });
  }
  return next(url, context);
}
`,
  );
  const register = join(dir, "register.mjs");
  writeFileSync(
    register,
    `import { register } from "node:module";\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`,
  );
  return register;
}

describe("a signal while the CLI's modules load", () => {
  let proc: TriadProcess | undefined;
  let release: string | undefined;
  afterEach(async () => {
    if (release) writeFileSync(release, "");
    await proc?.kill();
  });

  // An agent exits 0, as a signal during its start does; a short command that never ran exits as
  // Node's default would (128 + the signal's number), so a script sees it did not run.
  const DISTRIBUTOR = [
    "distributor",
    "--id",
    "d-loading",
    "--coordinator",
    "http://127.0.0.1:9",
    "--redis",
    "redis://127.0.0.1:9",
    "--port",
    "0",
  ];
  const SUBMIT = ["submit", "--coordinator", "http://127.0.0.1:9", "--type", "echo"];
  it.each([
    { signal: "SIGINT" as const, module: "/dist/cli/main.js", args: DISTRIBUTOR, code: 0 },
    { signal: "SIGTERM" as const, module: "/dist/cli/commands/distributor.js", args: DISTRIBUTOR, code: 0 },
    { signal: "SIGINT" as const, module: "/dist/cli/main.js", args: SUBMIT, code: 130 },
    { signal: "SIGTERM" as const, module: "/dist/cli/commands/submit.js", args: SUBMIT, code: 143 },
  ])(
    "$signal while $module loads ($args.0): exit $code, saying it stops",
    async ({ signal, module, args, code }) => {
      const dir = mkdtempSync(join(tmpdir(), "triad-hold-"));
      const mark = join(dir, "held");
      release = join(dir, "release");
      // Nothing listens on these: the command must never get as far as using them.
      proc = new TriadProcess(
        args,
        {
          HOLD_MODULE: module,
          HOLD_MARK: mark,
          HOLD_RELEASE: release,
          TRIAD_SECRET: randomBytes(32).toString("hex"),
        },
        ["--import", holdingHook(dir), TRIAD_BIN],
      );
      await until(`${module} is being loaded`, () => existsSync(mark) || !proc!.running, START_UP_MS);
      expect(proc.running).toBe(true);
      proc.signal(signal);
      const end = await proc.exit(START_UP_MS);
      expect(end).toEqual({ code, signal: null });
      expect(proc.output).toContain(`triad: ${signal} while loading: stopping`);
    },
  );
});
