import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../helpers/free-port.js";
import { runTriad, START_UP_MS, TriadProcess } from "../helpers/processes.js";
import { reapWithThisProcess } from "../helpers/reaper.js";

/**
 * Every file of examples/ runs as its header (and the README) says, so that none rots: the
 * scripts as `npx tsx <file>`, the A2A agent behind a cluster through its handlers module with
 * the header's `triad submit` lines, the A2A client against a cluster. The examples run
 * elsewhere are named in COVERED, and a file of examples/ that no test runs fails here.
 */

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const TSX = fileURLToPath(new URL("../../node_modules/tsx/dist/cli.mjs", import.meta.url));
const env = { TRIAD_SECRET: "examples-secret-0123456789", TRIAD_API_TOKEN: "", TRIAD_LOG_LEVEL: "warn" };

/** Each example and the test file that runs it. */
const COVERED: Record<string, string> = {
  "a2a-agent.mjs": "test/e2e/examples.test.ts",
  "a2a-client.ts": "test/e2e/examples.test.ts",
  "a2a-handlers.mjs": "test/e2e/examples.test.ts",
  "approval-graph.mjs": "test/e2e/human-input.test.ts",
  "handlers.mjs": "test/e2e/examples.test.ts",
  "integration.ts": "test/e2e/examples.test.ts",
  "langgraph-checkpointer.ts": "test/e2e/examples.test.ts",
  "workflow-handlers.mjs": "test/integration/workflow/workflow-example.test.ts",
};

