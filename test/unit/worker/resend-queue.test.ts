import { describe, expect, it } from "vitest";
import { dispatched, workerCoreFor } from "../../helpers/worker-core-for.js";

/**
 * A worker whose distributor does not answer (killed -9 and restarting, frozen): the sends of
 * its outcomes stay unanswered, the resend timer fires again and again, and what waits to be
 * sent must stay one copy of each outcome, however long the outage — not one more copy per
 * resend period, all delivered (and, once the tasks have moved, each refused with a warning)
 * when the distributor is back.
 */

const job = (id: string) => dispatched(id, "quick");

describe("WorkerCore: outcomes re-sent while the distributor does not answer", () => {
  it("queue one copy of each outcome, however many resend periods the outage lasts", async () => {
    const answers: Array<() => void> = [];
    let resends = 0;
    const { core: c, sent } = workerCoreFor({
      capacity: 4,
      resendMs: 5,
      handler: () => "done",
      // The distributor is down: no send of outcomes is answered until it is back.
      answer: (p) =>
        p.kind === "task_results" ? new Promise<void>((resolve) => answers.push(resolve)) : undefined,
    });
    c.accept([job("a"), job("b")]);
    // Until two sends are out (the most unanswered at once) and a good many resend periods passed.
    const sends = () => sent.length;
    while (sends() < 2 || resends < 40) {
      await new Promise((r) => setTimeout(r, 5));
      resends++;
    }
    const whileDown = sent.length;
    // The distributor is back: it acknowledges both outcomes and answers every send; whatever
    // waited in the outbox goes out.
    c.acknowledge([
      { task_id: "a", fence: 1 },
      { task_id: "b", fence: 1 },
    ]);
    for (let round = 0; round < 5; round++) {
      for (const answer of answers.splice(0)) answer();
      await new Promise((r) => setTimeout(r, 0));
      await new Promise((r) => setImmediate(r));
    }
    c.stop();
    const afterOutage = sent.length - whileDown;
    // Each outcome once more than it was while down at most (the copy that waited its turn).
    expect(afterOutage).toBeLessThanOrEqual(2);
    expect(c.pendingResults).toBe(0);
  });
});
