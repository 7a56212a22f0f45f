import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Task, TaskHandler } from "../../../src/index.js";
import { TestCluster } from "../../helpers/cluster.js";

const handlers = (
  (await import(new URL("../../../examples/workflow-handlers.mjs", import.meta.url).pathname)) as {
    default: Record<string, TaskHandler<Task>>;
  }
).default;

/** The README's workflow example (examples/workflow-handlers.mjs) does what the README says. */
describe("the README's workflow example", () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = new TestCluster({ url: `memory://workflow-example-${process.pid}` }, { handlers });
    await cluster.startCoordinator();
    await cluster.startDistributor("d1");
    for (const w of ["w1", "w2"]) await cluster.startWorker(w, "d1");
    await cluster.ready();
  });
  afterAll(() => cluster?.stop());

  it("plan -> one research task per topic -> report, joined from ctx.dependencies", async () => {
    const c = cluster.coordinator;
    const id = cluster.id("plan");
    await c.submitTask({ task_id: id, task_type: "plan", payload: { topics: ["redis", "raft", "crdt"] } });
    expect(await c.waitForTask(id, 5000)).toMatchObject({
      status: "completed",
      result: { research: [`${id}.1`, `${id}.2`, `${id}.3`], report: `${id}.4` },
    });
    expect(await c.waitForTask(`${id}.4`, 5000)).toMatchObject({
      status: "completed",
      parent_id: id,
      result: { sections: ["redis: 5 letters", "raft: 4 letters", "crdt: 4 letters"], missing: 0 },
    });
  });
});
