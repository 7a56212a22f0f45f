import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { START_UP_MS, TRIAD_BIN } from "../helpers/processes.js";

/**
 * The CLI loads a command's module (the agents, LangGraph, the Redis client, the HTTP server)
 * only to run that command: help and the API clients (submit, status) start without them.
 * Checked by recording every module the built CLI resolves, through a resolve hook.
 */

/**
 * The bound of one hooked CLI process, start to exit: twice a process's start-up bound, as the
 * resolve hook writes a line per module. Each test runs one process and is bounded a little
 * above it, so a process that hangs fails with its own message, not the test's timeout (vitest's
 * default 30 s was too short for five of them one after the other on a loaded 2-core machine).
 */
const PROCESS_MS = 2 * START_UP_MS;
const TEST_MS = PROCESS_MS + 10_000;

function hookedImport(): string {
  const dir = mkdtempSync(join(tmpdir(), "triad-hooks-"));
  const hooks = join(dir, "hooks.mjs");
  writeFileSync(
    hooks,
    `import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  appendFileSync(process.env.RESOLVED_LOG, resolved.url + "\\n");
  return resolved;
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

function modulesLoadedBy(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; modules: string[] }> {
  const register = hookedImport();
  const log = join(mkdtempSync(join(tmpdir(), "triad-resolved-")), "resolved.txt");
  writeFileSync(log, "");
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      ["--import", register, TRIAD_BIN, ...args],
      { env: { ...process.env, RESOLVED_LOG: log, TRIAD_LOG_LEVEL: "silent", ...env }, timeout: PROCESS_MS },
      (err) => {
        if (err && typeof err.code !== "number") return reject(err);
        resolve({ code: child.exitCode, modules: readFileSync(log, "utf8").split("\n").filter(Boolean) });
      },
    );
  });
}

// The agents' timing defaults (dist/agents/timing.js) are light and read by --help: not listed.
const HEAVY = [
  /@langchain\//,
  /node_modules\/(@redis|redis)\//,
  /node_modules\/express\//,
  /dist\/agents\/(index|coordinator|distributor|worker)/,
];

describe("triad's startup", () => {
  it.each([
    ["--help"],
    ["up", "--help"],
    ["status", "--coordinator", "http://127.0.0.1:1"],
    ["submit", "--coordinator", "http://127.0.0.1:1", "--type", "echo"],
    ["cancel", "--coordinator", "http://127.0.0.1:1", "--task", "t-1"],
  ])(
    "triad %s … loads neither the agents, LangGraph, the Redis client nor express",
    async (...args: string[]) => {
      const { modules } = await modulesLoadedBy(args);
      expect(modules.some((m) => m.endsWith("/dist/cli/main.js"))).toBe(true);
      const heavy = modules.filter((m) => HEAVY.some((h) => h.test(m)));
      expect(heavy, `triad ${args.join(" ")}`).toEqual([]);
    },
    TEST_MS,
  );

  // Refused for want of TRIAD_SECRET once the command's module is loaded, before any port opens.
  const unreachable = "http://127.0.0.1:1";
  it.each<[string, string[], RegExp]>([
    ["worker", ["--distributor", unreachable], /dist\/agents\/(index|coordinator\/|distributor\/)/],
    [
      "distributor",
      ["--coordinator", unreachable, "--redis", "redis://127.0.0.1:1"],
      /dist\/agents\/(index|coordinator\/|worker\/worker-agent)/,
    ],
    [
      "coordinator",
      ["--redis", "redis://127.0.0.1:1"],
      /dist\/agents\/(index|distributor\/|worker\/worker-agent)/,
    ],
  ])(
    "triad %s loads its own agent, not the other two (nor the agents' index)",
    async (tier, flags, others) => {
      const args = [tier, "--id", `${tier}-1`, "--port", "0", ...flags];
      const { code, modules } = await modulesLoadedBy(args, {
        TRIAD_SECRET: "",
        TRIAD_AGENT_KEY: "",
        TRIAD_AGENT_KEY_FILE: "",
      });
      expect(code, `triad ${tier}`).toBe(2);
      // The check can fail: the command's own module and its agent were loaded.
      expect(modules.some((m) => m.endsWith(`/dist/cli/commands/${tier}.js`))).toBe(true);
      expect(modules.some((m) => m.includes(`/dist/agents/${tier}/${tier}-agent.js`))).toBe(true);
      expect(
        modules.filter((m) => others.test(m)),
        `triad ${tier}`,
      ).toEqual([]);
    },
    TEST_MS,
  );

  it(
    "a command that runs agents does load them (the check above can see them)",
    async () => {
      const { modules } = await modulesLoadedBy(["up", "--tasks", "0", "--port", "0"]);
      expect(modules.some((m) => /dist\/agents\/coordinator\//.test(m))).toBe(true);
      expect(modules.some((m) => /@langchain\//.test(m))).toBe(true);
      // Its workers bridge no A2A agent (no --a2a-agent): the A2A client is not loaded.
      expect(
        modules.filter((m) => /@a2a-js\/sdk\/dist\/client\/|dist\/agents\/worker\/remote\//.test(m)),
      ).toEqual([]);
      // Its logs go to a pipe here: JSON lines, without pino-pretty.
      expect(modules.filter((m) => /node_modules\/pino-pretty\//.test(m))).toEqual([]);
    },
    TEST_MS,
  );

  it(
    "pino-pretty is loaded only when readable log lines are wanted",
    async () => {
      const { modules } = await modulesLoadedBy(["up", "--tasks", "0", "--port", "0"], {
        TRIAD_LOG_FORMAT: "pretty",
      });
      expect(modules.some((m) => /node_modules\/pino-pretty\//.test(m))).toBe(true);
    },
    TEST_MS,
  );
});
