import type { Logger } from "../core/logger.js";
import type { A2AClient } from "../core/messaging/index.js";
import type { HistoryRecorder } from "./history.js";

/**
 * Graceful shutdown on SIGTERM / SIGINT: the first signal runs `stop` (stop taking work, finish
 * or hand back what is in flight) bounded by `graceMs`, then exits 0; a second signal, sent at
 * least REPEAT_FORCES_MS after the first, exits at once. Returns a promise that resolves when
 * the process should end, with its exit code.
 */
export function onShutdown(
  stop: () => Promise<void>,
  graceMs: number,
  log: (msg: string) => void,
): Promise<number> {
  return new Promise((resolve) => {
    let firstAt: number | undefined;
    const handler = (signal: NodeJS.Signals) => {
      if (firstAt !== undefined) {
        if (performance.now() - firstAt < REPEAT_FORCES_MS) {
          log(`${signal} again at once: the same request to stop, still shutting down`);
          return;
        }
        log(`${signal} again: exiting now`);
        process.exit(130);
      }
      firstAt = performance.now();
      log(`${signal}: shutting down (at most ${graceMs} ms; send it again to exit at once)`);
      // Not unref'd: a stop stuck on a promise nothing will settle (its store gone) would let the
      // event loop empty, and the process end with Node's exit 13 instead of 0 after graceMs.
      const timer = setTimeout(() => {
        log("shutdown took too long: exiting");
        resolve(0);
      }, graceMs);
      stop()
        .catch((err: unknown) => log(`error while shutting down: ${(err as Error).message}`))
        .finally(() => {
          clearTimeout(timer);
          resolve(0);
        });
    };
    process.on("SIGTERM", handler);
    process.on("SIGINT", handler);
  });
}

/**
 * How long after the first signal a second one means "exit now". Sooner, it is the same request
 * delivered twice: a wrapper (npm, a shell script, tini) forwards SIGTERM to its child while the
 * process group gets it too, and a terminal's Ctrl-C reaches every process of the foreground
 * group — both arrive within milliseconds of each other. A person who wants out now sends it
 * again after seeing the shutdown line, well over a second later; a double press within the
 * second is taken as one, and the next press forces the exit.
 */
const REPEAT_FORCES_MS = 1000;

/**
 * Runs `start` (an agent's initialize: store, listener, leases). When it fails — its port in
 * use, the store unreachable — `release` gives back what was taken (store connections, leases,
 * the listener, timers), and the error is thrown again: the command ends with exit 1 (main.ts
 * prints its one line, message and code) instead of idling with nothing served, so a
 * supervisor restarts it. The error's whole record (its stack) is logged at debug only: at the
 * usual levels the user reads that one line, not the same message twice with a stack between.
 * Should anything still hold the event loop after the release, the process exits anyway a
 * moment later (the timer does not keep it alive itself).
 */
export async function startOrRelease(
  what: string,
  start: () => Promise<unknown>,
  release: () => Promise<unknown>,
  log: Logger,
): Promise<void> {
  try {
    await start();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    log.debug({ err, ...(typeof code === "string" ? { code } : {}) }, `${what} could not start: exiting`);
    try {
      await release();
    } catch (releaseErr) {
      log.warn({ err: releaseErr }, "error while releasing after a failed start");
    }
    // With the exit code main() gave by then (bin/triad sets it), 1 if none.
    setTimeout(() => process.exit(process.exitCode ?? 1), RELEASE_EXIT_MS).unref();
    throw err;
  }
}

/** After a failed start and its release, the most the process waits for its event loop to empty. */
const RELEASE_EXIT_MS = 3000;

/** What a tier process runs: an agent that starts, serves, and shuts down within a grace period. */
type TierAgent = {
  readonly a2a: A2AClient;
  initialize(): Promise<unknown>;
  shutdown(graceMs: number): Promise<unknown>;
};

/**
 * The life of `triad distributor` and `triad worker`: starts `agent` (its history, when one is
 * kept, sampling `counters`), and once its upstream has taken it in (`joined`: accepted its
 * registration, not merely answered) says so on stdout (`ready <tier> <id> <url>`, what scripts
 * and tests wait for) and in the log; then serves until a signal, and shuts down within
 * `graceMs`. A signal before it has joined shuts it down all the same, and a process told to stop
 * never says `ready` after it, even when its upstream accepts the registration during the
 * shutdown. A signal while the agent starts (its store, its listener, its lease) is heard too:
 * the start is let finish, then the agent shuts down and the process exits 0.
 */
export async function runAgentProcess(o: {
  tier: string;
  id: string;
  agent: TierAgent;
  /** Resolves once the upstream has accepted the agent's registration (it may refuse it for long). */
  joined: () => Promise<void>;
  log: Logger;
  ready: Record<string, unknown>;
  graceMs: number;
  history: HistoryRecorder | undefined;
  counters: () => Record<string, unknown>;
  heartbeatMs: number;
}): Promise<number> {
  const { agent, history, counters } = o;
  history?.watch(agent.a2a, counters, o.heartbeatMs);
  const run = startThenServe({
    what: o.tier,
    start: () => agent.initialize(),
    release: async () => {
      await agent.shutdown(0);
      history?.close(agent.a2a, counters);
    },
    stop: async () => {
      await agent.shutdown(o.graceMs - 500);
      history?.close(agent.a2a, counters);
    },
    graceMs: o.graceMs,
    log: o.log,
  });
  await run.started;
  o.joined()
    .then(() => {
      if (run.stopping()) return;
      o.log.info({ url: agent.a2a.url, ...o.ready }, `${o.tier} ready`);
      process.stdout.write(`ready ${o.tier} ${o.id} ${agent.a2a.url}\n`);
    })
    // Not an unhandled rejection (the process would end, exit 1): said, and the agent serves on.
    .catch((err: unknown) => {
      o.log.error(
        { err, code: errorCode(err) ?? "ERR_JOIN_UNKNOWN" },
        `${o.tier} could not tell whether its upstream took it in: no ready line; serving on`,
      );
    });
  return run.stopped;
}

/**
 * Starts a tier process's agent (startOrRelease: a failed start releases it and throws) with
 * SIGTERM / SIGINT heard from the start on (onShutdown): a signal while it starts (its store,
 * its listener, its lease) lets the start end, then `stop`s it, within `graceMs` all told; the
 * process exits 0 (a start that fails meanwhile ends the command with its error, as without the
 * signal). Node's default had ended the process by the signal (exit 143), nothing released.
 * `stopping()` is true from the first signal on, not from the end of the shutdown: the upstream
 * may accept the registration in between, and a process told to stop must not then say ready.
 */
export function startThenServe(o: {
  what: string;
  start: () => Promise<unknown>;
  release: () => Promise<unknown>;
  stop: () => Promise<unknown>;
  graceMs: number;
  log: Logger;
}): { started: Promise<void>; stopping: () => boolean; stopped: Promise<number> } {
  const started = startOrRelease(o.what, o.start, o.release, o.log);
  let stopping = false;
  const stopped = onShutdown(
    async () => {
      stopping = true;
      // A failed start released what it took itself.
      if (
        await started.then(
          () => true,
          () => false,
        )
      )
        await o.stop();
    },
    o.graceMs,
    (m) => o.log.info(m),
  );
  return { started, stopping: () => stopping, stopped };
}

/** An error's `code` when it has a string one (a TriadError's, a Node system error's). */
function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}
