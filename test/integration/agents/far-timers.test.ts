import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CoordinatorAgent, DistributorAgent, TriadError } from "../../../src/index.js";
import { FAST, TestCluster } from "../../helpers/cluster.js";
import { testEngines } from "../../helpers/engines.js";
import { until } from "../../helpers/wait.js";

/**
 * Times further off than a Node.js timer takes (2^31 - 1 ms, ~24.8 days): Node sets such a timer
 * to 1 ms with a TimeoutOverflowWarning, so a timer re-armed for the same far time fired every
 * millisecond. A retry's backoff, a waitForTask timeout and a delayed task's run_at may all be
 * that far ahead; a distributor's task timeout or an agent's timing may not be (refused).
 */

const DAY = 86_400_000;

describe.each(testEngines("far-timers"))("far timers on $name", (engine) => {
  beforeAll(() => engine.setup(), 60_000);
  afterAll(() => engine.teardown());

  it("a retry 30 days ahead, a wait of 30 days and a run_at 30 days ahead set no timer off every millisecond", async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => {
      if (w.name === "TimeoutOverflowWarning") warnings.push(w.message);
    };
    process.on("warning", onWarning);
    const cluster = new TestCluster(engine.config(), {
      handlers: {
        flaky: () => {
          throw new Error("not today");
        },
      },
    });
    try {
      // The cluster's own coordinator retries every type twice after 20 ms; this one after 30 days.
      cluster.coordinator = new CoordinatorAgent({
        agentId: cluster.id("coordinator"),
        redis: cluster.redis,
        a2a: { router: cluster.router },
        timing: FAST,
        retry: { default: { maxRetries: 1, backoffMs: 30 * DAY } },
      });
      await cluster.coordinator.initialize();
      await cluster.startDistributor("d1");
      await cluster.startWorker("w1", "d1");
      await cluster.ready();
      const c = cluster.coordinator;
      expect(await c.submitTask({ task_id: cluster.id("retried"), task_type: "flaky", payload: {} })).toBe(
        true,
      );
      const runAt = new Date(Date.now() + 30 * DAY).toISOString();
      expect(
        await c.submitTask({ task_id: cluster.id("later"), task_type: "echo", payload: {}, run_at: runAt }),
      ).toBe(true);
      const waited = c.waitForTask(cluster.id("later"), 30 * DAY);
      // The failed attempt is committed and queued again on the distributor for 30 days from now.
      await until(
        "the failed attempt is queued again",
        async () => {
          const t = (await c.ledger.get(cluster.id("retried")))?.task;
          return t?.status === "pending" && t.error === "not today";
        },
        5_000,
      );
      // A negative check: the far timers armed by now raise no warning in the next 300 ms.
      await new Promise((r) => setTimeout(r, 300));
      expect(await c.cancelTask(cluster.id("later"))).toBe(true);
      expect((await waited)?.status).toBe("abandoned");
      await new Promise((r) => setImmediate(r));
      expect(warnings).toEqual([]);
    } finally {
      process.off("warning", onWarning);
      await cluster.stop();
    }
  });

  it("refuses a task timeout or a timing further off than a timer takes", () => {
    const config = { agentId: "d-far", coordinatorId: "c", redis: engine.config() };
    for (const taskTimeoutMs of [2 ** 31, 0, 1.5]) {
      const err = (() => {
        try {
          new DistributorAgent({ ...config, taskTimeoutMs });
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(TriadError);
      expect(err).toMatchObject({ code: "ERR_INVALID_CONFIG" });
      expect((err as Error).message).toContain("taskTimeoutMs");
    }
    expect(() => new DistributorAgent({ ...config, taskTimeoutMs: 2 ** 31 - 1 })).not.toThrow();
    expect(() => new DistributorAgent({ ...config, timing: { heartbeatIntervalMs: 40 * DAY } })).toThrow(
      /timing.heartbeatIntervalMs must be a positive number of milliseconds up to 2147483647/,
    );
  });
});
