import { afterEach, describe, expect, it } from "vitest";
import { TestCluster } from "../../helpers/cluster.js";
import { uniquePrefix } from "../../helpers/redis-server.js";

/**
 * Found by the chaos suite (kill -9 of a worker, restarted at once by a supervisor): a worker
 * that crashes and comes back under the same id before its distributor declares it dead has
 * lost the attempts it was running. Its heartbeats no longer list them, and they must be taken
 * back and run again — not stay "in flight" on it for ever.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("a worker restarted under the same id before it is declared dead", () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it("gets the attempts it lost taken back, fenced off, and dispatched again", async () => {
    cluster = new TestCluster({
      url: `memory://restarted-worker-${process.pid}`,
      keyPrefix: uniquePrefix("rw"),
    });
    await cluster.startOne();
    const first = cluster.workers.get("w1")!;
    const ids = Array.from({ length: 4 }, (_, i) => cluster!.id(`t${i}`));
    for (const id of ids)
      await cluster.coordinator.submitTask({ task_id: id, task_type: "sleep", payload: { ms: 60_000 } });
    // Running on w1, and confirmed by its heartbeats.
    const d1 = cluster.distributors.get("d1")!;
    const w1 = () => d1.core.registry.get(cluster!.id("w1"));
    while (![...(w1()?.inFlight.values() ?? [])].some((f) => f.confirmed)) await sleep(20);
    expect(first.core.load).toBe(4);

    await cluster.crash(first);
    const second = await cluster.startWorker("w1", "d1");
    expect(w1()?.status).not.toBe("dead");

    // The new process runs them again (the lost attempts are fenced off first).
    const deadline = performance.now() + 5_000;
    while (second.core.load < 4 && performance.now() < deadline) await sleep(20);
    expect(second.core.load).toBe(4);
    expect(d1.core.stats.reassigned).toBe(4);
  });
});
