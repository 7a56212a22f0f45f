import { AsyncLocalStorage } from "node:async_hooks";
import { type ChildProcess, spawn } from "node:child_process";

/**
 * Servers a test starts die with the test's process, however it ends. A redis-server is a process
 * of its own: a test run killed (kill -9 of vitest, a closed pipe) used to leave the ones it had
 * started running for good, on random ports. Each test process hands the pid of every server it
 * starts to one small watcher process; when the test process's end of the pipe closes (its exit,
 * clean or not), the watcher kills the servers still listed. A server that exits is struck off
 * the list first, so a pid the system gives out again is never killed.
 */
const WATCHER = `
const pids = new Set();
let rest = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (text) => {
  const lines = (rest + text).split("\\n");
  rest = lines.pop();
  for (const line of lines) {
    if (line.startsWith("-")) pids.delete(line.slice(1));
    else if (line !== "") pids.add(line);
  }
});
process.stdin.on("close", () => {
  for (const pid of pids) {
    try { process.kill(Number(pid), "SIGKILL"); } catch {}
  }
  process.exit(0);
});
`;

let watcher: ChildProcess | undefined;

/**
 * Kills `child` when this process ends, unless it exited before; and, when it was started
 * inside `stoppedWithTest`, when that test ends.
 */
export function reapWithThisProcess(child: ChildProcess): void {
  const pid = child.pid;
  if (pid === undefined) return;
  const started = scope.getStore();
  if (started !== undefined && child.exitCode === null && child.signalCode === null) {
    started.add(child);
    child.once("exit", () => started.delete(child));
  }
  const stdin = watching().stdin!;
  stdin.write(`${pid}\n`);
  child.once("exit", () => {
    if (stdin.writable) stdin.write(`-${pid}\n`);
  });
}

function watching(): ChildProcess {
  if (watcher !== undefined) return watcher;
  // Its own process group: a signal to the test run's group must not end it before it reaps.
  watcher = spawn(process.execPath, ["-e", WATCHER], { stdio: ["pipe", "ignore", "ignore"], detached: true });
  watcher.on("error", () => {});
  watcher.stdin!.on("error", () => {});
  // Neither keeps this process alive: it ends when its work does, and then the watcher reaps.
  watcher.unref();
  (watcher.stdin as unknown as { unref(): void }).unref();
  return watcher;
}

/** The processes started (and registered above) in the async context of one test. */
const scope = new AsyncLocalStorage<Set<ChildProcess>>();

/**
 * Runs `body` (a test's work) so that every process it starts and registers with
 * `reapWithThisProcess` (a `TriadProcess`, a redis-server) is killed when the test ends, however
 * it ends: `onTestFinished` is the test context's (vitest calls it also when the test failed or
 * timed out, while `body` may still be waiting; the context's, not the global one, so that tests
 * running concurrently each stop only their own). A test that timed out used to leave what it
 * had started running until its test process ended: its own `finally` had not run yet.
 */
export function stoppedWithTest<T>(
  onTestFinished: (stop: () => Promise<void>) => void,
  body: () => Promise<T>,
): Promise<T> {
  const started = new Set<ChildProcess>();
  onTestFinished(() => stopAll(started));
  return scope.run(started, body);
}

/** SIGCONT (a paused one) and SIGKILL to every process of `started` still running; resolves once each has exited. */
async function stopAll(started: Set<ChildProcess>): Promise<void> {
  await Promise.all(
    [...started].map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill("SIGCONT");
      child.kill("SIGKILL");
      await exited;
    }),
  );
}
