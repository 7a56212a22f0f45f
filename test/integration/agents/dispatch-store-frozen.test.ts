import { afterEach, describe, expect, it } from "vitest";
import { COMMAND_TIMEOUT_MS } from "../../../src/core/store/engines/node-redis-engine.js";
import type { Task } from "../../../src/index.js";
import { FAST, TestCluster } from "../../helpers/cluster.js";
import { RedisServer } from "../../helpers/redis-server.js";
import { pendingTask } from "../../helpers/task-dict.js";
import { until } from "../../helpers/wait.js";

/**
 * A pump pass whose dispatch script the store never answers — a redis-server frozen with
 * SIGSTOP: the connection stays open and no reply comes, as in a network black hole — does not
 * keep its tasks out of the queue: every store command has a deadline (CommandWatchdog,
 * COMMAND_TIMEOUT_MS), after which the dispatch fails with ERR_STORE_TIMEOUT and the pass puts
 * its tasks back where they were, in order. Once the store answers again each task runs once:
 * the attempt whose reply never came was never sent to a worker, and the next dispatch fences it off.
 */
describe("a dispatch the store does not answer (redis-server frozen)", () => {
  let server: RedisServer | undefined;
  let cluster: TestCluster | undefined;

  afterEach(async () => {
    if (server?.pid !== undefined) process.kill(server.pid, "SIGCONT");
    await cluster?.stop();
    await server?.destroy();
    cluster = undefined;
    server = undefined;
  });

  it("puts the pass's tasks back in order after the command deadline, and each runs once", async () => {
    server = await RedisServer.start();
    const runs = new Map<string, number>();
    cluster = new TestCluster(
      { url: server.url, keyPrefix: "frozen:" },
      {
        timing: FAST,
        handlers: {
          echo: (task: Task) => {
            runs.set(task.taskId, (runs.get(task.taskId) ?? 0) + 1);
            return task.payload;
          },
        },
      },
    );
    await cluster.startCoordinator();
    const d1 = await cluster.startDistributor("d1");
    await until("d1 owns its lease", () => d1.core.lease.owns, 5000);
    const ids = ["a", "b", "c", "d"].map((n) => cluster!.id(n));
    for (const id of ids) {
      const task = { taskId: id, taskType: "echo", payload: { id }, createdAt: new Date().toISOString() };
      expect(
        await cluster.coordinator.ledger.submit({ ...task, maxRetries: 0, backoffMs: 0 }, d1.agentId),
      ).toBe(true);
    }
    d1.core.onAssign(ids.map((id) => pendingTask(id, { payload: { id } })));
    expect(d1.core.queue.ids()).toEqual(ids); // no worker yet: all wait

    process.kill(server.pid!, "SIGSTOP");
    const frozenAt = performance.now();
    await cluster.startWorker("w1", "d1"); // room: a pass takes the tasks, and its dispatch hangs
    const w1 = cluster.id("w1");
    await until("the pass has the tasks out", () => d1.core.queue.size === 0, 5000);
    await until(
      "the tasks are back in the queue, in order",
      () => d1.core.queue.ids().join() === ids.join() && d1.core.registry.get(w1)?.inFlight.size === 0,
      COMMAND_TIMEOUT_MS * 4,
    );
    expect(performance.now() - frozenAt).toBeGreaterThanOrEqual(COMMAND_TIMEOUT_MS - 100); // the deadline, not an answer
    process.kill(server.pid!, "SIGCONT");

    const commits = await cluster.settled(ids, 20_000);
    for (const id of ids) {
      expect(commits.get(id)).toBe(1);
      expect(runs.get(id)).toBe(1);
    }
  }, 60_000);
});
