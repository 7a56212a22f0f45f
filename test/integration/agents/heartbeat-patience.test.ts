import { afterEach, describe, expect, it } from "vitest";
import type { A2AMessage } from "../../../src/core/messaging/types.js";
import { FAST, FaultyRouter } from "../../helpers/cluster.js";
import { uniquePrefix } from "../../helpers/redis-server.js";
import { standbyPair } from "../../helpers/two-coordinators.js";
import { sleep, until } from "../../helpers/wait.js";

/**
 * A heartbeat is worth delivering only until the next one is due. One sent to an agent that does
 * not take it (frozen, busy) is given up after its patience (half the heartbeat timeout), not
 * retried for the client's whole send timeout: delivered later, it would tell its receiver what
 * is no longer so — a coordinator back from a freeze took a distributor's two-second-old report
 * as the newest, claimed the distributor again for a moment, and its peers and its dashboard
 * showed the workers' ages two seconds too old.
 */

/** Records, for every heartbeat delivered, when it was sent and when it arrived (both wall clock, one process). */
class RecordingRouter extends FaultyRouter {
  readonly heartbeats: Array<{ from: string; to: string; sentAt: number; deliveredAt: number }> = [];

  override deliver(message: A2AMessage, signedText?: string, unsigned?: boolean, handOver?: boolean) {
    const delivery = super.deliver(message, signedText, unsigned, handOver);
    if (message.type === "heartbeat" && delivery.accepted) {
      this.heartbeats.push({
        from: message.sender,
        to: message.recipient,
        sentAt: Date.parse(message.metadata.timestamp),
        deliveredAt: Date.now(),
      });
    }
    return delivery;
  }
}

describe("heartbeats to an agent that does not take them", () => {
  const stops: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    stops.length = 0;
  });

  it("are given up after their patience: none arrives stale once it is back, and its directory keeps the peer's newer word", async () => {
    const router = new RecordingRouter();
    const run = Math.random().toString(36).slice(2, 7);
    const redis = {
      url: `memory://heartbeat-patience-${process.pid}-${run}`,
      keyPrefix: uniquePrefix("hbp"),
    };
    const { c1, c2, d, w } = await standbyPair({ router, redis, run, stops });

    // c2 stops taking messages: the distributor moves to c1 (c2 takes c1's word from its view).
    router.frozen.add(c2.agentId);
    await until("c1 hears the distributor itself", () => c1.core.directory.get(d.agentId)?.via === null);
    await until("c2 takes c1's word", () => c2.core.directory.get(d.agentId)?.via === c1.agentId);
    // The freeze lasts well past the heartbeats' patience: its length is the scenario, so a fixed wait.
    await sleep(1_500);
    let thawedAt = Date.now();
    router.frozen.delete(c2.agentId);
    // c2's word on the distributor, and whom the distributor heartbeats (it may move back to c2
    // for its own reasons on a loaded machine: a heartbeat to c1 past its patience).
    const viaAfter: Array<{ via: string | null | undefined; current: string }> = [];
    // A negative check: sampled over 500 ms after the thaw, c2 never claims the distributor.
    for (let i = 0; i < 20; i++) {
      await sleep(25);
      viaAfter.push({ via: c2.core.directory.get(d.agentId)?.via, current: d.coordinatorId });
    }
    const patience = FAST.heartbeatTimeoutMs / 2;
    const lateAfter = (at: number) =>
      router.heartbeats.filter((h) => h.deliveredAt >= at && h.sentAt < at - patience - 150);
    expect(lateAfter(thawedAt), "heartbeats delivered after the thaw, sent long before it").toEqual([]);
    // Without the patience, the distributor's report from the start of the freeze reached c2 here,
    // and c2 took the distributor back from c1 (via null) until c1's next view.
    const claimed = viaAfter.filter((s) => s.via !== c1.agentId && s.current !== c2.agentId);
    expect(claimed, "c2 claiming the distributor that heartbeats c1, after the thaw").toEqual([]);

    // The same between a worker and its distributor.
    router.frozen.add(d.agentId);
    await sleep(1_500); // the freeze, as above
    thawedAt = Date.now();
    router.frozen.delete(d.agentId);
    await until("the worker's heartbeats reach the distributor again", () =>
      router.heartbeats.some((h) => h.from === w.agentId && h.deliveredAt >= thawedAt),
    );
    await sleep(200); // a negative check: no stale heartbeat arrives in the next 200 ms either
    expect(lateAfter(thawedAt), "heartbeats delivered after the second thaw, sent long before it").toEqual(
      [],
    );
  });
});
