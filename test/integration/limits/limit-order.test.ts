import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Task, TaskTypeLimit } from "../../../src/index.js";
import { TestCluster } from "../../helpers/cluster.js";
import { type TestEngine, testEngines } from "../../helpers/engines.js";
import { sleep, until } from "../../helpers/wait.js";

/**
 * SPEC, priority: "higher goes first at placement and dispatch, first-in first-out within one
 * priority" — for a type with a limit too. A task refused a slot keeps its place in the queue;
 * when its type may start one again, the first of that type in queue order is the one that does.
 */
const tags = "0123456789abcdefghij".split("");
const priorities = [0, 5, 0, 9, 5, 0, 9, 1, 5, 0, 3, 0, 9, 1, 0, 5, 3, 0, 1, 9];
/** The order SPEC gives: priority, higher first, then submission order. */
const expected = tags
  .map((tag, i) => ({ tag, p: priorities[i]!, i }))
  .sort((a, b) => b.p - a.p || a.i - b.i)
  .map((t) => t.tag);

/**
 * A blocker holds the type's one slot while the 20 tasks come, one at a time (a pump and a
 * refusal between arrivals), with tasks of an unlimited type among them; then it ends. Answers
 * the order in which the 20 started. With `countWaiting`, GET /limits counts the 20 as waiting.
 */
async function startOrder(engine: TestEngine, limit: TaskTypeLimit, countWaiting = false): Promise<string[]> {
  const started: string[] = [];
  let hold = true;
  const cluster = new TestCluster(engine.config(), {
    handlers: {
      job: async (task: Task) => {
        const tag = (task.payload as { tag: string }).tag;
        started.push(tag);
        while (tag === "blocker" && hold) await sleep(5); // held until the test lets it end
        return { ok: true };
      },
      echo: (task: Task) => task.payload,
    },
  });
  try {
    const c = await cluster.startCoordinator();
    await c.setLimit("job", limit);
    const d = await cluster.startDistributor("d1");
    await cluster.startWorker("w1", "d1");
    await cluster.ready();
    // The limit's refusals, counted as the gate answers.
    let refusals = 0;
    const admit = d.limits.admit.bind(d.limits);
    d.limits.admit = async (plan, now) => {
      const answer = await admit(plan, now);
      refusals += answer.refused.length;
      return answer;
    };
    await c.submitTask({ task_id: cluster.id("blocker"), task_type: "job", payload: { tag: "blocker" } });
    await until("the blocker starts", () => started.includes("blocker"), 10_000, 5);
    for (const [i, tag] of tags.entries()) {
      const task = { task_id: cluster.id(tag), task_type: "job", priority: priorities[i], payload: { tag } };
      await c.submitTask(task);
      // One at a time: each is queued at the distributor before the next comes.
      await until(`${tag} is queued`, () => d.core.queue.has(task.task_id), 10_000, 5);
    }
    // A task of an unlimited type is not held up behind the full one.
    const echoes = ["e1", "e2", "e3"].map((n) => cluster.id(n));
    for (const id of echoes) await c.submitTask({ task_id: id, task_type: "echo", payload: {} });
    const echoed = await Promise.all(echoes.map((id) => c.waitForTask(id, 10_000)));
    expect(echoed.map((t) => t?.status)).toEqual(["completed", "completed", "completed"]);
    await expect.poll(() => d.core.queue.size, { timeout: 10_000 }).toBe(tags.length);
    // The head of the queue refused and offered again, a few times.
    const seen = refusals;
    await until("the head of the queue is refused twice more", () => refusals >= seen + 2, 10_000, 10);
    if (countWaiting) {
      // Each one waits, though only the first few were asked for a slot (the limits' next read).
      await expect
        .poll(async () => (await c.listLimits())[0], { timeout: 6_000, interval: 100 })
        .toMatchObject({ in_use: 1, waiting: tags.length });
    }
    expect(started).toEqual(["blocker"]);
    hold = false;
    const done = await Promise.all(tags.map((t) => c.waitForTask(cluster.id(t), 20_000)));
    expect(done.map((t) => [t?.status, t?.attempts])).toEqual(tags.map(() => ["completed", 1]));
    return started.slice(1);
  } finally {
    await cluster.stop();
  }
}

describe.each(testEngines("limit-order"))("the start order of a limited type on $name", (engine) => {
  beforeAll(() => engine.setup(), 60_000);
  afterAll(() => engine.teardown());

  it("is priority first, then submission order, under a concurrency of 1", async () => {
    expect(await startOrder(engine, { concurrency: 1 }, true)).toEqual(expected);
  }, 60_000);

  it("is the same when the rate refuses too (concurrency 1 and 8 a second)", async () => {
    // The tasks end at once: after the blocker, most refusals are the rate's, with its wait.
    expect(await startOrder(engine, { concurrency: 1, rate_per_s: 8 })).toEqual(expected);
  }, 60_000);

  it("is first in first out within one priority under a rate limit alone", async () => {
    const started: string[] = [];
    const cluster = new TestCluster(engine.config(), {
      handlers: {
        paced: async (task: Task) => {
          started.push((task.payload as { tag: string }).tag);
          await sleep(30); // its end comes between refusals, with a pump
          return { ok: true };
        },
      },
    });
    try {
      const c = await cluster.startCoordinator();
      await c.setLimit("paced", { rate_per_s: 5 });
      const d = await cluster.startDistributor("d1");
      await cluster.startWorker("w1", "d1");
      await cluster.ready();
      // Whatever the arrivals' timing, one priority starts in submission order. Here one at a
      // time: each is at the distributor (queued, out or started) before the next comes.
      for (const tag of tags) {
        const id = cluster.id(tag);
        await c.submitTask({ task_id: id, task_type: "paced", payload: { tag } });
        await until(
          `${tag} reaches the distributor`,
          () =>
            started.includes(tag) ||
            d.core.queue.has(id) ||
            d.core.registry.all().some((w) => w.inFlight.has(id)),
          10_000,
          5,
        );
      }
      const done = await Promise.all(tags.map((t) => c.waitForTask(cluster.id(t), 20_000)));
      expect(done.map((t) => [t?.status, t?.attempts])).toEqual(tags.map(() => ["completed", 1]));
      expect(started.join("")).toBe(tags.join(""));
    } finally {
      await cluster.stop();
    }
  }, 60_000);
});
