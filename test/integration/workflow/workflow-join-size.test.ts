import { describe, expect, it } from "vitest";
import type { WorkerHeartbeat } from "../../../src/agents/protocol.js";
import type { HandlerContext, Task, TaskHandler, WorkerAgent } from "../../../src/index.js";
import { clusterPerTest, type TestEngine } from "../../helpers/engines.js";
import { enginesOverHttp, withHttpAgents } from "../../helpers/http-agents.js";

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
  const unsendable: string[] = [];
  // Heartbeats as an earlier release's: without fetches_dependencies.
  const asOlder = (w: WorkerAgent) => {
    const heartbeat = w.core.heartbeat.bind(w.core);
    w.core.heartbeat = (...args: Parameters<typeof heartbeat>): WorkerHeartbeat => {
      const { fetches_dependencies: _, ...earlier } = heartbeat(...args);
      return earlier;
    };
  };
  const agents = {
    engine,
    streams,
    secret: "workflow-join-size-secret",
    limits: { c: BODY_LIMIT, d: BODY_LIMIT },
    workers: [
      {
        limit: BODY_LIMIT,
        handlers: handlers as unknown as Record<string, TaskHandler<Task>>,
        ...(older ? { prepare: asOlder } : {}),
      },
    ],
    distributorEvents: {
      unsendable: (taskId: string, reason: string) => unsendable.push(`${taskId}: ${reason}`),
    },
    fetchesDependencies: !older,
  };
  return withHttpAgents(agents, async ({ c, run }) => {
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
  });
}

describe.each(enginesOverHttp("workflow-join-size"))(
  "a join over the message limit on $name",
  ({ engine, streams }) => {
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
        error: expect.stringMatching(/^cannot be sent to w0-.*over the body limit of 65536/),
      });
      expect(unsendable).toHaveLength(1);
    }, 60_000);
  },
);
