import { Annotation, END, START, StateGraph } from "@langchain/langgraph";
import { describe, expect, it } from "vitest";
import type {
  CoordinatorAgent,
  HandlerContext,
  Task,
  TaskHandler,
  Timing,
  WorkerAgent,
} from "../../../src/index.js";
import { clusterPerTest, type TestEngine } from "../../helpers/engines.js";
import { enginesOverHttp, withHttpAgents } from "../../helpers/http-agents.js";
import { PATIENT } from "../../helpers/two-coordinators.js";

/**
 * Agents whose message limits (a2a.maxBodyBytes) differ. Each checks what it sends against its
 * own limit; a message under the sender's limit and over the receiver's was refused by the
 * receiver (413), a refusal the sender took for a passing failure: a job too large for its worker
 * stayed in flight, was taken back and sent again for ever (the task never ended), a result too
 * large for its distributor was sent again for ever, an assignment too large for its distributor
 * was left for the distributor to find in the store (and end with its own check). Now a 413
 * counts as "too large" as the sender's own check does: a join goes without its dependencies'
 * results (the worker fetches them under its own limit), anything else ends with an error that
 * names the limit it is over. (The assignment case passed before too, by that other path.)
 */

const SMALL = 64 * 1024;
const LARGE = 256 * 1024;
/** Over SMALL, under LARGE. */
const BIG = 100 * 1024;
const PARTS = 10;
/** Each part's result: 12 KB, five of them over SMALL together. */
const PART_BYTES = 12 * 1024;

const partText = (i: number, bytes: number) => `${i}:`.padEnd(bytes, String.fromCharCode(97 + i));

type Seen = Record<string, { length: number; intact: boolean }>;

/** A graph of two steps; the first makes BIG bytes of state (its checkpoint). */
function bigStateGraph() {
  const State = Annotation.Root({
    notes: Annotation<string>({ reducer: (_a, b) => b, default: () => "" }),
    length: Annotation<number>({ reducer: (_a, b) => b, default: () => 0 }),
  });
  return new StateGraph(State)
    .addNode("gather", () => ({ notes: "n".repeat(BIG) }))
    .addNode("measure", (s) => ({ length: s.notes.length, notes: "" }))
    .addEdge(START, "gather")
    .addEdge("gather", "measure")
    .addEdge("measure", END)
    .compile();
}

const handlers: Record<string, TaskHandler<Task>> = {
  part: (task: Task) => {
    const i = Number(task.payload.i);
    return { text: partText(i, Number(task.payload.bytes ?? PART_BYTES)) };
  },
  join: (_task: Task, ctx: HandlerContext) => {
    const seen: Seen = {};
    for (const [id, dep] of Object.entries(ctx.dependencies)) {
      const text = (dep.result as { text?: string } | null)?.text ?? "";
      const i = Number(id.split("-").at(-1));
      seen[id] = { length: text.length, intact: text === partText(i, PART_BYTES) };
    }
    return { seen, parts: Object.keys(ctx.dependencies).length };
  },
  echo: (task: Task) => ({ length: String(task.payload.pad ?? "").length }),
  big: () => ({ text: "r".repeat(BIG) }),
  graph: bigStateGraph(),
} as unknown as Record<string, TaskHandler<Task>>;

type Limits = { c: number; d: number; workers: Array<{ limit: number; types: string[] }> };

/**
 * A coordinator, a distributor and `limits.workers` over HTTP (message streams or POSTs), each
 * under its own body limit and running `handlers` of its `types` (withHttpAgents); `submit` gets
 * the coordinator once every worker is registered and says it fetches left-out results.
 * `timing`: every agent's (default FAST).
 */
function withAgents<T>(
  engine: TestEngine,
  streams: boolean,
  limits: Limits,
  submit: (c: CoordinatorAgent, run: string, workers: WorkerAgent[]) => Promise<T>,
  timing?: Timing,
): Promise<T> {
  const workers = limits.workers.map(({ limit, types }) => ({
    limit,
    handlers: Object.fromEntries(types.map((t) => [t, handlers[t]!])),
  }));
  const o = {
    engine,
    streams,
    secret: "workflow-limits-differ-secret",
    limits,
    workers,
    ...(timing ? { timing } : {}),
  };
  return withHttpAgents(o, (agents) => submit(agents.c, agents.run, agents.workers));
}

const one = (types: string[], limit: number) => [{ limit, types }];

const overHttp = enginesOverHttp("workflow-limits-differ");

