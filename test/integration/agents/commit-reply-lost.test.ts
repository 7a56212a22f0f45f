import { describe, expect, it } from "vitest";
import type { CommitReceipt } from "../../../src/agents/ledger/task-ledger.js";
import { FAST } from "../../helpers/cluster.js";
import { clusterPerTest, testEngines } from "../../helpers/engines.js";
import { heldUntilOpen } from "../../helpers/held-until-open.js";
import { until } from "../../helpers/wait.js";

/**
 * A distributor killed -9 between its commit script and the script's reply (the ends are in the
 * store; nothing in the process heard of them: no report to the coordinator, no ack to the
 * worker), restarted under its id while its worker lives on. The worker sends its results again;
 * the restarted distributor finds each a duplicate (committed already) and acknowledged it with
 * nothing else, so the coordinator never heard that these tasks ended: still open in its eyes,
 * no end counted, no end event (found by the task type runners chaos scenario, d2 killed alone:
 * three tasks whose commit was in the store and whose end nobody ever told). The restarted
 * distributor now reports the end of a task it does not hold whose resent result is a
 * duplicate, as its record says it ended. Both with the coordinator declaring it dead before
 * it is back and without.
 */

const TASKS = 3;

describe.each(testEngines("commit-reply-lost"))("a commit whose reply was lost on $name", (engine) => {
  const newCluster = clusterPerTest(engine);

  it.each([
    { variant: "declared dead before it is back", heartbeatTimeoutMs: 400, dead: true },
    { variant: "back before it is declared dead", heartbeatTimeoutMs: 20_000, dead: false },
  ])(
    "is reported by the restarted distributor when the worker sends it again ($variant)",
    async ({ heartbeatTimeoutMs, dead }) => {
      const {
        c: cluster,
        runs,
        open,
      } = heldUntilOpen(newCluster, { timing: { ...FAST, heartbeatTimeoutMs } });
      await cluster.startCoordinator();
      const first = await cluster.startDistributor("d2");
      const w1 = await cluster.startWorker("w1", "d2");
      await cluster.ready();
      const ids = Array.from({ length: TASKS }, (_, i) => cluster.id(`t${i}`));
      /** Each task ran once, and nothing else ran. */
      const ranOnce = () => runs.size === TASKS && ids.every((id) => runs.get(id) === 1);
      for (const id of ids)
        await cluster.coordinator.submitTask({ task_id: id, task_type: "held", payload: {} });
      await until(`the ${TASKS} tasks run on w1`, ranOnce, 10_000);

      // d2's commit of their results runs in the store; its reply never comes back to d2, killed
      // -9 meanwhile: nothing reported, nothing acknowledged, nothing in its memory changed.
      const inStore = new Set<string>();
      const commitAttempts = first.ledger.commitAttempts.bind(first.ledger);
      first.ledger.commitAttempts = async (outcomes) => {
        await commitAttempts(outcomes);
        for (const o of outcomes) inStore.add(o.taskId);
        return new Promise<CommitReceipt[]>(() => {});
      };
      open();
      await until("every result is committed in the store", () => ids.every((id) => inStore.has(id)), 10_000);
      await cluster.crash(first);
      for (const id of ids)
        expect((await cluster.coordinator.ledger.get(id))?.task.status, id).toBe("completed");
      expect(w1.core.pendingResults).toBe(TASKS);
      expect(cluster.coordinator.core.stats.completed).toBe(0);
      if (dead) {
        await until(
          "the coordinator declared d2 dead",
          () => cluster.coordinator.core.directory.get(first.agentId)?.status === "dead",
          10_000,
        );
      }

      // d2 back under its id: w1's results are acknowledged, and the coordinator hears each end
      // (nobody waits for these tasks: no waiter's catch-up reads them).
      const second = await cluster.startDistributor("d2");
      await until("w1 holds no result unacknowledged", () => w1.core.pendingResults === 0, 10_000);
      await until(
        "the coordinator heard every end",
        () => cluster.coordinator.core.stats.completed === TASKS,
        10_000,
      );
      for (const id of ids) {
        const record = await cluster.coordinator.ledger.get(id);
        expect(record?.task.status, id).toBe("completed");
        expect(record?.task.attempts, id).toBe(1);
      }
      expect(ranOnce(), JSON.stringify([...runs])).toBe(true);
      // One more copy of a result (an ack lost again): its end is reported again, and the
      // coordinator takes it once (no second end counted).
      const core = (
        cluster.coordinator.core as unknown as { ends: { finished: (task: { task_id: string }) => void } }
      ).ends;
      const finished = core.finished.bind(core);
      let repeats = 0;
      core.finished = (task, ...rest: unknown[]) => {
        if (task.task_id === ids[0]) repeats++;
        (finished as (...a: unknown[]) => void)(task, ...rest);
      };
      const fence = (await cluster.coordinator.ledger.get(ids[0]!))!.fence;
      const again = await second.core.onResults(w1.agentId, [
        { task_id: ids[0]!, fence, status: "completed", result: { ok: true } },
      ]);
      expect(again).toEqual([{ task_id: ids[0], fence }]);
      await until("the coordinator took the repeated report", () => repeats === 1, 20_000);
      expect(second.core.stats.dispatched).toBe(0);
      expect(second.core.stats.staleRejected).toBe(0);
      expect(cluster.coordinator.core.stats.completed).toBe(TASKS);
    },
  );
});
