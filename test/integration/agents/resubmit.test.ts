import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { TestCluster } from "../../helpers/cluster.js";
import { testEngines } from "../../helpers/engines.js";

/**
 * Sending a task again is how a client learns what became of a submission it was not told
 * about (a 503, a lost reply): the task id is the idempotency key, and the coordinator makes
 * sure a task it finds recorded by such a submission is run, once.
 */

describe.each(testEngines("resubmit"))("a task sent again on $name", (engine) => {
  let cluster: TestCluster | undefined;
  beforeAll(() => engine.setup());
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });
  afterAll(() => engine.teardown());

  it("is recorded once, and resolves false: nothing new", async () => {
    cluster = new TestCluster(engine.config());
    const c = await cluster.startCoordinator();
    await cluster.startDistributor("d1");
    await cluster.startWorker("w1", "d1");
    await cluster.ready();
    const id = cluster.id("once");
    expect(await c.submitTask({ task_id: id, task_type: "echo", payload: { n: 1 } })).toBe(true);
    expect(await c.submitTask({ task_id: id, task_type: "echo", payload: { n: 2 } })).toBe(false);
    expect(await c.submitTasks([{ task_id: id, task_type: "echo" }])).toEqual([false]);
    expect(await c.waitForTask(id, 5000)).toMatchObject({ status: "completed", payload: { n: 1 } });
    expect((await cluster.settled([id])).get(id)).toBe(1);
  });

  it("a task recorded unplaced by a submission whose answer was lost is placed when it is sent again", async () => {
    cluster = new TestCluster(engine.config());
    const c = await cluster.startCoordinator();
    await cluster.startDistributor("d1");
    await cluster.startWorker("w1", "d1");
    await cluster.ready();
    const id = cluster.id("lost-answer");
    // What the ledger holds after a submit whose reply was lost while no distributor was known:
    // the task recorded, on no distributor, and the coordinator none the wiser.
    expect(
      await c.ledger.submit({
        taskId: id,
        taskType: "echo",
        payload: { lost: true },
        createdAt: new Date().toISOString(),
        maxRetries: 2,
        backoffMs: 20,
      }),
    ).toBe(true);
    expect(c.core.unplacedCount).toBe(0);
    expect(await c.submitTask({ task_id: id, task_type: "echo", payload: { lost: true } })).toBe(false);
    expect(await c.waitForTask(id, 5000)).toMatchObject({ status: "completed", result: { lost: true } });
    expect((await cluster.settled([id])).get(id)).toBe(1);
  });
});
