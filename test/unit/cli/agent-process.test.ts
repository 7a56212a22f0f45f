import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { runAgentProcess } from "../../../src/cli/shutdown.js";
import { type Logger, silentLogger } from "../../../src/core/logger.js";
import type { A2AClient } from "../../../src/core/messaging/index.js";
import { captureLogger, type LogEntry } from "../../helpers/capture-logger.js";

/**
 * `triad worker` / `triad distributor` (runAgentProcess) and signals at start-up. A process told
 * to stop must never then say `ready`: its upstream may accept the registration while it shuts
 * down (the `stopping` flag was set only once the shutdown had ended, and `ready` came out in
 * between). A signal while the agent starts (its store, its listener, its lease) found no
 * handler yet, and Node's default ended the process by the signal (exit 143), not gracefully.
 * The signals are emitted on this process (no real signal is sent), and the listeners the test
 * adds are taken off after it: the test runner's own stay.
 */

type Deferred = { promise: Promise<void>; resolve: () => void };
function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Lets every settled promise's callbacks run. */
const settle = () => new Promise((r) => setImmediate(r));

describe("a tier process and a signal", () => {
  let before: Record<"SIGTERM" | "SIGINT", NodeJS.SignalsListener[]>;
  let written: string[];

  beforeEach(() => {
    before = { SIGTERM: process.listeners("SIGTERM"), SIGINT: process.listeners("SIGINT") };
    written = [];
    vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
  });

  afterEach(() => {
    vi.restoreAllMocks();
    for (const signal of ["SIGTERM", "SIGINT"] as const)
      for (const l of process.listeners(signal)) if (!before[signal].includes(l)) process.off(signal, l);
  });

  function agentProcess(o: {
    initialize: Promise<void>;
    shutdown: Promise<void>;
    joined: Promise<void>;
    log?: Logger;
  }) {
    const calls: string[] = [];
    const agent = {
      a2a: { url: "http://127.0.0.1:1" } as unknown as A2AClient,
      initialize: async () => {
        calls.push("initialize");
        await o.initialize;
      },
      shutdown: async (ms: number) => {
        calls.push(`shutdown ${ms}`);
        await o.shutdown;
      },
    };
    const exit = runAgentProcess({
      tier: "worker",
      id: "w1",
      agent,
      joined: () => o.joined,
      log: o.log ?? silentLogger,
      ready: {},
      graceMs: 60_000,
      history: undefined,
      counters: () => ({}),
      heartbeatMs: 1000,
    });
    return { calls, exit };
  }

  it("says no ready line when its upstream accepts it after SIGTERM, during the shutdown", async () => {
    const shutdown = deferred();
    const joined = deferred();
    const { calls, exit } = agentProcess({
      initialize: Promise.resolve(),
      shutdown: shutdown.promise,
      joined: joined.promise,
    });
    await vi.waitFor(() => expect(process.listenerCount("SIGTERM")).toBe(before.SIGTERM.length + 1), {
      timeout: 10_000,
    });
    await settle();
    process.emit("SIGTERM", "SIGTERM");
    await vi.waitFor(() => expect(calls).toContain("shutdown 59500"), { timeout: 10_000 });
    joined.resolve(); // the upstream accepts the registration now, mid-shutdown
    await settle();
    await settle();
    shutdown.resolve();
    expect(await exit).toBe(0);
    expect(written.filter((w) => w.startsWith("ready"))).toEqual([]);
  });

  it("still says ready when it joins before any signal", async () => {
    const { exit } = agentProcess({
      initialize: Promise.resolve(),
      shutdown: Promise.resolve(),
      joined: Promise.resolve(),
    });
    await vi.waitFor(() => expect(written).toContain("ready worker w1 http://127.0.0.1:1\n"), {
      timeout: 10_000,
    });
    process.emit("SIGTERM", "SIGTERM");
    expect(await exit).toBe(0);
  });

  it("hears SIGTERM while the agent starts: lets the start end, shuts down, exits 0, no ready line", async () => {
    const initialize = deferred();
    const { calls, exit } = agentProcess({
      initialize: initialize.promise,
      shutdown: Promise.resolve(),
      joined: Promise.resolve(),
    });
    await vi.waitFor(() => expect(calls).toEqual(["initialize"]), { timeout: 10_000 });
    expect(process.listenerCount("SIGTERM")).toBe(before.SIGTERM.length + 1);
    process.emit("SIGTERM", "SIGTERM");
    await settle();
    expect(calls).toEqual(["initialize"]); // not shut down under a start still running
    initialize.resolve();
    expect(await exit).toBe(0);
    expect(calls).toEqual(["initialize", "shutdown 59500"]);
    await settle();
    expect(written.filter((w) => w.startsWith("ready"))).toEqual([]);
  });

  it("a join that fails is logged with its code, not an unhandled rejection: no ready line, it serves on", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const entries: LogEntry[] = [];
      const failure = Object.assign(new Error("the join's promise broke"), { code: "ERR_TEST_JOIN" });
      const { calls, exit } = agentProcess({
        initialize: Promise.resolve(),
        shutdown: Promise.resolve(),
        joined: Promise.reject(failure),
        log: captureLogger(entries),
      });
      await vi.waitFor(
        () =>
          expect(entries.find((e) => e.level === "error")?.fields).toMatchObject({ code: "ERR_TEST_JOIN" }),
        { timeout: 10_000 },
      );
      await settle();
      expect(unhandled).toEqual([]);
      expect(written.filter((w) => w.startsWith("ready"))).toEqual([]);
      expect(calls).toEqual(["initialize"]); // still serving: nothing shut down
      process.emit("SIGTERM", "SIGTERM");
      expect(await exit).toBe(0);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });
});
