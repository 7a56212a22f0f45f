import { expect } from "vitest";
import { DEFAULT_TIMING, FAST_TIMING, type TaskSpec } from "../../helpers/chaos-cluster.js";
import { FIXTURE_HANDLERS, runScenario, type Scenario, slowTask } from "./common.js";

/**
 * Users' handlers at their worst (test/chaos/fixtures/handlers.mjs), mixed with good work on
 * the same workers: one that throws, one that hangs past the task timeout ignoring its abort
 * signal, ones that return a BigInt, a function or a cycle, and one that fails only its first
 * attempt. Each task ends with the right outcome and reason after its retries (a non-JSON result
 * after its first attempt: it is not retried); no worker dies
 * or is declared dead; the good tasks around them complete.
 */
/**
 * The task timeout: long enough for a loaded host's worker to start an attempt (one started
 * 740 ms after its dispatch under load 20, past the 600 ms this was: the distributor took it for
 * a dispatch never started and dispatched it again, and a `throws` task ended after 3 attempts),
 * short enough that the hanging tasks' 2 attempts each cost the run only seconds.
 */
const TIMEOUT_MS = 2_000;
const RETRIES = 1;

export const handlerFaults: Scenario = {
  title: "handlers that throw, hang past the timeout or return non-JSON fail their task, never the worker",
  name: "handlers that throw / hang / return non-JSON",
  timeoutMs: { short: 120_000, long: 300_000 },
  run: (ctx) => {
    const long = ctx.mode === "long";
    const k = long ? 5 : 1;
    const groups: TaskSpec[][] = [];
    const add = (prefix: string, n: number, type: string, payload: Record<string, unknown> = {}) =>
      groups.push(
        Array.from({ length: n }, (_, i) => ({ task_id: `${prefix}-${i}`, task_type: type, payload })),
      );
    add("throws", 10 * k, "throws");
    add("hangs", 6 * k, "hangs");
    add("bigint", 5 * k, "not_json", { kind: "bigint" });
    add("function", 5 * k, "not_json", { kind: "function" });
    add("cycle", 5 * k, "not_json", { kind: "cycle" });
    add("flaky", 10 * k, "flaky");
    add("unknown", 3 * k, "no_such_type");
    groups.push(Array.from({ length: 60 * k }, (_, i) => slowTask("good", i, 30)));
    // Interleaved, so that every worker gets the bad ones among the good.
    const tasks: TaskSpec[] = [];
    for (let i = 0; groups.some((g) => i < g.length); i++)
      for (const g of groups) if (i < g.length) tasks.push(g[i]!);
    return runScenario(
      ctx,
      "handlers that throw / hang / return non-JSON",
      {
        timing: long ? DEFAULT_TIMING : FAST_TIMING,
        handlers: FIXTURE_HANDLERS,
        topology: { d1: [{ id: "w1" }, { id: "w2" }] },
        taskTimeoutMs: TIMEOUT_MS,
        maxRetries: RETRIES,
        retryBackoffMs: 20,
      },
      async (cluster) => {
        for (let i = 0; i < tasks.length; i += 20) await cluster.submit(tasks.slice(i, i + 20));
        return {
          faults: tasks.filter((t) => !t.task_id.startsWith("good")).length,
          faultKinds: "misbehaving handlers",
        };
      },
      async (cluster, result) => {
        const outcome = async (id: string) => (await cluster.finalRecord(id))!.task;
        const expectAll = async (
          prefix: string,
          n: number,
          want: Record<string, unknown>,
          error?: RegExp,
        ) => {
          for (let i = 0; i < n; i++) {
            const t = await outcome(`${prefix}-${i}`);
            expect(t, `${prefix}-${i}`).toMatchObject(want);
            if (error) expect(t.error, `${prefix}-${i}`).toMatch(error);
          }
        };
        // Failed after every retry, with the handler's own reason.
        await expectAll(
          "throws",
          10 * k,
          { status: "failed", attempts: RETRIES + 1 },
          /boom: this handler throws on purpose/,
        );
        await expectAll(
          "hangs",
          6 * k,
          { status: "failed", attempts: RETRIES + 1 },
          new RegExp(`timed out after ${TIMEOUT_MS} ms`),
        );
        // A result JSON cannot carry fails at once: not retried (the same handler gives the same).
        for (const kind of ["bigint", "function", "cycle"])
          await expectAll(kind, 5 * k, { status: "failed", attempts: 1 }, /not JSON/);
        await expectAll("unknown", 3 * k, { status: "failed" }, /unknown task type "no_such_type"/);
        await expectAll("flaky", 10 * k, { status: "completed", result: { attempt: 2 } });
        await expectAll("good", 60 * k, { status: "completed", result: { ok: true } });
        expect(result.stats.failed).toBe(34 * k);
        // The workers lived through it all, never silent long enough to be declared dead.
        expect(cluster.history().some((e) => e.op === "dead")).toBe(false);
        for (const w of ["w1", "w2"]) expect(cluster.agent(w).proc.running).toBe(true);
      },
    );
  },
};
