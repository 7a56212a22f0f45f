import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  CoordinatorAgent,
  DistributorAgent,
  type RedisConfig,
  type Timing,
  WorkerAgent,
} from "../../../src/index.js";
import { FAST } from "../../helpers/cluster.js";
import { testEngines } from "../../helpers/engines.js";
import { freePort } from "../../helpers/free-port.js";
import { until } from "../../helpers/wait.js";

/**
 * A distributor killed -9 while its worker lives on: the worker finishes the attempts it runs
 * while the distributor is down (their results unsent, unacknowledged), and the distributor
 * comes back under the same id, on the same port. The results the worker sends again must be
 * committed, each task once: found by the task type runners chaos scenario, where such
 * attempts stayed in_progress for good. Both with the coordinator declaring the distributor
 * dead before it is back (it takes its tasks off and places them again, on it: the only
 * distributor) and without. Over HTTP, as agents in separate processes talk.
 */

/** A promise that waits until `open` is called. */
const gate = () => {
  let open!: () => void;
  const closed = new Promise<void>((r) => {
    open = r;
  });
  return { closed, open };
};

const TASKS = 4;
const SECRET = "restarted-distributor-results-secret-0123456789abcdef";

describe.each(testEngines("restarted-distributor-results"))("a distributor restarted on $name", (engine) => {
  const agents: Array<{ cleanup(): Promise<void> }> = [];
  beforeAll(() => engine.setup(), 60_000);
  afterEach(async () => {
    // Workers first (as TestCluster.stop): a worker stopped after its distributor says its last
    // word to a closed port, and while it counts the distributor as answering (the test's 30 s
    // heartbeat timeout) that send waits out its whole timeout (10 s) before the worker stops.
    const all = agents.splice(0).reverse();
    const workersFirst = [
      ...all.filter((a) => a instanceof WorkerAgent),
      ...all.filter((a) => !(a instanceof WorkerAgent)),
    ];
    for (const a of workersFirst) await a.cleanup().catch(() => {});
  });
  afterAll(() => engine.teardown());

  it.each([
    { variant: "declared dead before it is back", heartbeatTimeoutMs: 600, dead: true },
    { variant: "back before it is declared dead", heartbeatTimeoutMs: 30_000, dead: false },
  ])(
    "commits what its worker finished while it was down, each once ($variant)",
    async ({ heartbeatTimeoutMs, dead }) => {
      const run = Math.random().toString(36).slice(2, 7);
      const redis: RedisConfig = engine.config();
      const timing: Timing = { ...FAST, heartbeatTimeoutMs, leaseTtlMs: 600 };
      const a2a = (agentId: string, agentPort = 0) => ({
        agentId,
        tokenSecret: SECRET,
        agentPort,
        host: "127.0.0.1",
        router: null,
      });
      const finish = gate();
      let runs = 0;
      const c = new CoordinatorAgent({ agentId: `c-${run}`, redis, a2a: a2a(`c-${run}`), timing });
      agents.push(c);
      await c.initialize();
      const port = await freePort();
      const dId = `d2-${run}`;
      const commits = new Map<string, number>();
      const startD2 = async () => {
        const d = new DistributorAgent({
          agentId: dId,
          coordinatorId: c.agentId,
          coordinatorUrl: c.url!,
          redis,
          a2a: a2a(dId, port),
          timing,
          events: { committed: (task) => commits.set(task.task_id, (commits.get(task.task_id) ?? 0) + 1) },
        });
        agents.push(d);
        await d.initialize();
        return d;
      };
      const first = await startD2();
      const w = new WorkerAgent({
        agentId: `w1-${run}`,
        distributorId: dId,
        distributorUrl: first.a2a.url!,
        a2a: a2a(`w1-${run}`),
        timing,
        concurrency: 8,
        handlers: {
          hold: async () => {
            runs++;
            await finish.closed;
            return { held: true };
          },
        },
      });
      agents.push(w);
      await w.initialize();
      await until(
        "d2 is healthy with its worker",
        () => c.core.directory.healthy().some((e) => e.id === dId && (e.capacity ?? 0) > 0),
        20_000,
      );
      const ids = Array.from({ length: TASKS }, (_, i) => `t${i}-${run}`);
      for (const id of ids) await c.submitTask({ task_id: id, task_type: "hold", payload: {} });
      await until(`the ${TASKS} tasks run on w1`, () => runs === TASKS, 20_000);

      // d2 killed -9: no clean stop, nothing handed back, its lease not released.
      (first as unknown as { stopTimers(): void }).stopTimers();
      await first.core.stop(false);
      await first.a2a.close();
      await first.store.disconnect();
      // w1 lives on and finishes every attempt while d2 is down.
      finish.open();
      await until("w1 holds every result unacknowledged", () => w.core.pendingResults === TASKS, 20_000);
      if (dead) {
        await until(
          "the coordinator declared d2 dead",
          () => c.core.directory.get(dId)?.status === "dead",
          20_000,
        );
      }

      // d2 back under its id, on its port: every task completes, committed once. (The restarted d2
      // adopts each attempt in flight on w1 and gives it a heartbeat timeout to be confirmed: should
      // w1's resend land later than that, on a loaded machine, the task runs once more, and the
      // first result is refused by its fence — still one commit.)
      await startD2();
      for (const id of ids) {
        const task = await c.waitForTask(id, 30_000);
        expect(task?.status, id).toBe("completed");
      }
      await until("w1 holds no result unacknowledged", () => w.core.pendingResults === 0, 20_000);
      for (const id of ids) {
        const record = await c.ledger.get(id);
        expect(record?.task.status, id).toBe("completed");
      }
      expect(ids.map((id) => commits.get(id) ?? 0)).toEqual(ids.map(() => 1));
    },
  );
});
