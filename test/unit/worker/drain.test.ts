import { describe, expect, it } from "vitest";
import type { DrainLeft } from "../../../src/agents/worker/worker-core.js";
import { until } from "../../helpers/wait.js";
import { dispatched, workerCoreFor } from "../../helpers/worker-core-for.js";

/**
 * A worker's drain at shutdown: it waits for running attempts, then for their outcomes to be
 * acknowledged while the distributor answers (saying what it waits for), and gives up outcomes
 * a distributor that stopped answering can no longer take instead of waiting out its timeout.
 */

const job = (id: string) => dispatched(id, "wait");

/** A core whose "wait" attempts end when `release()` is called; what it sends is kept in `sent`. */
function core() {
  const releases: Array<() => void> = [];
  const { core: c, sent } = workerCoreFor({
    capacity: 4,
    resendMs: 20,
    handler: () => new Promise((resolve) => releases.push(() => resolve("done"))),
  });
  const release = () => {
    for (const r of releases.splice(0)) r();
  };
  return { c, sent, release };
}

describe("WorkerCore.drain", () => {
  it("with the distributor answering: waits for the running attempt and its acknowledgement, saying what for", async () => {
    const { c, sent, release } = core();
    c.accept([job("a"), job("b")]);
    const told: DrainLeft[] = [];
    const drain = c.drain(30_000, { answering: () => true, waiting: (left) => told.push(left) });
    await until("the drain says what it waits for", () => told.length > 0);
    expect(told[0]).toEqual({ running: 2, unacked: 0 });
    release();
    // Outcomes out, not acknowledged: still waiting, and sending them again.
    await until("both outcomes are sent twice", () => sent.length >= 4);
    expect(new Set(sent.map((o) => o.task_id))).toEqual(new Set(["a", "b"]));
    expect(c.pendingResults).toBe(2);
    c.acknowledge([
      { task_id: "a", fence: 1 },
      { task_id: "b", fence: 1 },
    ]);
    expect(await drain).toEqual({ drained: true, givenUp: 0, left: { running: 0, unacked: 0 } });
    c.stop();
  });

  it("with the distributor answering, what is not acknowledged by the deadline is left, not given up", async () => {
    const { c, release } = core();
    c.accept([job("a")]);
    release();
    const end = await c.drain(300, { answering: () => true });
    expect(end).toEqual({ drained: false, givenUp: 0, left: { running: 0, unacked: 1 } });
    c.stop();
  });

  it("with the distributor silent: lets the running attempt finish, then gives up every outcome at once", async () => {
    const { c, sent, release } = core();
    c.accept([job("a"), job("b")]);
    release(); // their outcomes sent, never acknowledged
    await until("both outcomes are sent", () => sent.length >= 2);
    c.accept([job("c")]); // running when the drain starts
    const told: DrainLeft[] = [];
    const drain = c.drain(30_000, { answering: () => false, waiting: (left) => told.push(left) });
    // The drain has looked (it says what it waits for: its first turn, where it would give the
    // outcomes up), and they have gone out again since: nothing given up while an attempt runs.
    await until("the drain says what it waits for", () => told.length > 0);
    const before = sent.length;
    await until("the outcomes are sent again during the drain", () => sent.length >= before + 2);
    expect(told[0]).toEqual({ running: 1, unacked: 2 });
    expect(c.load).toBe(1);
    expect(c.pendingResults).toBe(2);
    release();
    expect(await drain).toEqual({ drained: false, givenUp: 3, left: { running: 0, unacked: 0 } });
    c.stop();
  });
});
