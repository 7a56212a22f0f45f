import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { CoordinatorAgent } from "../../../src/index.js";
import { startCoordinatorServer } from "../../../src/server/coordinator-server.js";
import { TestCluster } from "../../helpers/cluster.js";
import { testEngines } from "../../helpers/engines.js";

/**
 * Sending a task again is how a client learns what became of a submission it was not told
 * about (a 503, a lost reply): the task id is the idempotency key, and the coordinator makes
 * sure a task it finds recorded by such a submission is run, once.
 */

/**
 * How long a task may take to end, the cluster to be ready, a commit to be in: a bound under the
 * test's 30 s, not a time the test expects. These were 5 s, which a loaded machine could spend
 * before a task even ran: the wait is for the task to end, however long that takes within it.
 */
const WAIT_MS = 20_000;

/** The task once it has ended; fails, saying what the ledger holds of it, if it never does. */
async function ended(c: CoordinatorAgent, id: string) {
  const task = await c.waitForTask(id, WAIT_MS);
  if (task === null)
    throw new Error(`task ${id} did not end within ${WAIT_MS} ms: ${JSON.stringify(await c.ledger.get(id))}`);
  return task;
}

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
    await cluster.startOne(WAIT_MS);
    const c = cluster.coordinator;
    const id = cluster.id("once");
    expect(await c.submitTask({ task_id: id, task_type: "echo", payload: { n: 1 } })).toBe(true);
    expect(await c.submitTask({ task_id: id, task_type: "echo", payload: { n: 2 } })).toBe(false);
    expect(await c.submitTasks([{ task_id: id, task_type: "echo" }])).toEqual([false]);
    expect(await ended(c, id)).toMatchObject({ status: "completed", payload: { n: 1 } });
    expect((await cluster.settled([id], WAIT_MS)).get(id)).toBe(1);
  });

  it("twice in one request: the first is submitted, the later one is answered as a duplicate (library and POST /tasks)", async () => {
    cluster = new TestCluster(engine.config());
    await cluster.startOne(WAIT_MS);
    const c = cluster.coordinator;
    const [a, b, g] = [cluster.id("dup-a"), cluster.id("dup-b"), cluster.id("dup-graph")];
    const duplicateOf = (id: string, first: number) => ({
      task_id: id,
      error: {
        code: "ERR_DUPLICATE_TASK_ID",
        message: `task id ${JSON.stringify(id)} is also the id of task [${first}] of this request: only the first was submitted`,
      },
    });

    // The library: the later one resolves false, and submitTasksSettled says why.
    expect(
      await c.submitTasks([
        { task_id: a, task_type: "echo", payload: { n: 1 } },
        { task_id: a, task_type: "echo", payload: { n: 2 } },
      ]),
    ).toEqual([true, false]);
    expect(
      await c.submitTasksSettled([
        { task_id: b, task_type: "echo", payload: { n: 1 } },
        { task_id: a, task_type: "echo", payload: { n: 3 } },
        { task_id: b, task_type: "echo", payload: { n: 2 } },
      ]),
    ).toEqual([{ task_id: b, created: true }, { task_id: a, created: false }, duplicateOf(b, 0)]);
    // A graph: its tasks are those of the first occurrences.
    expect(
      await c.submitTasksSettled([
        { task_id: g, task_type: "echo", payload: { n: 1 } },
        { task_id: g, task_type: "echo", payload: { n: 2 }, depends_on: [a] },
      ]),
    ).toEqual([{ task_id: g, created: true }, duplicateOf(g, 0)]);
    for (const id of [a, b, g])
      expect(await ended(c, id)).toMatchObject({ status: "completed", payload: { n: 1 } });

    // POST /tasks: the same, in the answer's shape (202: the first is new).
    const server = await startCoordinatorServer(c, { port: 0 });
    try {
      const post = (body: unknown) =>
        fetch(`${server.url}/tasks`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        });
      const r = cluster.id("dup-rest");
      const res = await post([
        { task_id: r, task_type: "echo", payload: { n: 1 } },
        { task_id: r, task_type: "slow", payload: { n: 2 } },
      ]);
      expect(res.status).toBe(202);
      const { tasks } = (await res.json()) as { tasks: unknown[] };
      expect(tasks).toHaveLength(2);
      expect(tasks[0]).toMatchObject({ task_id: r, task_type: "echo", payload: { n: 1 } });
      expect(tasks[1]).toEqual(duplicateOf(r, 0));
      // Nothing new: 200, the recorded one as it stands, the duplicate said again.
      const again = await post([
        { task_id: r, task_type: "echo" },
        { task_id: r, task_type: "echo" },
      ]);
      expect(again.status).toBe(200);
      expect(((await again.json()) as { tasks: unknown[] }).tasks[1]).toEqual(duplicateOf(r, 0));
      expect(await ended(c, r)).toMatchObject({ status: "completed", payload: { n: 1 } });
      const commits = await cluster.settled([a, b, g, r], WAIT_MS);
      for (const id of [a, b, g, r]) expect(commits.get(id), id).toBe(1);
    } finally {
      await server.close();
    }
  });

  it("a task recorded unplaced by a submission whose answer was lost is placed when it is sent again", async () => {
    cluster = new TestCluster(engine.config());
    await cluster.startOne(WAIT_MS);
    const c = cluster.coordinator;
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
    expect(await ended(c, id)).toMatchObject({ status: "completed", result: { lost: true } });
    expect((await cluster.settled([id], WAIT_MS)).get(id)).toBe(1);
  });
});
