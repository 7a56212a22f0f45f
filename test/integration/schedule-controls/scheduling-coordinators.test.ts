import { afterEach, describe, expect, it } from "vitest";
import { FaultyRouter } from "../../helpers/cluster.js";
import { standbyPair } from "../../helpers/two-coordinators.js";

/**
 * Delayed tasks with several coordinators (SPEC "Several coordinators"): every coordinator
 * sweeps the due times, so a task delayed through one that dies meanwhile runs when due, once.
 */
describe("delayed tasks with several coordinators", () => {
  const stops: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => {});
  });

  it("a task delayed through a coordinator killed before its run_at runs through the other, once", async () => {
    const run = Math.random().toString(36).slice(2, 7);
    const redis = { url: `memory://scheduling-coordinators-${process.pid}`, keyPrefix: `sc-${run}:` };
    const router = new FaultyRouter();
    let runs = 0;
    const { c1, c2 } = await standbyPair({
      router,
      redis,
      run,
      stops,
      coordinator: { placementTimeoutMs: 20_000 },
      distributorId: "d1",
      workerId: "w1",
      worker: {
        handlers: {
          job: () => {
            runs++;
            return { ok: true };
          },
        },
      },
    });

    const runAt = new Date(Date.now() + 600).toISOString();
    const id = `late-${run}`;
    expect(await c1.submitTask({ task_id: id, task_type: "job", run_at: runAt })).toBe(true);
    // c1 dies as if killed -9: its timer for the due time goes with it.
    router.frozen.add(c1.agentId);
    c1.core.stop();
    await c1.cluster.stop({ release: false });
    (c1 as unknown as { stopTimers(): void }).stopTimers();

    const done = await c2.waitForTask(id, 15_000);
    expect(done).toMatchObject({ status: "completed", run_at: runAt });
    expect(Date.parse(done!.started_at as string)).toBeGreaterThanOrEqual(Date.parse(runAt));
    // A negative check: it does not run a second time in the next 300 ms, so a fixed wait.
    await new Promise((r) => setTimeout(r, 300));
    expect(runs).toBe(1);
  }, 30_000);
});
