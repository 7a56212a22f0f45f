import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { reapWithThisProcess } from "../../helpers/reaper.js";

const FIXTURE = fileURLToPath(new URL("./fixtures/echo-agent.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

type Line = Record<string, unknown>;

/** The echo agent running as its own node process (through tsx), its JSON output lines collected. */
export class AgentProcess {
  readonly lines: Line[] = [];
  private stderr = "";
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;
  private waiters: Array<() => void> = [];

  private constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, ["--import", "tsx", FIXTURE], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    reapWithThisProcess(this.child); // gone with this test process, whatever the test did
    let partial = "";
    this.child.stdout?.on("data", (d: Buffer) => {
      const parts = (partial + d.toString()).split("\n");
      partial = parts.pop() ?? "";
      for (const part of parts) if (part.trim()) this.lines.push(JSON.parse(part) as Line);
      for (const wake of this.waiters) wake();
    });
    this.child.stderr?.on("data", (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-5000);
    });
    this.exited = new Promise((resolve) => this.child.once("exit", () => resolve()));
  }

  /** Starts the agent and resolves once it listens, with the port it bound. */
  static async start(env: Record<string, string>): Promise<{ agent: AgentProcess; port: number }> {
    const agent = new AgentProcess(env);
    const ready = await agent.waitFor((l) => typeof l.ready === "number", 30_000);
    return { agent, port: ready.ready as number };
  }

  /** The requestIds of every EVENT this process handled, in order. */
  handled(): string[] {
    return this.lines.filter((l) => typeof l.handled === "string").map((l) => l.handled as string);
  }

  waitFor(match: (line: Line) => boolean, timeoutMs = 20_000): Promise<Line> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.lines.find(match);
        if (found !== undefined) {
          done();
          resolve(found);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`agent process: timed out waiting for a line; stderr:\n${this.stderr}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
      };
      this.waiters.push(check);
      check();
    });
  }

  /** kill -9: no goodbye, connections reset, nothing flushed that was not already written. */
  async kill(): Promise<void> {
    this.child.kill("SIGKILL");
    await this.exited;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGTERM");
    await this.exited;
  }
}
