import { describe, expect, it } from "vitest";
import type { DistributorAgent } from "../../../src/index.js";
import { TestCluster } from "../../helpers/cluster.js";

/**
 * TestCluster.settled (test helper): the commit counts it gives are read once they can no longer
 * change, so a test that expects one commit per task sees a double commit however late it lands.
 * It waited a fixed 50 ms for a late duplicate, which a loaded machine outlasts.
 */

/** A distributor as settled() sees it: holding the ids in `held`, its lease held. */
function distributor(held: Set<string>): DistributorAgent {
  return {
    core: { lease: { owns: true }, heldTask: (id: string) => (held.has(id) ? {} : undefined) },
  } as unknown as DistributorAgent;
}

describe("TestCluster.settled (test helper)", () => {
  it("waits for a distributor that still holds a committed task, and counts its late second commit", async () => {
    const cluster = new TestCluster({ url: "redis://127.0.0.1:1" });
    const held = new Set(["t"]);
    cluster.distributors.set("d1", distributor(new Set()));
    cluster.distributors.set("d2", distributor(held));
    cluster.commits.push({ taskId: "t", status: "completed", by: "d1" });
    // d2's attempt of the same task ends later than any fixed grace: its commit lands, then it lets go.
    setTimeout(() => {
      cluster.commits.push({ taskId: "t", status: "completed", by: "d2" });
      held.delete("t");
    }, 300);
    expect((await cluster.settled(["t"])).get("t")).toBe(2);
  });

  it("fails naming the tasks with no commit, instead of handing back counts without them", async () => {
    const cluster = new TestCluster({ url: "redis://127.0.0.1:1" });
    cluster.distributors.set("d1", distributor(new Set(["held"])));
    cluster.commits.push({ taskId: "done", status: "completed", by: "d1" });
    cluster.commits.push({ taskId: "held", status: "completed", by: "d1" });
    await expect(cluster.settled(["done", "held", "lost"], 200)).rejects.toThrow(
      /not committed lost; still held held$/,
    );
  });
});
