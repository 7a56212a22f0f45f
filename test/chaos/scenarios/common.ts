import { ChaosCluster, type ChaosOptions, type TaskSpec } from "../../helpers/chaos-cluster.js";
import { type CheckResult, describeViolations } from "../../helpers/history/checker.js";
import { type ChaosRow, type Mode, rowOf } from "../report.js";

export type ScenarioContext = { mode: Mode; report: (row: ChaosRow) => void };

export type Scenario = {
  title: string;
  /** Row label in the table. */
  name: string;
  timeoutMs: Record<Mode, number>;
  run(ctx: ScenarioContext): Promise<void>;
};

export const FIXTURE_HANDLERS = new URL("../fixtures/handlers.mjs", import.meta.url).pathname;

/** A task of the fixtures' `slow` handler, taking `ms`. */
export function slowTask(prefix: string, i: number, ms: number): TaskSpec {
  return { task_id: `${prefix}-${i}`, task_type: "slow", payload: { n: i, ms } };
}

/** 60..`max` ms, varied by task so that workers finish out of step. */
export function spreadMs(i: number, max = 300): number {
  return 60 + ((i * 37) % Math.max(1, max - 60));
}

/**
 * Runs one scenario: a cluster with `options`, the scenario's `body` (load and faults), then
 * waits for every accepted task to end, reads each back through the API, runs the checker
 * over the whole history, reports the
 * row and fails with each violation and its history if there is one. `after` makes the
 * scenario's own assertions on the same run. The cluster is torn down whatever happens (kept on
 * disk when the scenario failed, or with CHAOS_KEEP=1).
 */
export async function runScenario(
  ctx: ScenarioContext,
  name: string,
  options: Omit<ChaosOptions, "name">,
  body: (cluster: ChaosCluster) => Promise<{ faultKinds: string; faults?: number }>,
  after?: (cluster: ChaosCluster, result: CheckResult) => Promise<void> | void,
): Promise<void> {
  const startedAt = performance.now();
  const phase = (what: string) => {
    if (process.env.CHAOS_DEBUG)
      process.stderr.write(`${name}: ${what} at ${Math.round(performance.now() - startedAt)} ms\n`);
  };
  const cluster = await ChaosCluster.start({ ...options, name: name.replace(/\W+/g, "-") });
  phase("cluster up");
  let failed = true;
  try {
    const info = await body(cluster);
    phase("faults done");
    const settled = await cluster.settle(ctx.mode === "long" ? 180_000 : 25_000);
    phase("settled");
    // A coordinator that died shows here first (its API refuses): say which, and what it said.
    if (settled)
      await cluster.readBack().catch((err: unknown) => {
        throw new Error(`reading the tasks back failed: ${String(err)}\n\n${cluster.outputs()}`, {
          cause: err,
        });
      });
    phase("read back");
    const result = await cluster.check();
    phase("checked");
    ctx.report(rowOf(name, result, { ...info, startedAt }));
    if (!result.ok) {
      throw new Error(
        `${describeViolations(result)}\n\nhistory kept in ${cluster.dir}\n\n${cluster.outputs()}`,
      );
    }
    if (!settled) throw new Error(`tasks still open at the end\n${cluster.outputs()}`);
    await after?.(cluster, result);
    failed = false;
  } finally {
    if (failed) process.stderr.write(`chaos ${name}: history kept in ${cluster.dir}\n`);
    await cluster.close({ keep: failed });
  }
}
