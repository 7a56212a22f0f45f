import { expect } from "vitest";
import { type ChaosCluster, DEFAULT_TIMING, FAST_TIMING, sleep } from "../../helpers/chaos-cluster.js";
import { FIXTURE_HANDLERS, runScenario, type Scenario } from "./common.js";
import { answerAll, type Waiting } from "./input-kills.js";

/**
 * Tasks waiting for input while a distributor, then the coordinator, are killed -9 (the workers'
 * case is input-kills.ts). Each `approval` graph (fixtures) asks twice. Every graph waits on its
 * first question when d1 (which ran some of them) is killed; the answers are given once it is
 * declared dead, so the resumed graphs go to d2. Every graph then
 * waits on its second question when the coordinator is killed and restarted; the answers are
 * given to the new process. Beyond the checker's rules (0 lost, one commit each): every
 * question was answerable (each answer taken once) and every graph completed with both
 * answers, in order, and every step.
 */
export const inputAgentKills: Scenario = {
  title:
    "tasks waiting for input while a distributor, then the coordinator, are killed -9: all answered, none lost",
  name: "human input, kill -9 distributor + coordinator",
  timeoutMs: { short: 180_000, long: 600_000 },
  run: (ctx) => {
    const long = ctx.mode === "long";
    // A graph's attempt not confirmed within a heartbeat timeout is taken back: at FAST_TIMING's
    // 1 s, a machine loaded well past its cores took every attempt back before it ran (seen).
    const timing = long ? DEFAULT_TIMING : { ...FAST_TIMING, heartbeatTimeoutMs: 2000, leaseTtlMs: 2000 };
    const count = long ? 200 : 8;
    const answeredAt = new Map<string, number>(); // `${task}:${q}` -> when the answer was taken
    const ids = Array.from({ length: count }, (_, i) => `hd-${i}`);
    const allowed = new Set<number>(); // the questions answered now
    return runScenario(
      ctx,
      "human input, kill -9 distributor + coordinator",
      {
        timing,
        handlers: FIXTURE_HANDLERS,
        topology: { d1: [{ id: "w1" }], d2: [{ id: "w2" }] },
      },
      async (cluster) => {
        let stop = false;
        const answering = answerAll(
          cluster,
          answeredAt,
          () => stop,
          (q) => q !== undefined && allowed.has(q),
        );
        for (let k = 0; k < ids.length; k += 4) {
          await cluster.submit(
            ids.slice(k, k + 4).map((id) => ({
              task_id: id,
              task_type: "approval",
              payload: { task: id, ms: 40 + ((k * 37) % 120) },
            })),
          );
        }
        const limit = long ? 120_000 : 60_000; // bounds only: a loaded machine is slow
        await cluster.waitUntil(() => allWaitOn(cluster, ids, 1), limit, "every graph waiting on question 1");
        const killedAt = Date.now();
        await cluster.kill("d1");
        await cluster.waitForOp("dead", { target: "d1" }, killedAt - 1, 30_000);
        allowed.add(1);
        await cluster.waitUntil(() => answered(answeredAt, ids, 1), limit, "every answer 1 taken");
        // Back while the graphs run on (a process start takes seconds on a loaded machine); up
        // before the coordinator is killed (a distributor starting waits for its coordinator).
        const d1Back = cluster.restart("d1");
        await cluster.waitUntil(() => allWaitOn(cluster, ids, 2), limit, "every graph waiting on question 2");
        await d1Back;
        await cluster.kill("c1");
        await sleep(long ? 2000 : 500);
        await cluster.restart("c1");
        await cluster.waitForAgents(30_000);
        allowed.add(2);
        await cluster.waitUntil(() => answered(answeredAt, ids, 2), limit, "every answer 2 taken");
        stop = true;
        await answering;
        return {
          faultKinds: "kill -9 of d1 (restarted once dead), then of c1 (restarted), tasks waiting for input",
        };
      },
      async (cluster, result) => {
        expect(result.stats.completed).toBe(count);
        for (const id of ids) {
          const record = await cluster.api<{
            status: string;
            result: { steps: string[]; answers: string[] };
          }>("GET", `/tasks/${id}`);
          expect(record.status, id).toBe("completed");
          expect(record.result.steps, id).toEqual(["draft", "polish", "send"]);
          expect(record.result.answers, id).toEqual([`${id}:1`, `${id}:2`]);
        }
      },
    );
  },
};

/** Whether every one of `ids` is listed waiting on question `q`. */
async function allWaitOn(cluster: ChaosCluster, ids: string[], q: number): Promise<boolean> {
  const listed = await cluster
    .api<{ tasks: Waiting[] }>("GET", "/tasks?status=input_required&limit=1000")
    .catch(() => ({ tasks: [] as Waiting[] }));
  const waiting = new Set(listed.tasks.filter((t) => t.input_request?.q === q).map((t) => t.task_id));
  return ids.every((id) => waiting.has(id));
}

function answered(answeredAt: Map<string, number>, ids: string[], q: number): boolean {
  return ids.every((id) => answeredAt.has(`${id}:${q}`));
}
