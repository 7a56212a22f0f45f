import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { UnrecoverableError } from "../../../src/index.js";
import { type RunningServer, startCoordinatorServer } from "../../../src/server/coordinator-server.js";
import type { TaskCounts } from "../../../src/server/dashboard/cluster-view.js";
import { FaultyRouter } from "../../helpers/cluster.js";
import { testEngines } from "../../helpers/engines.js";
import { standbyPair } from "../../helpers/two-coordinators.js";
import { until } from "../../helpers/wait.js";

/**
 * The dashboard's task counts with several coordinators are the whole cluster's, on every
 * coordinator's page: each coordinator's own counters (what it accepted, the ends it heard) add
 * up, and a distributor's retries are counted once, from its newest report wherever it was
 * heard — also after it moved from one coordinator to the other.
 */

const TOKEN = "cluster-counts-token";

async function counts(server: RunningServer): Promise<TaskCounts> {
  const res = await fetch(`${server.url}/dashboard/state`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { counts: TaskCounts }).counts;
}

describe.each(testEngines("dashboard-cluster-counts"))(
  "the dashboard's counts with two coordinators ($name)",
  (engine) => {
    const stops: Array<() => Promise<unknown>> = [];
    beforeAll(() => engine.setup(), 60_000);
    afterEach(async () => {
      for (const stop of stops.splice(0).reverse()) await stop().catch(() => {});
    });
    afterAll(() => engine.teardown());

    it("are the cluster's on both pages, a distributor's retries counted once after it moves", async () => {
      const router = new FaultyRouter();
      const run = Math.random().toString(36).slice(2, 7);
      const tried = new Set<string>();
      const { c1, c2, d } = await standbyPair({
        router,
        redis: engine.config(),
        run,
        stops,
        coordinator: { placementTimeoutMs: 20_000 },
        worker: {
          concurrency: 4,
          handlers: {
            ok: () => ({ ok: true }),
            // Fails its first attempt, completes on the retry.
            flaky: (task) => {
              if (tried.has(task.taskId)) return { ok: true };
              tried.add(task.taskId);
              throw new Error("first try fails");
            },
            bad: () => {
              throw new UnrecoverableError("no such thing");
            },
          },
        },
      });
      const servers: RunningServer[] = [];
      for (const c of [c1, c2]) {
        const server = await startCoordinatorServer(c, { port: 0, apiToken: TOKEN });
        servers.push(server);
        stops.push(() => server.close());
      }

      // 6 through c1 (one retried once), 4 through c2 (one failed for good); the distributor
      // heartbeats c2 only: c1 hears its reports through c2's view.
      const through = [
        ...Array.from({ length: 5 }, (_, i) => [c1, `ok-a${i}-${run}`, "ok"] as const),
        [c1, `flaky-${run}`, "flaky"] as const,
        ...Array.from({ length: 3 }, (_, i) => [c2, `ok-b${i}-${run}`, "ok"] as const),
        [c2, `bad-${run}`, "bad"] as const,
      ];
      for (const [c, task_id, task_type] of through)
        expect(await c.submitTask({ task_id, task_type })).toBe(true);
      for (const [c, id] of through)
        expect((await c.waitForTask(id, 15_000))?.status).toMatch(/completed|failed/);

      const whole = { submitted: 10, completed: 9, failed: 1, abandoned: 0, retried: 1, waiting: 0 };
      for (const server of servers) {
        await until(`${server.url} counts the whole cluster`, async () => {
          const c = await counts(server);
          return c.submitted === 10 && c.completed === 9 && c.failed === 1 && c.retried === 1;
        });
        expect(await counts(server)).toMatchObject(whole);
      }

      // c2 stops taking messages: the distributor reports to c1, whose newer report of the same
      // counters replaces c2's older one (summed, the retry would count twice).
      router.frozen.add(c2.agentId);
      await until("c1 hears the distributor itself", () => c1.core.directory.get(d.agentId)?.via === null);
      await until("c1 holds a report newer than the one in c2's view", () => {
        const mine = c1.observer.heard().get(d.agentId)?.sentAt ?? 0;
        const theirs = c1.cluster.peers.others()[0]?.reported?.[d.agentId]?.[0] ?? 0;
        return theirs > 0 && mine > theirs;
      });
      for (const server of servers) expect(await counts(server)).toMatchObject(whole);
    }, 40_000);
  },
);
