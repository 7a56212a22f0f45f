import { describe, expect, it } from "vitest";
import { CoordinatorAgent, DistributorAgent, type Task, WorkerAgent } from "../../../src/index.js";
import { FAST } from "../../helpers/cluster.js";
import { clusterPerTest, type TestEngine, testEngines } from "../../helpers/engines.js";
import { PATIENT } from "../../helpers/two-coordinators.js";
import { until } from "../../helpers/wait.js";

/**
 * A distributor whose body limit (a2a.maxBodyBytes) is smaller than its coordinator's says so
 * (`max_body_bytes` on its register and heartbeats): the coordinator splits an assignment over
 * it before it leaves, and the distributor refuses none (no 413). A distributor that does not
 * say (an older release) still gets every task: its coordinator finds its limit out by its 413s,
 * as before. (Attempts are not counted: on a loaded machine FAST timing may take one back.)
 * A second coordinator, which hears of the distributor only through the first's view, holds
 * its own assignments to that limit too.
 */

const SMALL = 64 * 1024;
const LARGE = 1024 * 1024;
const TASKS = 24;
/** Each task's payload: four of them together are over SMALL. */
const PAD = 20 * 1024;

async function withAgents<T>(
  engine: TestEngine,
  streams: boolean,
  o: { older?: boolean; several?: boolean },
  work: (c: CoordinatorAgent, d: DistributorAgent, run: string, c2?: CoordinatorAgent) => Promise<T>,
): Promise<T> {
  const run = Math.random().toString(36).slice(2, 7);
  const redis = engine.config();
  const a2a = (agentId: string, maxBodyBytes: number) => ({
    agentId,
    tokenSecret: "distributor-body-limit-secret",
    agentPort: 0,
    host: "127.0.0.1",
    router: null,
    maxBodyBytes,
    streams,
  });
  const agents: Array<{ cleanup(): Promise<void> }> = [];
  try {
    const timing = o.several ? PATIENT : FAST;
    const c = new CoordinatorAgent({ agentId: `c-${run}`, redis, a2a: a2a(`c-${run}`, LARGE), timing });
    agents.push(c);
    await c.initialize();
    // Several coordinators: the distributor reports to c only; c2 hears of it through c's view.
    const c2 = o.several
      ? new CoordinatorAgent({ agentId: `c2-${run}`, redis, a2a: a2a(`c2-${run}`, LARGE), timing })
      : undefined;
    if (c2) {
      agents.push(c2);
      await c2.initialize();
    }
    const d = new DistributorAgent({
      agentId: `d-${run}`,
      coordinatorId: c.agentId,
      coordinatorUrl: c.url!,
      redis,
      a2a: a2a(`d-${run}`, SMALL),
      timing,
    });
    // An older release's distributor: its register and heartbeats carry no max_body_bytes.
    if (o.older) (d as unknown as { bodyLimit: () => object }).bodyLimit = () => ({});
    agents.push(d);
    await d.initialize();
    const w = new WorkerAgent({
      agentId: `w-${run}`,
      distributorId: d.agentId,
      distributorUrl: d.a2a.url!,
      a2a: a2a(`w-${run}`, LARGE),
      timing,
      handlers: { echo: (task: Task) => ({ length: String(task.payload.pad ?? "").length }) },
    });
    agents.push(w);
    await w.initialize();
    await until(
      "the coordinator has its distributor's heartbeat, listing the worker",
      () => c.core.directory.get(d.agentId)?.workers.length === 1,
      10_000,
    );
    return await work(c, d, run, c2);
  } finally {
    for (const a of agents.reverse()) await a.cleanup().catch(() => {});
  }
}

/**
 * Submits TASKS tasks at once (one placement pass: one assignment batch) and waits for them all;
 * `ids`: their ids (by default echo-<run>-<i>).
 */
async function runAll(
  c: CoordinatorAgent,
  run: string,
  ids = Array.from({ length: TASKS }, (_, i) => `echo-${run}-${i}`),
) {
  await c.submitTasks(
    ids.map((task_id) => ({ task_id, task_type: "echo", payload: { pad: "p".repeat(PAD) } })),
  );
  return Promise.all(ids.map((id) => c.waitForTask(id, 60_000)));
}

describe.each(
  testEngines("distributor-body-limit").flatMap((engine) =>
    [true, false].map((streams) => ({
      engine,
      streams,
      name: `${engine.name}, ${streams ? "streams" : "POSTs"}`,
    })),
  ),
)("a distributor whose body limit is smaller than its coordinator's, on $name", ({ engine, streams }) => {
  clusterPerTest(engine);

  it("says it: a large assignment reaches it with no 413, and every task completes", async () => {
    const { done, tooLarge } = await withAgents(engine, streams, {}, async (c, d, run) => {
      const done = await runAll(c, run);
      return { done, tooLarge: d.a2a.stats().rejected.too_large };
    });
    for (const t of done) expect(t).toMatchObject({ status: "completed", result: { length: PAD } });
    expect(tooLarge).toBe(0);
  }, 90_000);

  it("an older one that does not say it still gets every task, its limit found out by its 413s", async () => {
    const { done, tooLarge } = await withAgents(engine, streams, { older: true }, async (c, d, run) => {
      const done = await runAll(c, run);
      return { done, tooLarge: d.a2a.stats().rejected.too_large };
    });
    for (const t of done) expect(t).toMatchObject({ status: "completed", result: { length: PAD } });
    expect(tooLarge).toBeGreaterThan(0);
  }, 90_000);

  it("a second coordinator, hearing of it through the first's view, places a large assignment on it with no 413", async () => {
    const { done, tooLarge } = await withAgents(
      engine,
      streams,
      { several: true },
      async (c1, d, run, c2) => {
        if (c2 === undefined) throw new Error("no second coordinator");
        // Ids of shards c2 owns: c2 places them itself, on the distributor it only hears of.
        const candidates = Array.from({ length: 1000 }, (_, i) => `echo-${run}-${i}`);
        const owned = () => candidates.filter((id) => c2.cluster.ownerValue(id) !== null).slice(0, TASKS);
        await until(
          "c2 knows the distributor (and the limit it stated) through c1, and owns task shards",
          () =>
            c2.core.directory.get(d.agentId)?.via === c1.agentId &&
            c2.core.directory.get(d.agentId)?.maxBodyBytes === SMALL &&
            owned().length === TASKS,
          30_000,
        );
        const ids = owned();
        const done = await runAll(c2, run, ids);
        return { done, tooLarge: d.a2a.stats().rejected.too_large };
      },
    );
    for (const t of done) expect(t).toMatchObject({ status: "completed", result: { length: PAD } });
    expect(tooLarge).toBe(0);
  }, 90_000);
});
