import { Annotation, END, START, StateGraph } from "@langchain/langgraph";
import { describe, expect, it } from "vitest";
import {
  A2ARouter,
  CoordinatorAgent,
  DistributorAgent,
  RelayCheckpointSaver,
  type Task,
  type TaskHandler,
  type Timing,
  WorkerAgent,
} from "../../../src/index.js";
import { FAST } from "../../helpers/cluster.js";
import { clusterPerTest, testEngines } from "../../helpers/engines.js";
import { until } from "../../helpers/wait.js";

/**
 * A graph task's checkpoints have the same cap in one process as between processes. Over HTTP a
 * checkpoint goes to the distributor in a message of at most maxBodyBytes, so a graph whose
 * state outgrows it fails; through the in-process router there was no limit, and the same graph
 * stored checkpoints of any size. The worker's RelayCheckpointSaver now refuses a transfer over
 * its message limit (ERR_CHECKPOINT_TOO_LARGE, not retried: the step makes the same state again).
 */

const BODY_LIMIT = 64 * 1024;

/**
 * FAST, but with a 10 s heartbeat timeout, not 0.4 s: what this proves is the size refusal on
 * the task's one attempt. On a loaded host the 0.4 s ran out (a silent agent, a dispatch not
 * confirmed in time), the attempt was taken back and run again (attempts: 2), which says
 * nothing about checkpoint sizes. Leases live as long, for the same reason.
 */
const PATIENT: Timing = { ...FAST, heartbeatTimeoutMs: 10_000, leaseTtlMs: 10_000 };

/** Two steps; the first makes `bytes` of state. */
function graphOf(bytes: number) {
  const State = Annotation.Root({
    notes: Annotation<string>({ reducer: (_a, b) => b, default: () => "" }),
    length: Annotation<number>({ reducer: (_a, b) => b, default: () => 0 }),
  });
  return new StateGraph(State)
    .addNode("gather", () => ({ notes: "n".repeat(bytes) }))
    .addNode("measure", (s) => ({ length: s.notes.length, notes: "" }))
    .addEdge(START, "gather")
    .addEdge("gather", "measure")
    .addEdge("measure", END)
    .compile();
}

describe("RelayCheckpointSaver maxBytes", () => {
  it("must be a positive integer", () => {
    for (const maxBytes of [0, -1, 1.5, Number.NaN])
      expect(() => new RelayCheckpointSaver({ sink: () => {}, maxBytes })).toThrow(
        expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }),
      );
  });
});

describe.each(testEngines("checkpoint-size-in-process"))(
  "graph checkpoints in one process on $name",
  (engine) => {
    clusterPerTest(engine);

    it("a checkpoint over the worker's message limit fails the task with ERR_CHECKPOINT_TOO_LARGE; one under it runs", async () => {
      const run = Math.random().toString(36).slice(2, 7);
      const redis = engine.config();
      // Every agent in this process, on a router of their own: no HTTP anywhere.
      const router = new A2ARouter();
      const a2a = { router, maxBodyBytes: BODY_LIMIT };
      const agents: Array<{ cleanup(): Promise<void> }> = [];
      try {
        const c = new CoordinatorAgent({
          agentId: `c-${run}`,
          redis,
          a2a,
          timing: PATIENT,
          retry: { default: { maxRetries: 2, backoffMs: 20 } },
        });
        agents.push(c);
        await c.initialize();
        const d = new DistributorAgent({
          agentId: `d-${run}`,
          coordinatorId: c.agentId,
          redis,
          a2a,
          timing: PATIENT,
        });
        agents.push(d);
        await d.initialize();
        const w = new WorkerAgent({
          agentId: `w-${run}`,
          distributorId: d.agentId,
          a2a,
          timing: PATIENT,
          handlers: { big: graphOf(100 * 1024), small: graphOf(8 * 1024) } as unknown as Record<
            string,
            TaskHandler<Task>
          >,
        });
        agents.push(w);
        await w.initialize();
        await until(
          "the coordinator knows the worker",
          () => (c.core.directory.get(d.agentId)?.workers.length ?? 0) > 0,
          10_000,
        );

        const big = `big-${run}`;
        const small = `small-${run}`;
        await c.submitTasks([
          { task_id: big, task_type: "big", payload: {} },
          { task_id: small, task_type: "small", payload: {} },
        ]);
        const [bigDone, smallDone] = await Promise.all([
          c.waitForTask(big, 20_000),
          c.waitForTask(small, 20_000),
        ]);
        expect(smallDone).toMatchObject({ status: "completed", result: { length: 8 * 1024 } });
        expect(bigDone).toMatchObject({
          status: "failed",
          attempts: 1,
          error: expect.stringMatching(/is \d+ bytes, over the limit of \d+ \(ERR_CHECKPOINT_TOO_LARGE/),
        });
        // Nothing over the limit was stored for the distributor to resume from.
        const stored = await d.checkpoints.exportThread(big);
        for (const t of stored) expect(Buffer.byteLength(JSON.stringify(t))).toBeLessThanOrEqual(BODY_LIMIT);
      } finally {
        for (const a of agents.reverse()) await a.cleanup().catch(() => {});
      }
    }, 60_000);
  },
);
