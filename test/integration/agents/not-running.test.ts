import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CoordinatorAgent, DistributorAgent, Task, WorkerAgent } from "../../../src/index.js";
import { testEngines } from "../../helpers/engines.js";
import { uniquePrefix } from "../../helpers/redis-server.js";
import { PATIENT } from "../../helpers/two-coordinators.js";

/**
 * A coordinator not initialized yet, or cleaned up, is told so when a program submits or waits
 * through it: a rejection with ERR_NOT_RUNNING, the same on every store. (On Redis a submit
 * before initialize() or after cleanup() ended the process with an uncaught ERR_NOT_CONNECTED;
 * on the embedded store it resolved true and recorded a task nobody would serve.)
 */

describe.each(testEngines("not-running"))(
  "a coordinator not running, or waited on wrongly, on $name",
  (engine) => {
    beforeAll(() => engine.setup());
    afterAll(() => engine.teardown());

    it("refuses submits and waits before initialize() and after cleanup(), and wrong waitForTask arguments; serves again once initialized", async () => {
      const redis = engine.config();
      const id = uniquePrefix("nr");
      // Heartbeats every 100 ms (PATIENT, still 3 s to be declared dead), not the default second:
      // nothing here is about timing, and the default intervals paced each step waited on.
      const timing = PATIENT;
      const coordinator = new CoordinatorAgent({ agentId: `${id}-c`, redis, timing });
      const task = (n: number) => new Task({ taskId: `${id}-t${n}`, taskType: "echo", payload: { n } });
      const refusedAs = (call: string, why: RegExp) =>
        expect.objectContaining({
          code: "ERR_NOT_RUNNING",
          message: expect.stringMatching(new RegExp(`^${call}: coordinator ${id}-c ${why.source}`)),
        });

      const notYet = /is not running yet: call initialize\(\) first/;
      await expect(coordinator.submitTask(task(1))).rejects.toEqual(refusedAs("submitTask", notYet));
      await expect(coordinator.submitTasks([task(1)])).rejects.toEqual(refusedAs("submitTasks", notYet));
      await expect(coordinator.submitTasksSettled([task(1)])).rejects.toEqual(
        refusedAs("submitTasks", notYet),
      );
      await expect(coordinator.waitForTask(`${id}-t1`, 100)).rejects.toEqual(
        refusedAs("waitForTask", notYet),
      );

      const distributor = new DistributorAgent({
        agentId: `${id}-d`,
        coordinatorId: `${id}-c`,
        redis,
        timing,
      });
      const worker = new WorkerAgent({ agentId: `${id}-w`, distributorId: `${id}-d`, timing });
      for (const agent of [coordinator, distributor, worker]) await agent.initialize();
      expect(await coordinator.submitTask(task(1))).toBe(true);
      expect(await coordinator.waitForTask(`${id}-t1`, 10_000)).toMatchObject({
        status: "completed",
        result: { n: 1 },
      });

      // Wrong arguments are refused, saying which; 0 answers at once.
      const wrong = (message: string) => expect.objectContaining({ code: "ERR_INVALID_ARGUMENT", message });
      await expect(coordinator.waitForTask(undefined as never, 100)).rejects.toEqual(
        wrong("waitForTask: taskId must be a non-empty string (got undefined)"),
      );
      await expect(coordinator.waitForTask("", 100)).rejects.toEqual(
        wrong('waitForTask: taskId must be a non-empty string (got "")'),
      );
      for (const [timeout, shown] of [
        [-1, "-1"],
        [Number.NaN, "NaN"],
        ["100", '"100"'],
      ] as const) {
        await expect(coordinator.waitForTask(`${id}-t1`, timeout as number)).rejects.toEqual(
          wrong(`waitForTask: timeoutMs must be a number of milliseconds >= 0 (got ${shown})`),
        );
      }
      expect(await coordinator.waitForTask(`${id}-t1`, 0)).toMatchObject({ status: "completed" });
      expect(await coordinator.waitForTask(`${id}-unknown`, 0)).toBeNull();

      await coordinator.cleanup();
      await coordinator.cleanup(); // twice is harmless
      const stopped = /was stopped \(cleanup\(\)\); call initialize\(\) to run it again/;
      await expect(coordinator.submitTask(task(2))).rejects.toEqual(refusedAs("submitTask", stopped));
      await expect(coordinator.submitTasks([task(2)])).rejects.toEqual(refusedAs("submitTasks", stopped));
      await expect(coordinator.waitForTask(`${id}-t1`, 100)).rejects.toEqual(
        refusedAs("waitForTask", stopped),
      );

      // Initialized again, it serves again: the refused task was never recorded.
      await coordinator.initialize();
      expect(await coordinator.submitTask(task(2))).toBe(true);
      expect(await coordinator.waitForTask(`${id}-t2`, 10_000)).toMatchObject({
        status: "completed",
        result: { n: 2 },
      });
      for (const agent of [worker, distributor, coordinator]) await agent.cleanup();
    });

    it("refuses every write — limits, schedules, cancels, inputs, registrations, placements — before initialize() and after cleanup(), as it refuses submits; none is recorded", async () => {
      const redis = engine.config();
      const id = uniquePrefix("nw");
      const coordinator = new CoordinatorAgent({ agentId: `${id}-c`, redis });
      const writes: [string, () => Promise<unknown>][] = [
        ["setLimit", () => coordinator.setLimit(`${id}-type`, { concurrency: 1 })],
        ["removeLimit", () => coordinator.removeLimit(`${id}-type`)],
        [
          "upsertSchedule",
          () =>
            coordinator.upsertSchedule({
              schedule_id: `${id}-s`,
              every_ms: 60_000,
              task: { task_type: "echo" },
            }),
        ],
        ["removeSchedule", () => coordinator.removeSchedule(`${id}-s`)],
        ["cancelTask", () => coordinator.cancelTask(`${id}-t`)],
        ["provideInput", () => coordinator.provideInput(`${id}-t`, "x")],
        ["registerDistributor", () => coordinator.registerDistributor(`${id}-d`, "http://127.0.0.1:1")],
        [
          "assignTaskToDistributor",
          () => coordinator.assignTaskToDistributor({ task_id: `${id}-t`, task_type: "echo" }, `${id}-d`),
        ],
      ];
      const refusedAll = async (why: RegExp) => {
        for (const [call, write] of writes) {
          await expect(write(), call).rejects.toEqual(
            expect.objectContaining({
              code: "ERR_NOT_RUNNING",
              message: expect.stringMatching(new RegExp(`^${call}: coordinator ${id}-c ${why.source}`)),
            }),
          );
        }
      };
      await refusedAll(/is not running yet: call initialize\(\) first/);
      await coordinator.initialize();
      await coordinator.cleanup();
      await refusedAll(/was stopped \(cleanup\(\)\); call initialize\(\) to run it again/);

      // Running again: none of the refused writes was recorded.
      await coordinator.initialize();
      expect((await coordinator.listLimits()).map((l) => l.task_type)).not.toContain(`${id}-type`);
      expect(await coordinator.getSchedule(`${id}-s`)).toBeNull();
      expect(await coordinator.core.getTask(`${id}-t`)).toBeNull();
      // Not registered: the directory (restored from the store on initialize()) does not know it.
      expect(coordinator.core.directory.get(`${id}-d`)).toBeUndefined();
      await coordinator.cleanup();
    });
  },
);
