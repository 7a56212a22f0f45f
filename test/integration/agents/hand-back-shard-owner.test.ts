import { describe, expect, it } from "vitest";
import type { HandBackAnswer } from "../../../src/agents/coordinator/type-hand-back.js";
import { DistributorAgent, WorkerAgent } from "../../../src/index.js";
import { stopsPerTest, testEngines } from "../../helpers/engines.js";
import { PATIENT, twoCoordinators } from "../../helpers/two-coordinators.js";
import { until } from "../../helpers/wait.js";

/** Bound of each wait: generous, for a loaded machine. */
const WAIT_MS = 30_000;

/**
 * A distributor hands a task back to the coordinator that placed it, which no longer owns (or
 * never owned) the task's shard: that coordinator cannot move it (the move is fenced by the
 * shard owner's lease), so it names the owner, the distributor asks the owner, and the task moves
 * to a distributor that runs its type. Before, the answer was "kept", and the task failed on the
 * holder as an unknown type. On memory, Redis and Redis Cluster.
 */
describe.each(testEngines("hand-back-shard-owner", { cluster: true }))(
  "a hand-back to a coordinator that does not own the shard on $name",
  (engine) => {
    const cleanups = stopsPerTest(engine);

    it("is answered with the shard's owner, who moves the task to a distributor that runs its type", async () => {
      const redis = engine.config();
      const { c1, c2, d, router } = await twoCoordinators(redis, cleanups);
      const run = d.agentId.slice(d.agentId.lastIndexOf("-") + 1);
      // d2, heard by c1, has the only worker that runs `b`; d (heard by c2) runs the built-ins.
      const d2 = new DistributorAgent({
        agentId: `d2-${run}`,
        coordinatorId: c1.agentId,
        coordinators: [{ id: c2.agentId }],
        redis,
        a2a: { router },
        timing: PATIENT,
      });
      await d2.initialize();
      cleanups.push(() => d2.cleanup());
      const w2 = new WorkerAgent({
        agentId: `w2-${run}`,
        distributorId: d2.agentId,
        a2a: { router },
        timing: PATIENT,
        handlers: { b: () => ({ ran: "b" }) },
      });
      await w2.initialize();
      cleanups.push(() => w2.cleanup());
      await until(
        "c1 knows d2 runs b",
        () =>
          c1.core.directory
            .get(d2.agentId)
            ?.workers.some((w) => w.status !== "dead" && w.task_types.includes("b")) === true,
        WAIT_MS,
      );
      await until(
        "d's worker has said what it runs",
        () =>
          d.core.registry.alive().every((w) => w.taskTypes.length > 0) && d.core.registry.alive().length > 0,
        WAIT_MS,
      );
      // A task in a shard c1 owns, as c2 sees it too.
      let id = "";
      await until(
        "a task id in a shard c1 owns",
        () => {
          for (let i = 0; i < 500 && id === ""; i++) {
            const candidate = `held-b-${run}-${i}`;
            if (
              c1.cluster.ownerValue(candidate) !== null &&
              c2.cluster.ownerValue(candidate) === null &&
              c2.cluster.ownerOf(candidate)?.id === c1.agentId
            )
              id = candidate;
          }
          return id !== "";
        },
        WAIT_MS,
      );
      const answers: HandBackAnswer[] = [];
      const handBack = c2.core.handBack.bind(c2.core);
      c2.core.handBack = (from, tasks) =>
        handBack(from, tasks).then((a) => {
          answers.push(a);
          return a;
        });

      // Placed by c2 on d (the explicit path), whose worker does not run `b`.
      expect(
        await c2.assignTaskToDistributor({ task_id: id, task_type: "b", payload: {} } as never, d.agentId),
      ).toBe(true);
      const done = await c2.waitForTask(id, WAIT_MS);
      // Before: c2 answered "kept", and the task failed on d as an unknown task type.
      expect([done?.status, done?.error]).toEqual(["completed", null]);
      expect(done?.result).toEqual({ ran: "b" });
      expect(
        answers.some((a) => a.elsewhere.some((e) => e.coordinator === c1.agentId && e.tasks.includes(id))),
      ).toBe(true);
      expect((await c1.ledger.get(id))?.distributor).toBe(d2.agentId);
    }, 120_000);
  },
);