/** A node process (an example) whose output is kept, lines awaited, killed at the end. */
class NodeProcess {
  readonly child: ChildProcess;
  output = "";
  readonly exited: Promise<number | null>;
  constructor(args: string[], extraEnv: Record<string, string> = {}) {
    this.child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env, ...extraEnv } });
    reapWithThisProcess(this.child); // gone with this test process, whatever the test did
    const keep = (d: Buffer) => {
      this.output += d.toString();
    };
    this.child.stdout?.on("data", keep);
    this.child.stderr?.on("data", keep);
    this.exited = new Promise((resolve) => this.child.once("exit", (code) => resolve(code)));
  }
  /** Resolves once the output matches, rejects when the process ends first or after timeoutMs. */
  async waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    let ended = false;
    void this.exited.then(() => {
      ended = true;
    });
    for (;;) {
      const m = this.output.match(pattern);
      if (m) return m;
      if (ended || Date.now() > deadline) {
        throw new Error(`no ${pattern} (${ended ? "it ended" : "timed out"}):\n${this.output}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
    await this.exited;
  }
}

/** Runs `npx tsx examples/<file> ...args` to its end: exit code and output. */
async function runExample(
  file: string,
  args: string[] = [],
): Promise<{ code: number | null; output: string }> {
  const p = new NodeProcess([TSX, `examples/${file}`, ...args]);
  const timer = setTimeout(() => p.child.kill("SIGKILL"), 120_000);
  const code = await p.exited;
  clearTimeout(timer);
  return { code, output: p.output };
}

describe("examples/", () => {
  const procs: Array<{ kill(): Promise<void> }> = [];
  afterAll(async () => {
    for (const p of procs) await p.kill();
  });

  /**
   * `triad up --tasks 0 --keep --port 0 --workers 2 --handlers <handlers>` with the test's env
   * (and `extraEnv`), killed at the end: it and its coordinator's URL once it serves.
   */
  async function upWith(
    handlers: string,
    extraEnv: Record<string, string> = {},
  ): Promise<{ up: TriadProcess; url: string }> {
    const up = new TriadProcess(
      ["up", "--tasks", "0", "--keep", "--port", "0", "--workers", "2", "--handlers", handlers],
      { ...env, ...extraEnv },
    );
    procs.push(up);
    const url = (await up.waitFor(/serving at (http:\/\/\S+);/, START_UP_MS))[1]!;
    return { up, url };
  }

  it("every file in examples/ is run by a test that names it", () => {
    const files = readdirSync(new URL("../../examples/", import.meta.url)).sort();
    expect(files).toEqual(Object.keys(COVERED).sort());
    for (const [file, test] of Object.entries(COVERED)) {
      expect(readFileSync(`${ROOT}${test}`, "utf8"), `${test} runs examples/${file}`).toContain(
        `examples/${file}`,
      );
    }
  });

  it("examples/integration.ts runs as `npx tsx examples/integration.ts` says", async () => {
    const { code, output } = await runExample("integration.ts");
    expect(code, output).toBe(0);
    const record = (label: string) => {
      const line = output.split("\n").find((l) => l.startsWith(`${label}: `));
      expect(line, output).toBeDefined();
      return JSON.parse(line!.slice(label.length + 2)) as Record<string, unknown>;
    };
    expect(record("worker.executeTask")).toMatchObject({ task_id: "task-1", status: "completed" });
    expect(record("committed by the cluster")).toMatchObject({
      task_id: "task-1",
      status: "completed",
      result: { result: 0 },
    });
  }, 150_000);

  it("examples/langgraph-checkpointer.ts runs as `npx tsx examples/langgraph-checkpointer.ts` says", async () => {
    const { code, output } = await runExample("langgraph-checkpointer.ts");
    expect(code, output).toBe(0);
    expect(JSON.parse(output.trim().split("\n").at(-1)!)).toEqual({
      result: { topic: "Redis", notes: ["facts about Redis", "a draft from 1 note(s)"] },
      step: 2,
      threads: ["report-42"],
    });
  }, 150_000);

  it("examples/a2a-agent.mjs behind `triad up --handlers examples/a2a-handlers.mjs`, and examples/a2a-client.ts against it", async () => {
    const agentPort = await freePort();
    const agent = new NodeProcess(["examples/a2a-agent.mjs", "--port", String(agentPort)]);
    procs.push(agent);
    await agent.waitFor(/A2A agent "Example summarizer" at http:\/\/127\.0\.0\.1:\d+/, START_UP_MS);

    const { up, url } = await upWith("examples/a2a-handlers.mjs", {
      A2A_AGENT_URL: `http://127.0.0.1:${agentPort}`,
    });
    expect(up.output).toMatch(/Your task types: summarize, headline/);

    // The header's two submits, as written but for the coordinator's address.
    const summarize = await runTriad(
      ["submit", "--coordinator", url, "--type", "summarize", "--payload", '{"text":"One. Two."}', "--wait"],
      { env },
    );
    expect(summarize.code, summarize.stderr).toBe(0);
    expect(JSON.parse(summarize.stdout)).toMatchObject({
      status: "completed",
      result: { summary: "One.", words: 2 },
    });
    const headline = await runTriad(
      ["submit", "--coordinator", url, "--type", "headline", "--payload", '{"title":"Triad"}', "--wait"],
      { env },
    );
    expect(headline.code, headline.stderr).toBe(0);
    expect(JSON.parse(headline.stdout)).toMatchObject({
      status: "completed",
      result: { headline: "Triad." },
    });
    expect(agent.output).toMatch(/: summarize for Triad task /);

    const client = await runExample("a2a-client.ts", [url]);
    expect(client.code, client.output).toBe(0);
    expect(client.output).toMatch(/^\S+ TASK_STATE_COMPLETED \{ result: 6 \}$/m);
  }, 300_000);

  it("examples/handlers.mjs: word_count, slow_square and the review graph, through a worker", async () => {
    const { url } = await upWith("examples/handlers.mjs");
    const cases = [
      { task_type: "word_count", payload: { text: "to be or not" }, result: { words: 4, longest: "not" } },
      { task_type: "slow_square", payload: { n: 7 }, result: { square: 49 } },
      {
        task_type: "review",
        payload: { text: "Triad runs tasks." },
        result: { draft: "Summary: Triad runs tasks.", approved: true },
      },
    ];
    for (const c of cases) {
      const r = await runTriad(
        [
          "submit",
          "--coordinator",
          url,
          "--type",
          c.task_type,
          "--payload",
          JSON.stringify(c.payload),
          "--wait",
        ],
        { env },
      );
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ status: "completed", result: c.result });
    }
  }, 300_000);
});
