import { describe, expect, it } from "vitest";
import type { WorkerHeartbeat } from "../../../src/agents/protocol.js";
import {
  CoordinatorAgent,
  DistributorAgent,
  type HandlerContext,
  type Task,
  type TaskHandler,
  WorkerAgent,
} from "../../../src/index.js";
import { FAST } from "../../helpers/cluster.js";
import { clusterPerTest, type TestEngine, testEngines } from "../../helpers/engines.js";
import { until } from "../../helpers/wait.js";

/**
 * A join whose dependencies' results together are larger than a message between distributor
 * and worker may be. Each result was within the limit when it was stored; the join's job
 * carried them all, could not be sent, and the join ended abandoned ("cannot be sent"). Now the
 * job goes without them and the worker fetches them from its distributor (fetch_dependencies)
 * before the handler runs: the handler sees every result in ctx.dependencies.
 *
 * The limit applies over HTTP (the in-process router has none): the agents here listen on ports
 * and take no router, as agents in separate processes do — over message streams, and over POSTs
 * (streams: false).
 */

const BODY_LIMIT = 64 * 1024;
const PARTS = 10;
/** Each part's result: 12 KB, five of them over the limit together. */
const PART_BYTES = 12 * 1024;

const partText = (i: number) => `${i}:`.padEnd(PART_BYTES, String.fromCharCode(97 + i));

type Seen = Record<string, { status: string; length: number; intact: boolean; error: string | null }>;

const handlers = {
  part: (task: Task) => ({ text: partText(Number(task.payload.i)) }),
  join: (task: Task, ctx: HandlerContext) => {
    const seen: Seen = {};
    for (const [id, dep] of Object.entries(ctx.dependencies)) {
      const text = (dep.result as { text?: string } | null)?.text ?? "";
      const i = Number(id.split("-").at(-1));
      seen[id] = { status: dep.status, length: text.length, intact: text === partText(i), error: dep.error };
    }
    return { seen, parts: Object.keys(ctx.dependencies).length, of: (task.payload.of as string) ?? "" };
  },
};

/**
 * Starts a coordinator, a distributor and a worker talking over HTTP (`streams` or POSTs) under
 * BODY_LIMIT, submits PARTS parts and their join, and resolves with the join's end and what the
 * distributor could not send. `older`: the worker heartbeats as an earlier release's, which does
 * not say it fetches left-out results.
 */
async function runJoin(engine: TestEngine, streams: boolean, older = false) {
  const run = Math.random().toString(36).slice(2, 7);
  const redis = engine.config();
  const a2a = (agentId: string) => ({
    agentId,
    tokenSecret: "workflow-join-size-secret",
    agentPort: 0,
    host: "127.0.0.1",
    router: null,
    maxBodyBytes: BODY_LIMIT,
    streams,
  });
  const agents: Array<{ cleanup(): Promise<void> }> = [];
  const unsendable: string[] = [];
  try {
    const c = new CoordinatorAgent({ agentId: `c-${run}`, redis, a2a: a2a(`c-${run}`), timing: FAST });
    agents.push(c);
    await c.initialize();
    const d = new DistributorAgent({
      agentId: `d-${run}`,
      coordinatorId: c.agentId,
      coordinatorUrl: c.url!,
      redis,
      a2a: a2a(`d-${run}`),
      timing: FAST,
      events: { unsendable: (taskId, reason) => unsendable.push(`${taskId}: ${reason}`) },
    });
    agents.push(d);
    await d.initialize();
    const w = new WorkerAgent({
      agentId: `w-${run}`,
      distributorId: d.agentId,
      distributorUrl: d.a2a.url!,
      a2a: a2a(`w-${run}`),
      timing: FAST,
      handlers: handlers as unknown as Record<string, TaskHandler<Task>>,
    });
    if (older) {
      const heartbeat = w.core.heartbeat.bind(w.core);
      w.core.heartbeat = (...args: Parameters<typeof heartbeat>): WorkerHeartbeat => {
        const { fetches_dependencies: _, ...earlier } = heartbeat(...args);
        return earlier;
      };
    }
    agents.push(w);
    await w.initialize();
    await until(
      "the distributor has the worker's heartbeat",
      () =>
        (c.core.directory.get(d.agentId)?.workers.length ?? 0) > 0 &&
        d.core.registry.get(w.agentId)?.fetchesDependencies === !older,
      10_000,
    );
    const parts = Array.from({ length: PARTS }, (_, i) => ({
      task_id: `part-${run}-${i}`,
      task_type: "part",
      payload: { i },
    }));
    const join = {
      task_id: `join-${run}`,
      task_type: "join",
      payload: { of: "parts" },
      depends_on: parts.map((p) => p.task_id),
    };
    await c.submitTasks([...parts, join]);
    const done = await c.waitForTask(join.task_id, 30_000);
    return { done, unsendable, parts };
  } finally {
    for (const a of agents.reverse()) await a.cleanup().catch(() => {});
  }
}

describe.each(
  testEngines("workflow-join-size").flatMap((engine) =>
    [true, false].map((streams) => ({
      engine,
      streams,
      name: `${engine.name}, ${streams ? "streams" : "POSTs"}`,
    })),
  ),
)("a join over the message limit on $name", ({ engine, streams }) => {
  clusterPerTest(engine);

  it("runs, and its handler sees every dependency's result whole", async () => {
    const { done, unsendable, parts } = await runJoin(engine, streams);
    expect(unsendable).toEqual([]);
    expect(done).toMatchObject({ status: "completed", result: { parts: PARTS, of: "parts" } });
    const seen = (done!.result as { seen: Seen }).seen;
    for (const p of parts)
      expect(seen[p.task_id], p.task_id).toEqual({
        status: "completed",
        length: PART_BYTES,
        intact: true,
        error: null,
      });
  }, 60_000);

  it("is not sent without its results to a worker of an earlier release (it would run on null results)", async () => {
    const { done, unsendable } = await runJoin(engine, streams, true);
    expect(done).toMatchObject({
      status: "abandoned",
      error: expect.stringMatching(/^cannot be sent to w-.*over the body limit of 65536/),
    });
    expect(unsendable).toHaveLength(1);
  }, 60_000);
});
