import { describe, expect, it } from "vitest";
import type { LedgerEvent } from "../../../src/index.js";
import { FAST } from "../../helpers/cluster.js";
import { clusterPerTest, testEngines } from "../../helpers/engines.js";
import { ledgerOn, newTasks } from "../../helpers/ledger-on.js";
import { until } from "../../helpers/wait.js";

/**
 * A task that waited at its distributor past its expires_at (behind a rate limit, a slow pass)
 * before the due sweep came to it is not started: the dispatch script ends it abandoned
 * "expired" itself, as the sweep would (SPEC "Scheduling controls": a task not started by its
 * expires_at ends abandoned with error expired). Before, the script ignored expires_at and the
 * task ran. A retry of a task that started before its expires_at still starts (it started in time).
 */

const task = newTasks("dx");
const at = (ms: number) => new Date(Date.now() + ms).toISOString();

describe.each(testEngines("dispatch-expired", { cluster: true }))(
  "a dispatch past expires_at on $name",
  (engine) => {
    const open = ledgerOn(engine);

    it("ends the task abandoned 'expired' instead of starting it, as the sweep would", async () => {
      const events: LedgerEvent[] = [];
      const { ledger } = await open({ retentionSeconds: 60, observer: (e) => events.push(e) });
      // `retried` starts in time (its expires_at far enough ahead for a loaded machine), then
      // its expires_at passes; `late`'s has passed already (no sweep runs here).
      const expiresAt = at(1500);
      const late = task({ schedule: { expires_at: at(-1000) } });
      const inTime = task({ schedule: { expires_at: at(3_600_000) } });
      const retried = task({ schedule: { expires_at: expiresAt }, maxRetries: 2 });
      for (const t of [late, inTime, retried]) expect(await ledger.submit(t, "d1")).toBe(true);
      const fence = (await ledger.dispatch(retried.taskId, "d1", "w1")) as number;
      expect(typeof fence).toBe("number");
      expect(await ledger.commit({ taskId: retried.taskId, fence, status: "failed", error: "x" })).toBe(
        "retry",
      );
      await until("expires_at has passed", () => Date.now() >= Date.parse(expiresAt) + 5, 5_000);
      const before = (await ledger.endCounts()).abandoned ?? 0;

      const starts = await ledger.dispatchMany(
        [late.taskId, inTime.taskId, retried.taskId],
        "d1",
        (id) => id,
        () => "w1",
      );
      expect(starts[0]).toBe("expired");
      expect(typeof starts[1]).toBe("object"); // its expires_at is an hour ahead
      expect(typeof starts[2]).toBe("object"); // started in time once: its retry runs

      const r = (await ledger.get(late.taskId))!;
      expect(r.task).toMatchObject({ status: "abandoned", error: "expired", attempts: 0 });
      expect(r.task.completed_at).toBeTruthy();
      expect(await ledger.openTaskIds()).not.toContain(late.taskId);
      expect(await ledger.distributorTaskIds("d1")).not.toContain(late.taskId);
      expect((await ledger.endCounts()).abandoned ?? 0).toBe(before + 1);
      // The history is told as of the sweep's expiry, once; no attempt of it was started.
      expect(events.filter((e) => e.task_id === late.taskId && e.op !== "recorded")).toEqual([
        { op: "abandoned", task_id: late.taskId, reason: "expired" },
      ]);
      // Ended once: it is not dispatched again.
      expect(await ledger.dispatch(late.taskId, "d1", "w1")).toBe("terminal");
    });
  },
);

describe.each(testEngines("dispatch-expired-agents"))(
  "a distributor late past expires_at on $name",
  (engine) => {
    const newCluster = clusterPerTest(engine);

    it("does not run the task, and the coordinator hears it ended 'expired'", async () => {
      let runs = 0;
      const cluster = newCluster({
        timing: FAST,
        handlers: {
          job: () => {
            runs++;
            return { ok: true };
          },
        },
      });
      const d1 = await cluster.startOne(30_000);
      const coordinator = cluster.coordinator;
      // The due sweep would end the task within its second; it is stopped here, to see the
      // distributor's side alone (a dispatch that comes within that second).
      (coordinator.core as unknown as { schedule: { stop(): void } }).schedule.stop();
      const abandoned: string[] = [];
      coordinator.observer.on((e) => {
        if (e.type === "abandoned") abandoned.push(`${e.task_id}:${e.reason}`);
      });
      const dispatchMany = d1.ledger.dispatchMany.bind(d1.ledger);
      const expiresAt = at(2_000);
      // The distributor is slow: its dispatch reaches the store only after the task's expires_at.
      d1.ledger.dispatchMany = async (plan, distributor, taskIdOf, workerIdOf) => {
        await until("expires_at has passed", () => Date.now() >= Date.parse(expiresAt) + 5, 10_000);
        return dispatchMany(plan, distributor, taskIdOf, workerIdOf);
      };
      const id = cluster.id("late");
      expect(await coordinator.submitTask({ task_id: id, task_type: "job", expires_at: expiresAt })).toBe(
        true,
      );
      // Its dependents are told of its end, as of the sweep's expiry: one abandons, one runs on.
      const [abandons, runsOn] = [cluster.id("abandons"), cluster.id("runs-on")];
      expect(await coordinator.submitTask({ task_id: abandons, task_type: "job", depends_on: [id] })).toBe(
        true,
      );
      expect(
        await coordinator.submitTask({
          task_id: runsOn,
          task_type: "job",
          depends_on: [id],
          on_dependency_failure: "run",
        }),
      ).toBe(true);
      const done = await coordinator.waitForTask(id, 30_000);
      expect(done).toMatchObject({ status: "abandoned", error: "expired", attempts: 0 });
      expect((await coordinator.waitForTask(abandons, 30_000))?.status).toBe("abandoned");
      expect((await coordinator.waitForTask(runsOn, 30_000))?.status).toBe("completed");
      expect(runs).toBe(1); // the dependent that runs on; the expired task never ran
      await until("the abandoned event is told", () => abandoned.length > 0, 10_000);
      expect(abandoned).toEqual([`${id}:expired`]);
    }, 60_000);
  },
);
