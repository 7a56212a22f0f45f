import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { constants } from "node:os";
import { fileURLToPath } from "node:url";
import { reapWithThisProcess } from "./reaper.js";
import { START_UP_MS } from "./test-budgets.js";

export const TRIAD_BIN = fileURLToPath(new URL("../../bin/triad", import.meta.url));

/** How long a `bin/triad` process may take to say it is ready (test-budgets.ts). */
export { START_UP_MS };

/**
 * One `bin/triad` process of a test: its output kept (bounded), lines awaited, signals sent
 * to its pid (SIGTERM, SIGKILL, SIGSTOP, SIGCONT), its exit awaited.
 */
export class TriadProcess {
  readonly child: ChildProcess;
  private out = "";
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private listeners: Array<() => void> = [];

  /** `node`'s own arguments before `args`: `bin/triad`, or bin/triad behind a loader hook (["--import", hook, TRIAD_BIN]). */
  constructor(args: string[], env: Record<string, string | undefined> = {}, script: string[] = [TRIAD_BIN]) {
    this.child = spawn(process.execPath, [...script, ...args], {
      env: { ...process.env, ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    // Killed with the test that started it (inside stoppedWithTest) and, at the latest, with this
    // test process: vitest stops a worker with SIGTERM, which runs no "exit" handler.
    reapWithThisProcess(this.child);
    const keep = (d: Buffer) => {
      this.out = (this.out + d.toString()).slice(-200_000);
      for (const l of this.listeners) l();
    };
    this.child.stdout?.on("data", keep);
    this.child.stderr?.on("data", keep);
    this.exited = new Promise((resolve) =>
      this.child.once("exit", (code, signal) => resolve({ code, signal })),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  get output(): string {
    return this.out;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves with the first match of `pattern` in the output; rejects on timeout or exit. */
  waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = this.out.match(pattern);
        if (m) {
          done();
          resolve(m);
        } else if (!this.running) {
          done();
          reject(new Error(`process exited before ${pattern} appeared:\n${this.out.slice(-3000)}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(`timed out after ${timeoutMs} ms waiting for ${pattern}:\n${this.out.slice(-3000)}`),
        );
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== check);
      };
      this.listeners.push(check);
      this.child.once("exit", check);
      check();
    });
  }

  signal(sig: NodeJS.Signals): void {
    if (this.running) this.child.kill(sig);
  }

  /**
   * Sends `sig` twice, the second as soon as the kernel has handed the first to the process (it
   * is no longer pending in /proc/<pid>/status), without a turn of this event loop in between:
   * two sent at once merge into one while the first is still pending, and one sent after reading
   * the process's reaction in its output comes seconds late on a loaded machine. Linux only.
   */
  signalTwice(sig: NodeJS.Signals, timeoutMs = 20_000): void {
    const bit = 1n << BigInt(constants.signals[sig] - 1);
    const pending = () => {
      const status = readFileSync(`/proc/${this.pid}/status`, "utf8");
      let mask = 0n;
      for (const m of status.matchAll(/^(?:SigPnd|ShdPnd):\s*([0-9a-f]+)$/gm)) mask |= BigInt(`0x${m[1]}`);
      return (mask & bit) !== 0n;
    };
    const nap = new Int32Array(new SharedArrayBuffer(4));
    this.child.kill(sig);
    const deadline = performance.now() + timeoutMs;
    while (pending()) {
      if (performance.now() > deadline) throw new Error(`${sig} still pending after ${timeoutMs} ms`);
      Atomics.wait(nap, 0, 0, 1); // a millisecond, synchronously
    }
    this.child.kill(sig);
  }

  exit(timeoutMs = 20_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return Promise.race([
      this.exited,
      new Promise<never>((_, reject) =>
        setTimeout(
          () => reject(new Error(`process did not exit within ${timeoutMs} ms:\n${this.out.slice(-3000)}`)),
          timeoutMs,
        ),
      ),
    ]);
  }

  /** SIGKILL if still running; for afterEach/afterAll. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child.kill("SIGCONT");
    this.child.kill("SIGKILL");
    await this.exited;
  }
}

/** Runs `bin/triad` to completion and gives its exit code and output. */
export async function runTriad(
  args: string[],
  options: { env?: Record<string, string | undefined>; input?: string; timeoutMs?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [TRIAD_BIN, ...args], { env: { ...process.env, ...options.env } });
  reapWithThisProcess(child);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  child.stdin.end(options.input ?? "");
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
  const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** What an agent's `bin/triad` process prints once it listens; its group is the agent's URL. */
const READY = /ready \w+ \S+ (http:\/\/\S+)/;

/** One process of `startSideBySide`: its arguments, and what differs for it from the call's options. */
export type SideBySideStart = {
  args: string[];
  /** Over the call's `env`. */
  env?: Record<string, string | undefined>;
  /** Its ready line (the first group, if any, is its URL); the call's `ready` unless given. */
  ready?: RegExp;
  /** How long it may take to print it; the call's `withinMs` unless given. */
  withinMs?: number;
  /** `node`'s arguments before `args`, as TriadProcess takes them. */
  script?: string[];
};

/** A process startSideBySide started, and the first group of its ready line (its URL). */
export type StartedSideBySide = { proc: TriadProcess; url: string };

/**
 * Starts every process of `starts` at once and waits for each one's ready line (within
 * START_UP_MS each unless said otherwise), so a set-up needs one start-up's bound, not one per
 * process: an agent waits for its upstream, so each may be given the address of another that
 * does not listen yet. Resolves with them in the order given, each with the first group of its
 * ready line (its URL). Each is pushed onto `into` as it starts, in that order (for the caller's
 * afterAll, or to read its output later); TriadProcess hands each to the reaper. When any does
 * not get ready, every one of them is stopped (SIGKILL, its exit awaited) and the error names
 * which one failed and why (its output's end).
 */
export async function startSideBySide<T extends ReadonlyArray<string[] | SideBySideStart> | []>(
  starts: T,
  options: {
    env?: Record<string, string | undefined>;
    ready?: RegExp;
    withinMs?: number;
    into?: TriadProcess[];
  } = {},
): Promise<{ -readonly [K in keyof T]: StartedSideBySide }> {
  const specs = starts.map((s) => (Array.isArray(s) ? { args: s } : s) as SideBySideStart);
  const procs = specs.map((s) => new TriadProcess(s.args, { ...options.env, ...s.env }, s.script));
  options.into?.push(...procs);
  const ready = procs.map((p, i) =>
    p
      .waitFor(
        specs[i]!.ready ?? options.ready ?? READY,
        specs[i]!.withinMs ?? options.withinMs ?? START_UP_MS,
      )
      .then(
        (m) => ({ proc: p, url: m[1] ?? "" }),
        (err: unknown) => Promise.reject(new NotReady(i, err)),
      ),
  );
  try {
    return (await Promise.all(ready)) as { -readonly [K in keyof T]: StartedSideBySide };
  } catch (err) {
    await Promise.all(procs.map((p) => p.kill()));
    if (!(err instanceof NotReady)) throw err;
    const { args } = specs[err.index]!;
    const id = args.indexOf("--id");
    const name = [args[0] ?? "", id >= 0 ? (args[id + 1] ?? "") : ""].filter(Boolean).join(" ");
    const why = err.cause instanceof Error ? err.cause.message : String(err.cause);
    throw new Error(
      `${name || "process"} (${err.index + 1} of ${procs.length} started side by side) did not get ready, ` +
        `so all ${procs.length} were stopped: ${why}`,
      { cause: err.cause },
    );
  }
}

/** Which of the processes of startSideBySide did not get ready, and its waitFor's error. */
class NotReady extends Error {
  constructor(
    readonly index: number,
    cause: unknown,
  ) {
    super(`process ${index + 1} did not get ready`, { cause });
  }
}
