import { describe, expect, it } from "vitest";
import { type TestEngine, testEngines } from "../../helpers/engines.js";
import { waitWhileMoving } from "../../helpers/moving-wait.js";
import { PATIENT } from "../../helpers/two-coordinators.js";
import { until } from "../../helpers/wait.js";
import { workflowSuite } from "./workflow-handlers.js";

/**
 * The workflow graphs at the limits (SPEC "Workflows"): a chain of 1,000 and a fan-out of 10,000
 * joined in two levels, on one engine. Each engine has a file of its own
 * (workflows-at-limit-{memory,redis,cluster}.test.ts): these take minutes on a loaded host, and
 * in one file they ran one after the other while other files could have run beside them. The
 * rest of the workflow behaviour is in workflows.test.ts. The figures docs/DESIGN.md quotes
 * ("Workflows", Cost) are the lines these tests log.
 *
 * Their clusters run with PATIENT timing (dead after 3 s of silence, not FAST's 400 ms): they are
 * not about failure detection, and under the full suite's load one process pushing 10,000 tasks
 * missed FAST's heartbeat bound: its distributor was declared dead and its tasks moved, and the
 * fan-out took 156 s instead of seconds (42 s against 26 s beside three busy loops).
 */

/** Fan-out width and chain length (TRIAD_WORKFLOW_FANOUT, TRIAD_WORKFLOW_CHAIN to try other sizes). */
const FANOUT = Number(process.env.TRIAD_WORKFLOW_FANOUT ?? 10_000);
const CHAIN = Number(process.env.TRIAD_WORKFLOW_CHAIN ?? 1_000);
/** With TRIAD_WORKFLOW_PHASES, the long waits log where the graph stands each time it moved. */
const phases = process.env.TRIAD_WORKFLOW_PHASES ? (line: string) => console.log(line) : undefined;

/** The at-limit tests on the engine called `name` (one of testEngines' memory, redis, cluster). */
export function workflowsAtLimit(name: TestEngine["name"]): void {
  const engine = testEngines(`workflow-limit-${name}`, { cluster: true }).find((e) => e.name === name)!;
  describe(`workflows at the limits on ${name}`, () => {
    const suite = workflowSuite(engine);
    const { start, expectOrder } = suite;

    it(`runs a chain of ${CHAIN} one after the other`, async () => {
      const c = (await start(2, PATIENT)).coordinator;
      const ids = Array.from({ length: CHAIN }, (_, i) => suite.cluster.id(`chain${i}`));
      const graph = ids.map((task_id, i) => ({
        task_id,
        task_type: "step",
        payload: { n: i },
        ...(i > 0 ? { depends_on: [ids[i - 1]!] } : {}),
      }));
      const t0 = performance.now();
      await c.submitTasks(graph);
      expect(await waitWhileMoving(suite.cluster, ids.at(-1)!, { log: phases })).toMatchObject({
        status: "completed",
      });
      const perLink = (performance.now() - t0) / CHAIN;
      expectOrder(graph);
      // Committed once each (a handler may run again after a worker is declared dead: at-least-once).
      const commits = await suite.cluster.settled(ids, 10_000);
      expect(ids.every((id) => commits.get(id) === 1)).toBe(true);
      console.log(`[workflow ${engine.name}] chain of ${CHAIN}: ${perLink.toFixed(2)} ms per link`);
    }, 1_200_000);

    it(`fans out to ${FANOUT} tasks and joins them (two levels: depends_on lists at most 1,000 ids)`, async () => {
      const c = (await start(4, PATIENT)).coordinator;
      const root = suite.cluster.id("root");
      const parts = Array.from({ length: FANOUT }, (_, i) => ({
        task_id: suite.cluster.id(`part${i}`),
        task_type: "step",
        payload: { n: 1 },
        depends_on: [root],
      }));
      const t0 = performance.now();
      await c.submitTasks([
        { task_id: root, task_type: "step", payload: { n: 0 } },
        ...parts.slice(0, 9_999),
      ]);
      if (parts.length > 9_999) await c.submitTasks(parts.slice(9_999));
      const joins = [];
      for (let k = 0; k * 1000 < FANOUT; k++) {
        joins.push({
          task_id: suite.cluster.id(`join${k}`),
          task_type: "sum",
          depends_on: parts.slice(k * 1000, (k + 1) * 1000).map((p) => p.task_id),
        });
      }
      const final = {
        task_id: suite.cluster.id("final"),
        task_type: "sum",
        depends_on: joins.map((j) => j.task_id),
      };
      await c.submitTasks([...joins, final]);
      if (process.env.TRIAD_WORKFLOW_PHASES) {
        console.log("submitted", performance.now() - t0);
        await c.waitForTask(root, 60_000);
        console.log("root", performance.now() - t0);
        await c.waitForTask(parts.at(-1)!.task_id, 60_000);
        console.log("last part", performance.now() - t0);
      }
      // A bound on liveness, not a speed: fails when no task ends for a minute, saying where the
      // graph stood. On a loaded 2-core host (load ~30) the run takes minutes and keeps moving.
      const end = await waitWhileMoving(suite.cluster, final.task_id, { log: phases });
      expect(end).toMatchObject({ status: "completed", result: { n: FANOUT } });
      const seconds = (performance.now() - t0) / 1000;
      expectOrder([...parts, ...joins, final]);
      const lastPart = Math.max(...parts.map((p) => suite.timeline.ended.get(p.task_id)!));
      const joinStart = Math.min(...joins.map((j) => suite.timeline.started.get(j.task_id)!));
      console.log(
        `[workflow ${engine.name}] fan-out ${FANOUT} + join: ${seconds.toFixed(1)} s (${Math.round((FANOUT + joins.length + 2) / seconds)} tasks/s); last part end -> first join start ${Math.max(0, joinStart - lastPart).toFixed(1)} ms`,
      );
      // Nothing left behind but terminal records: no waiting, ended or wait sets.
      expect(await c.ledger.waitingTaskIds()).toEqual([]);
      await until(
        "no ended task is left to settle",
        async () => (await c.ledger.endedTaskIds()).length === 0,
        10_000,
      );
    }, 1_200_000);
  });
}
