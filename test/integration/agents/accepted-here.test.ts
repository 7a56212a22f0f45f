import { describe, expect, it } from "vitest";
import { type CoordinatorAgent, RedisClient } from "../../../src/index.js";
import { stopsPerTest, testEngines } from "../../helpers/engines.js";
import { twoCoordinators } from "../../helpers/two-coordinators.js";
import { until } from "../../helpers/wait.js";

/** Bound of each wait: generous, for a loaded machine (a million entries added takes seconds there). */
const WAIT_MS = 60_000;

/**
 * The tasks a coordinator accepted while others were alive (their waiters are most likely there,
 * so their end needs no news): at most 1,000,000 remembered, each dropped when the task ends
 * anywhere. Past the bound, a task forgotten is still awaited and reported: its end only costs
 * a news message.
 */
describe.each(testEngines("accepted-here"))("the tasks accepted here on $name", (engine) => {
  const cleanups = stopsPerTest(engine);

  async function start() {
    const config = engine.config();
    const { c1, c2 } = await twoCoordinators(config, cleanups);
    const news: Array<{ from: string; ended?: string[] }> = [];
    const listener = new RedisClient(config);
    await listener.connect();
    cleanups.push(() => listener.disconnect());
    await listener.subscribe("coordinators:news", (_c, data) => {
      news.push(data as (typeof news)[number]);
    });
    const accepted = (c: CoordinatorAgent) =>
      (c.cluster as unknown as { acceptedHere: Set<string> }).acceptedHere;
    return { c1, c2, news, accepted };
  }

  it("a task accepted here and ended through another coordinator is dropped here when its news comes", async () => {
    const { c1, c2, news, accepted } = await start();
    const ids = Array.from({ length: 5 }, (_, i) => `canceled-elsewhere-${i}`);
    for (const id of ids)
      expect(await c2.submitTask({ task_id: id, task_type: "sleep", payload: { ms: 5000 } })).toBe(true);
    expect(ids.filter((id) => accepted(c2).has(id))).toEqual(ids);
    // Canceled through c1 (a client's cancel there): ended first-hand by c1, which tells, and no
    // report of them comes to c2; or by c2, whose tick swept the cancel's mark before c1's abandon
    // (CoordinatorCore.cancel; likelier under load), which accepted them and drops them itself.
    for (const id of ids) expect(await c1.cancelTask(id, "test")).toBe(true);
    const endedOn = (c: CoordinatorAgent, id: string) => c.core.recentTasks().some((t) => t.task_id === id);
    await until(
      "each heard first-hand by one of them",
      () => ids.every((id) => endedOn(c1, id) || endedOn(c2, id)),
      WAIT_MS,
    );
    const byC1 = ids.filter((id) => endedOn(c1, id));
    await until(
      "c1's news is out",
      () => byC1.every((id) => news.some((n) => n.from === c1.agentId && n.ended?.includes(id))),
      WAIT_MS,
    );
    await until("c2 forgot them", () => ids.every((id) => !accepted(c2).has(id)), WAIT_MS);
  }, 120_000);

  it("past the bound, a task forgotten is still awaited and its end reported: it costs one news message", async () => {
    const { c2, news, accepted } = await start();
    expect(await c2.submitTask({ task_id: "forgotten", task_type: "sleep", payload: { ms: 300 } })).toBe(
      true,
    );
    // Awaited before the million are added; its answer is polled for after, with a generous bound.
    let answer: unknown;
    void c2.waitForTask("forgotten", 2 * WAIT_MS).then((t) => {
      answer = t;
    });
    for (let i = 0; i < 1_000_000; i++) c2.cluster.accepted(`filler-${i}`);
    expect(accepted(c2).size).toBe(1_000_000);
    expect(accepted(c2).has("forgotten")).toBe(false);
    await until("the waiter is answered", () => answer !== undefined, 2 * WAIT_MS);
    expect(answer).toMatchObject({ task_id: "forgotten", status: "completed" });
    await until(
      "c2 tells of its end",
      () => news.some((n) => n.from === c2.agentId && n.ended?.includes("forgotten")),
      WAIT_MS,
    );
    accepted(c2).clear();
  }, 180_000);
});