describe.each(overHttp)("message limits that differ between agents, on $name", ({ engine, streams }) => {
  clusterPerTest(engine);

  it("a join under its distributor's limit and over its worker's runs: it goes once, without the results, and the worker fetches them", async () => {
    const limits = { c: LARGE, d: LARGE, workers: one(["part", "join"], SMALL) };
    // Its attempts are counted (the join goes once), so the agents are PATIENT: under FAST a
    // loaded machine's 400 ms stall of the worker's heartbeats had the distributor list it dead
    // and take back its attempts, the join's among them (its fetch then refused: "does not run
    // attempt 1"), and the join ran twice.
    const { done, ids, tooLarge } = await withAgents(
      engine,
      streams,
      limits,
      async (c, run, [w]) => {
        const parts = Array.from({ length: PARTS }, (_, i) => ({
          task_id: `part-${run}-${i}`,
          task_type: "part",
          payload: { i },
        }));
        const ids = parts.map((p) => p.task_id);
        await c.submitTasks([
          ...parts,
          { task_id: `join-${run}`, task_type: "join", payload: {}, depends_on: ids },
        ]);
        const done = await c.waitForTask(`join-${run}`, 60_000);
        return { done, ids, tooLarge: w!.a2a.stats().rejected.too_large };
      },
      PATIENT,
    );
    expect(done).toMatchObject({ status: "completed", result: { parts: PARTS }, attempts: 1 });
    // The worker said its limit on its heartbeats: the job was never sent whole to be refused.
    expect(tooLarge).toBe(0);
    const seen = (done!.result as { seen: Seen }).seen;
    for (const id of ids) expect(seen[id], id).toEqual({ length: PART_BYTES, intact: true });
  }, 90_000);

  it("a task over its worker's limit (under its distributor's) ends abandoned, naming the worker's limit", async () => {
    const limits = { c: LARGE, d: LARGE, workers: one(["echo"], SMALL) };
    const done = await withAgents(engine, streams, limits, async (c, run) => {
      await c.submitTasks([{ task_id: `echo-${run}`, task_type: "echo", payload: { pad: "p".repeat(BIG) } }]);
      return c.waitForTask(`echo-${run}`, 60_000);
    });
    expect(done).toMatchObject({
      status: "abandoned",
      // Refused by the distributor's own check, under the limit the worker said it takes.
      error: expect.stringMatching(/^cannot be sent to w0-.*over the body limit of 65536 that w0-\w+ takes$/),
    });
  }, 90_000);

  it("a task over its distributor's limit (under its coordinator's) ends abandoned, naming the distributor's limit", async () => {
    const limits = { c: LARGE, d: SMALL, workers: one(["echo"], LARGE) };
    const done = await withAgents(engine, streams, limits, async (c, run) => {
      await c.submitTasks([{ task_id: `echo-${run}`, task_type: "echo", payload: { pad: "p".repeat(BIG) } }]);
      return c.waitForTask(`echo-${run}`, 60_000);
    });
    expect(done).toMatchObject({
      status: "abandoned",
      // Refused by the coordinator's own check, under the limit the distributor said it takes
      // (max_body_bytes), before it left; or, when the distributor found the task in the store
      // first (it reconciles with it), refused by its own check before it went to the worker.
      error: expect.stringMatching(
        /^cannot be sent to (distributor (d-\w+): .*over the body limit of 65536 that \2 takes$|w0-.*over the body limit of 65536)/,
      ),
    });
  }, 90_000);

  it("a result over its distributor's limit (under its worker's) fails the task, naming the distributor's limit", async () => {
    const limits = { c: LARGE, d: SMALL, workers: one(["big"], LARGE) };
    const done = await withAgents(engine, streams, limits, async (c, run) => {
      await c.submitTasks([{ task_id: `big-${run}`, task_type: "big", payload: {} }]);
      return c.waitForTask(`big-${run}`, 60_000);
    });
    expect(done).toMatchObject({
      status: "failed",
      error: expect.stringMatching(
        /^the outcome of the attempt cannot be sent: .*too_large.*over the limit of 65536/,
      ),
    });
  }, 90_000);

  it("a graph's checkpoint over its distributor's limit (under its worker's) fails it with ERR_CHECKPOINT_TOO_LARGE", async () => {
    const limits = { c: LARGE, d: SMALL, workers: one(["graph"], LARGE) };
    const done = await withAgents(engine, streams, limits, async (c, run) => {
      await c.submitTasks([{ task_id: `graph-${run}`, task_type: "graph", payload: {} }]);
      return c.waitForTask(`graph-${run}`, 60_000);
    });
    // ERR_CHECKPOINT_TOO_LARGE is not retried (the step would make the same state again). The
    // attempts are not counted here: a worker whose stream the distributor closed on the refused
    // line may miss a heartbeat deadline on a loaded machine, and its attempt be taken back.
    expect(done).toMatchObject({
      status: "failed",
      error: expect.stringMatching(/ERR_CHECKPOINT_TOO_LARGE.*too_large.*over the limit of 65536/),
    });
  }, 90_000);

  it("a dependency's result over its join's worker's limit fails the join with ERR_DEPENDENCY_TOO_LARGE", async () => {
    // The part runs on a worker under the large limit; the join on one under the small.
    const limits = {
      c: LARGE,
      d: LARGE,
      workers: [
        { limit: LARGE, types: ["part"] },
        { limit: SMALL, types: ["join"] },
      ],
    };
    const { part, join } = await withAgents(engine, streams, limits, async (c, run) => {
      const part = { task_id: `part-${run}-0`, task_type: "part", payload: { i: 0, bytes: BIG } };
      const join = { task_id: `join-${run}`, task_type: "join", payload: {}, depends_on: [part.task_id] };
      await c.submitTasks([part, join]);
      return {
        part: await c.waitForTask(part.task_id, 60_000),
        join: await c.waitForTask(join.task_id, 60_000),
      };
    });
    expect(part).toMatchObject({ status: "completed" });
    expect(join).toMatchObject({
      status: "failed",
      error: expect.stringMatching(
        /ERR_DEPENDENCY_TOO_LARGE: .*over the body limit of 65536 that w1-\w+ takes/,
      ),
    });
  }, 90_000);
});
