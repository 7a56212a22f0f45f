import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const TIER_SCRIPT = fileURLToPath(new URL("../tier-process.ts", import.meta.url));

/** CPU seconds (user + system) process `pid` used so far, from /proc (Linux); NaN elsewhere or if gone. */
export function cpuSecondsOf(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 10 ms
  } catch {
    return Number.NaN;
  }
}

/** In a benchmark child: calls `handle` with each JSON line its parent writes on stdin. */
export function onCommands(handle: (command: Record<string, unknown>) => void): void {
  process.stdin.setEncoding("utf8");
  let buffered = "";
  process.stdin.on("data", (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split("\n");
    buffered = lines.pop()!;
    for (const line of lines) if (line.trim()) handle(JSON.parse(line));
  });
}

/**
 * In a benchmark child: calls `stop` when its parent is gone — stdin (the parent's pipe) ends,
 * or a write to stdout fails (EPIPE). A child left behind by a benchmark that died would spin
 * on beside the next run and skew its figures.
 */
export function stopWithParent(stop: () => void): void {
  let stopping = false;
  const once = () => {
    if (stopping) return;
    stopping = true;
    stop();
  };
  process.stdin.on("end", once);
  process.stdin.on("error", once);
  process.stdout.on("error", once);
  process.stdin.resume();
}

/**
 * A benchmark child process that speaks JSON lines: it prints one JSON object per line on
 * stdout and takes commands as JSON lines on stdin. stderr is kept for error messages.
 */
export class BenchChild {
  private readonly child: ChildProcess;
  private readonly lines: Array<Record<string, unknown>> = [];
  private waiting: Array<() => void> = [];
  private stderr = "";
  private partial = "";

  /** `script`: the TypeScript file to run (default bench/tier-process.ts). */
  constructor(args: string[], env: Record<string, string> = {}, script = TIER_SCRIPT) {
    // TRIAD_BENCH_CPU_PROF=DIR: a V8 CPU profile of each tier process, written to DIR when it exits.
    const profile = process.env.TRIAD_BENCH_CPU_PROF;
    const node = profile ? ["--cpu-prof", `--cpu-prof-dir=${profile}`] : [];
    this.child = spawn(process.execPath, [...node, "--import", "tsx", script, ...args], {
      env: { ...process.env, ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.child.stdout!.on("data", (d: Buffer) => {
      this.partial += d.toString();
      const parts = this.partial.split("\n");
      this.partial = parts.pop()!;
      for (const line of parts) if (line.trim()) this.lines.push(JSON.parse(line));
      this.wake();
    });
    this.child.stderr!.on("data", (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    this.child.on("exit", () => this.wake());
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** CPU seconds (user + system) the process used so far, from /proc (Linux); NaN elsewhere. */
  cpuSeconds(): number {
    return cpuSecondsOf(this.pid);
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const w of waiting) w();
  }

  /** The next line with `key` (earlier lines without it are dropped). */
  async next(key: string, timeoutMs = 600_000): Promise<Record<string, unknown>> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const i = this.lines.findIndex((l) => key in l);
      if (i >= 0) return this.lines.splice(0, i + 1).pop()!;
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`bench child exited before saying "${key}":\n${this.stderr}`);
      }
      if (performance.now() > deadline)
        throw new Error(`bench child did not say "${key}" in time:\n${this.stderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        this.waiting.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  send(command: Record<string, unknown>): void {
    this.child.stdin!.write(`${JSON.stringify(command)}\n`);
  }

  /** SIGTERM, then SIGKILL if it has not gone within 5 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  }
}
