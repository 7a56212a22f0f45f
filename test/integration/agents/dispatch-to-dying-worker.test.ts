import { afterEach, describe, expect, it } from "vitest";
import type { TaskLedger } from "../../../src/index.js";
import { TestCluster } from "../../helpers/cluster.js";
import { uniquePrefix } from "../../helpers/redis-server.js";
import { until } from "../../helpers/wait.js";

/**
 * Found while reading the chaos suite's histories: an attempt dispatched to a worker in the
 * very moment it is declared dead (the dispatch script has run, its reply is still on the way)
 * was put back "in flight" on the dead worker — where no monitor tick ever looks again. With
 * the worker gone for good, its task stayed in progress for ever. A dead worker holds nothing:
 * whatever lands on it afterwards is taken back.
 */

describe("an attempt dispatched to a worker as it is declared dead", () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it("is taken back and run by another worker, not stranded on the dead one", async () => {
    cluster = new TestCluster({ url: `memory://dying-worker-${process.pid}`, keyPrefix: uniquePrefix("dw") });
    const d1 = await cluster.startOne();
    const doomed = cluster.workers.get("w1")!;

    // Hold the replies of dispatch scripts (which have run) until w1 has been declared dead.
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const ledger = d1.ledger as TaskLedger;
    const dispatch = ledger.dispatchMany.bind(ledger);
    let held = 0;
    ledger.dispatchMany = async (...args) => {
      const verdicts = await dispatch(...args);
      held++;
      await gate;
      return verdicts;
    };

    await cluster.crash(doomed); // silent from now on, still "alive" until the timeout
    const id = cluster.id("t1");
    await cluster.coordinator.submitTask({ task_id: id, task_type: "echo", payload: { ok: true } });
    // Monitor ticks, counted as each ends (a tick declares a worker dead and takes back its attempts).
    let ticks = 0;
    const monitor = d1.core.monitorWorkers.bind(d1.core);
    d1.core.monitorWorkers = async () => {
      await monitor();
      ticks++;
    };
    await until("the dispatch script's reply is held", () => held > 0, 5_000, 10);
    const w1 = d1.core.registry.get(cluster.id("w1"))!;
    await until("w1 is declared dead", () => w1.status === "dead", 5_000, 10);
    // The monitor's take-back of the dead worker's attempts has run: the tick that declared it
    // dead has ended (the one running now, or one before).
    const seen = ticks;
    await until("a monitor tick ends", () => ticks > seen, 5_000, 10);
    release();
    ledger.dispatchMany = dispatch;

    await cluster.startWorker("w2", "d1");
    const done = await cluster.coordinator.waitForTask(id, 5_000);
    expect(done).toMatchObject({ status: "completed", result: { ok: true } });
    expect(w1.inFlight.size).toBe(0);
  });
});
