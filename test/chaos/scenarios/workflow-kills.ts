import { expect } from "vitest";
import {
  type ChaosCluster,
  DEFAULT_TIMING,
  FAST_TIMING,
  sleep,
  type TaskSpec,
} from "../../helpers/chaos-cluster.js";
import { FIXTURE_HANDLERS, runScenario, type Scenario, spreadMs } from "./common.js";

type Node = TaskSpec & { depends_on?: string[] };

/**
 * A layered DAG (each task depends on two of the layer before) and spawning handlers (`fan`:
 * N children and a join that depends on them), while a worker, a distributor and the
 * coordinator are killed -9 and restarted. Beyond the checker's rules: no task was dispatched
 * before every dependency had committed, each spawned id was recorded once (and no more ids
 * than spawned), every task completed, and nothing is left waiting or unsettled.
 */
export const workflowKills: Scenario = {
  title: "workflow DAG + spawning handlers under kill -9 of a worker, a distributor and the coordinator",
  name: "workflow DAG + spawns, kill -9 w/d/c",
  timeoutMs: { short: 150_000, long: 900_000 },
  run: (ctx) => {
    const long = ctx.mode === "long";
    const timing = long ? DEFAULT_TIMING : FAST_TIMING;
    const layers = long ? 10 : 8;
    const width = long ? 190 : 24;
    const fans = long ? 100 : 8;
    const fanOut = long ? 5 : 4;
    const nodes: Node[] = [];
    const fanIds: string[] = [];
    return runScenario(
      ctx,
      "workflow DAG + spawns, kill -9 w/d/c",
      {
        timing,
        handlers: FIXTURE_HANDLERS,
        topology: { d1: [{ id: "w1" }, { id: "w2" }], d2: [{ id: "w3" }] },
      },
      async (cluster) => {
        for (let l = 0; l < layers; l++) {
          for (let i = 0; i < width; i++) {
            const deps =
              l === 0 ? [] : [...new Set([`wf-${l - 1}-${i}`, `wf-${l - 1}-${(i * 7 + 3) % width}`])];
            nodes.push({
              task_id: `wf-${l}-${i}`,
              task_type: "slow",
              payload: { n: i, ms: spreadMs(l * width + i, 400) },
              ...(deps.length > 0 ? { depends_on: deps } : {}),
            });
          }
        }
        for (let f = 0; f < fans; f++) {
          const id = `wf-fan-${f}`;
          fanIds.push(id);
          // Half the fans wait on a task of the first layer: spawning from a dependent.
          nodes.push({
            task_id: id,
            task_type: "fan",
            payload: { n: fanOut, ms: 100 },
            ...(f % 2 === 0 ? { depends_on: [`wf-0-${f % width}`] } : {}),
          });
        }
        const faults = async () => {
          await sleep(long ? 3000 : 800);
          await cluster.kill("w1");
          await cluster.restart("w1");
          await sleep(long ? 4000 : 800);
          const killedAt = Date.now();
          await cluster.kill("d1");
          await cluster.waitForOp("dead", { target: "d1" }, killedAt - 1, 30_000);
          await cluster.restart("d1");
          await cluster.waitForAgents(30_000);
          await sleep(long ? 3000 : 500);
          await cluster.kill("c1");
          await sleep(long ? 2000 : 600);
          await cluster.restart("c1");
          await cluster.waitForAgents(30_000);
        };
        const faulting = faults();
        // The graph in requests of 40, one every 400 ms, so that the faults land mid-workflow. A
        // request whose dependencies are not recorded yet (the one before it still retrying
        // against a dead coordinator) is refused with 422 and sent again, like any failed POST.
        const step = long ? 200 : 40;
        for (let k = 0; k < nodes.length; k += step) {
          void cluster.submit(nodes.slice(k, k + step));
          await sleep(400);
        }
        await faulting;
        return { faultKinds: "kill -9 + restart of w1, d1 and c1" };
      },
      async (cluster, result) => {
        const history = cluster.history();
        // When each task had surely committed: the first "committed" its distributor logged, or
        // sooner, the first "dependency completed" notice the coordinator applied for it (read
        // from the committed record). A distributor's log line comes after its commit script
        // answered; a busy or descheduled process can write it after the coordinator has already
        // seen the record, released the dependents and had one dispatched (seen in CI on 2 cores).
        const committedAt = new Map<string, number>();
        const sooner = (id: string, t: number) => {
          const at = committedAt.get(id);
          if (at === undefined || t < at) committedAt.set(id, t);
        };
        const firstDispatch = new Map<string, number>();
        const recorded = new Map<string, number>();
        for (const e of history) {
          if (e.task_id === undefined) continue;
          if (e.op === "committed" && e.status === "completed") sooner(e.task_id, e.t);
          if (e.op === "noticed" && e.status === "completed") sooner(e.dependency as string, e.t);
          if (e.op === "dispatched" && !firstDispatch.has(e.task_id)) firstDispatch.set(e.task_id, e.t);
          if (e.op === "recorded") recorded.set(e.task_id, (recorded.get(e.task_id) ?? 0) + 1);
        }
        const dependsOn = new Map<string, string[]>(nodes.map((n) => [n.task_id, n.depends_on ?? []]));
        for (const fan of fanIds) {
          const parts = Array.from({ length: fanOut }, (_, i) => `${fan}.${i + 1}`);
          dependsOn.set(`${fan}.${fanOut + 1}`, parts);
          // Each spawned id recorded exactly once, and none beyond what was spawned.
          for (const id of [...parts, `${fan}.${fanOut + 1}`]) expect(recorded.get(id), id).toBe(1);
          expect(await cluster.finalRecord(`${fan}.${fanOut + 2}`)).toBeNull();
        }
        // A distributor killed -9 between its commit landing in Redis and its log line, and a
        // coordinator killed between its notice and its log line, leave neither event; and both
        // lines can come late (a loaded process: CI saw the coordinator log its notice 7 ms after
        // the dependent was dispatched, and the distributor its commit 1 ms after). The record's
        // completed_at bounds the commit from below (stamped after the handler returned, before
        // the commit script ran), so the sooner of it and the lines is taken.
        for (const deps of dependsOn.values()) {
          for (const dep of deps) {
            const record = await cluster.finalRecord(dep);
            const at = record?.task.status === "completed" ? record.task.completed_at : null;
            if (at) sooner(dep, Date.parse(at));
          }
        }
        const early: string[] = [];
        for (const [id, deps] of dependsOn) {
          const started = firstDispatch.get(id);
          expect(started, `${id} never started`).toBeDefined();
          for (const dep of deps) {
            const ended = committedAt.get(dep);
            if (ended === undefined || ended > started!) early.push(`${id} started before ${dep} completed`);
          }
        }
        expect(early).toEqual([]);
        // Everything completed: nothing abandoned, nothing stuck waiting or unsettled.
        expect(result.stats.completed).toBe(nodes.length + fans * (fanOut + 1));
        expect(result.stats.abandoned + result.stats.failed).toBe(0);
        await assertNothingLeft(cluster);
      },
    );
  },
};

async function assertNothingLeft(cluster: ChaosCluster): Promise<void> {
  const ledger = (
    cluster as unknown as {
      ledger: { waitingTaskIds(): Promise<string[]>; endedTaskIds(): Promise<string[]> };
    }
  ).ledger;
  const deadline = performance.now() + 10_000;
  let ended = await ledger.endedTaskIds();
  while (ended.length > 0 && performance.now() < deadline) {
    await sleep(200);
    ended = await ledger.endedTaskIds();
  }
  expect(ended).toEqual([]);
  expect(await ledger.waitingTaskIds()).toEqual([]);
}
