import { afterEach, describe, expect, it } from "vitest";
import type { A2AMessage } from "../../../src/index.js";
import { TestCluster } from "../../helpers/cluster.js";
import { until } from "../../helpers/wait.js";

/**
 * A second process heartbeating under a worker's id (a copied --id) is given no work, and what
 * its heartbeats say is not reported as the worker's either: the distributor's report (which
 * the coordinator shows) keeps the counts of the process it took. It carried the second's
 * refusal counts whenever that one had heartbeat last, and counted its heartbeats as the worker's.
 */
describe("a distributor's report of a worker heard from two processes", () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it("keeps what the process it took says, not the other's", async () => {
    cluster = new TestCluster({ url: `memory://second-process-reports-${process.pid}` });
    const c = cluster;
    const d1 = await c.startOne();
    // Each heartbeat of w1 is followed by one of a second process under its id, which says it
    // refused 99 messages (the first refused none).
    let copies = 0;
    const deliver = c.router.deliver.bind(c.router);
    c.router.deliver = (m: A2AMessage, signedText, unsigned, handOver) => {
      const delivered = deliver(m, signedText, unsigned, handOver);
      const status = m.payload.status as Record<string, unknown> | undefined;
      if (m.sender === c.id("w1") && m.recipient === d1.agentId && status?.kind === "worker_status") {
        const second: A2AMessage = {
          ...m,
          payload: {
            ...m.payload,
            status: { ...status, instance: "second-process", rejected: { unauthorized: 99 } },
          },
          metadata: { ...m.metadata, request_id: `${m.metadata.request_id}-second` },
        };
        deliver(second, undefined, true);
        copies++;
      }
      return delivered;
    };
    const reported = () => c.coordinator.observer.heard().get(d1.agentId)?.report;
    await until("a few heartbeats of both", () => copies >= 2);
    let since = copies;
    await until("d1 reported since", () => copies > since + 1 && reported() !== undefined);
    const first = { beats: reported()!.worker_heartbeats, copies };
    // Reported as d1 heard it: never the second's refusals, and w1's heartbeats alone (each of
    // them came with one of the second's, which doubled the count).
    for (let i = 0; i < 10; i++) {
      since = copies;
      await until("another heartbeat of both, and d1's report after it", () => copies > since + 1);
      expect(reported()?.worker_rejected?.[c.id("w1")]).toBeUndefined();
    }
    const beats = reported()!.worker_heartbeats - first.beats;
    expect(beats).toBeGreaterThan(0);
    expect(beats).toBeLessThan(1.5 * (copies - first.copies));
  });
});
