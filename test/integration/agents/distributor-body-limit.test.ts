import { describe, expect, it } from "vitest";
import type { CoordinatorAgent, DistributorAgent, Task } from "../../../src/index.js";
import { FAST } from "../../helpers/cluster.js";
import { clusterPerTest, type TestEngine } from "../../helpers/engines.js";
import { enginesOverHttp, withHttpAgents } from "../../helpers/http-agents.js";
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

/**
 * A coordinator (with `several`, two: the distributor reports to c only, c2 hears of it through
 * c's view), a distributor under SMALL (with `older`, an older release's) and a worker under
 * LARGE, over HTTP (no router); `work` gets them once the distributor's heartbeat lists the worker.
 */
function withAgents<T>(
  engine: TestEngine,
  streams: boolean,
  o: { older?: boolean; several?: boolean },
  work: (c: CoordinatorAgent, d: DistributorAgent, run: string, c2?: CoordinatorAgent) => Promise<T>,
): Promise<T> {
  return withHttpAgents(
    {
      engine,
      streams,
      secret: "distributor-body-limit-secret",
      limits: { c: LARGE, d: SMALL },
      workers: [
        {
          limit: LARGE,
          handlers: { echo: (task: Task) => ({ length: String(task.payload.pad ?? "").length }) },
        },
      ],
      timing: o.several ? PATIENT : FAST,
      secondCoordinator: o.several === true,
      // An older release's distributor: its register and heartbeats carry no max_body_bytes.
      prepareDistributor: (d) => {
        if (o.older) (d as unknown as { bodyLimit: () => object }).bodyLimit = () => ({});
      },
    },
    ({ c, d, run, c2 }) => work(c, d, run, c2),
  );
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

describe.each(enginesOverHttp("distributor-body-limit"))(
  "a distributor whose body limit is smaller than its coordinator's, on $name",
  ({ engine, streams }) => {
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
  },
);
