// Workflows against BullMQ's FlowProducer, on the same Redis, in the same run:
//
//   npx tsx bench/workflow.ts [--children 10000] [--width 1000] [--layers 10] [--rounds 3]
//                             [--only fanout|dag]
//
// fan-out/fan-in: N no-op children, then one join that runs once all have ended. BullMQ: one
// flow, a parent with N children. Triad: N tasks, then joins of 1,000 (depends_on lists at most
// 1,000 ids) and a final join on those. Figures: tasks/s from the first add to the join's end,
// and the time from the last child's end to the (final) join's start.
// 10-layer DAG: `width` chains `layers` deep (each task waits on the one above it). BullMQ:
// `width` flows, each a chain of nested parents. Triad: one graph of depends_on.
// Both in this process, one worker at concurrency 100 each; runs alternate, medians reported.
import { type FlowJob, FlowProducer, Worker } from "bullmq";
import { Redis } from "ioredis";
import type { CoordinatorAgent, DistributorAgent, WorkerAgent } from "../src/index.js";
import { benchFlags } from "./lib/flags.js";
import { BenchRedis } from "./lib/redis.js";
import { fmt, median, table } from "./lib/stats.js";
import { triad } from "./lib/triad.js";
import { untilReady } from "./triad-inprocess.js";

const argv = benchFlags(import.meta.url, {
  children: { kind: "count", default: 10_000, min: 1, help: "children of the fan-out/fan-in" },
  width: { kind: "count", default: 1000, min: 1, help: "chains of the DAG" },
  layers: { kind: "count", default: 10, min: 1, help: "tasks in each chain of the DAG" },
  rounds: { kind: "count", default: 3, min: 1, help: "rounds, Triad and BullMQ alternating" },
  only: { kind: "string", choices: ["fanout", "dag"], help: "one of the two workflows (default both)" },
});
const CHILDREN = argv.children;
const WIDTH = argv.width;
const LAYERS = argv.layers;
const ROUNDS = argv.rounds;
const FANOUT = argv.only !== "dag";
const DAG = argv.only !== "fanout";
const log = (...parts: unknown[]) => process.stderr.write(`${parts.join(" ")}\n`);

type Figures = { tasks: number; ms: number; joinGapMs: number };
/** When each task's handler started and ended (ms, performance.now()). */
type Marks = { start: Map<string, number>; end: Map<string, number> };

const redis = await BenchRedis.start();
let run = 0;

async function withTriad<T>(body: (c: CoordinatorAgent, marks: Marks) => Promise<T>): Promise<T> {
  const id = `wf${++run}-${process.pid}`;
  const marks: Marks = { start: new Map(), end: new Map() };
  const router = new triad.A2ARouter();
  const redisConfig = { url: redis.url };
  const coordinator = new triad.CoordinatorAgent({ agentId: `c-${id}`, redis: redisConfig, a2a: { router } });
  await coordinator.initialize();
  const distributor: DistributorAgent = new triad.DistributorAgent({
    agentId: `d-${id}`,
    coordinatorId: coordinator.agentId,
    redis: redisConfig,
    a2a: { router },
  });
  await distributor.initialize();
  const worker: WorkerAgent = new triad.WorkerAgent({
    agentId: `w-${id}`,
    distributorId: distributor.agentId,
    a2a: { router },
    concurrency: 100,
    handlers: {
      node: (task) => {
        marks.start.set(task.taskId, performance.now());
        marks.end.set(task.taskId, performance.now());
        return null;
      },
    },
  });
  await worker.initialize();
  await untilReady(coordinator, 1);
  try {
    return await body(coordinator, marks);
  } finally {
    await worker.cleanup();
    await distributor.cleanup();
    await coordinator.cleanup();
  }
}

async function withBull<T>(
  body: (
    flow: FlowProducer,
    queue: string,
    marks: Marks,
    done: Promise<void>,
    expect: (id: string) => void,
  ) => Promise<T>,
): Promise<T> {
  const queue = `wf${++run}-${process.pid}`;
  const marks: Marks = { start: new Map(), end: new Map() };
  const connections = [
    new Redis(redis.url, { maxRetriesPerRequest: null }),
    new Redis(redis.url, { maxRetriesPerRequest: null }),
  ];
  const flow = new FlowProducer({ connection: connections[0]! });
  const waiting = new Set<string>();
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const worker = new Worker(
    queue,
    async (job) => {
      marks.start.set(job.name, performance.now());
      marks.end.set(job.name, performance.now());
      return null;
    },
    { connection: connections[1]!, concurrency: 100 },
  );
  worker.on("completed", (job) => {
    if (waiting.delete(job.name) && waiting.size === 0) finish();
  });
  await worker.waitUntilReady();
  try {
    return await body(flow, queue, marks, done, (id) => waiting.add(id));
  } finally {
    await worker.close();
    await flow.close();
    for (const c of connections) c.disconnect();
  }
}

const maxOf = (marks: Map<string, number>, ids: string[]) => Math.max(...ids.map((id) => marks.get(id) ?? 0));

function triadFanOut(): Promise<Figures> {
  return withTriad(async (c, marks) => {
    const tag = `f${run}`;
    const children = Array.from({ length: CHILDREN }, (_, i) => `${tag}-c${i}`);
    const joins = [];
    for (let k = 0; k * 1000 < CHILDREN; k++)
      joins.push({
        task_id: `${tag}-j${k}`,
        task_type: "node",
        depends_on: children.slice(k * 1000, (k + 1) * 1000),
      });
    const final = { task_id: `${tag}-final`, task_type: "node", depends_on: joins.map((j) => j.task_id) };
    const t0 = performance.now();
    await c.submitTasks(children.map((task_id) => ({ task_id, task_type: "node" })));
    await c.submitTasks([...joins, final]);
    const end = await c.waitForTask(final.task_id, 300_000);
    if (end?.status !== "completed") throw new Error(`the join ended ${end?.status}`);
    const ms = performance.now() - t0;
    return {
      tasks: CHILDREN + joins.length + 1,
      ms,
      joinGapMs: marks.start.get(final.task_id)! - maxOf(marks.end, children),
    };
  });
}

function bullFanOut(): Promise<Figures> {
  return withBull(async (flow, queue, marks, done, expect) => {
    const children: FlowJob[] = Array.from({ length: CHILDREN }, (_, i) => ({
      name: `c${i}`,
      queueName: queue,
      data: {},
    }));
    expect("parent");
    const t0 = performance.now();
    await flow.add({ name: "parent", queueName: queue, data: {}, children });
    await done;
    const ms = performance.now() - t0;
    return {
      tasks: CHILDREN + 1,
      ms,
      joinGapMs:
        marks.start.get("parent")! -
        maxOf(
          marks.end,
          children.map((c) => c.name),
        ),
    };
  });
}

function triadDag(): Promise<Figures> {
  return withTriad(async (c, marks) => {
    const tag = `g${run}`;
    const graph = [];
    for (let l = 0; l < LAYERS; l++)
      for (let i = 0; i < WIDTH; i++)
        graph.push({
          task_id: `${tag}-${l}-${i}`,
          task_type: "node",
          ...(l > 0 ? { depends_on: [`${tag}-${l - 1}-${i}`] } : {}),
        });
    const t0 = performance.now();
    for (let k = 0; k < graph.length; k += 10_000) await c.submitTasks(graph.slice(k, k + 10_000));
    const last = Array.from({ length: WIDTH }, (_, i) => `${tag}-${LAYERS - 1}-${i}`);
    const ends = await Promise.all(last.map((id) => c.waitForTask(id, 300_000)));
    if (ends.some((e) => e?.status !== "completed")) throw new Error("a chain did not complete");
    const ms = performance.now() - t0;
    const gaps = Array.from(
      { length: WIDTH },
      (_, i) => marks.start.get(`${tag}-${LAYERS - 1}-${i}`)! - marks.end.get(`${tag}-${LAYERS - 2}-${i}`)!,
    );
    return { tasks: graph.length, ms, joinGapMs: median(gaps) };
  });
}

function bullDag(): Promise<Figures> {
  return withBull(async (flow, queue, marks, done, expect) => {
    const flows: FlowJob[] = [];
    for (let i = 0; i < WIDTH; i++) {
      let job: FlowJob = { name: `0-${i}`, queueName: queue, data: {} };
      for (let l = 1; l < LAYERS; l++)
        job = { name: `${l}-${i}`, queueName: queue, data: {}, children: [job] };
      flows.push(job);
      expect(`${LAYERS - 1}-${i}`);
    }
    const t0 = performance.now();
    await flow.addBulk(flows);
    await done;
    const ms = performance.now() - t0;
    const gaps = Array.from(
      { length: WIDTH },
      (_, i) => marks.start.get(`${LAYERS - 1}-${i}`)! - marks.end.get(`${LAYERS - 2}-${i}`)!,
    );
    return { tasks: WIDTH * LAYERS, ms, joinGapMs: median(gaps) };
  });
}

async function measure(name: string, f: () => Promise<Figures>, into: Figures[]): Promise<void> {
  await redis.flush();
  const r = await f();
  into.push(r);
  log(
    `  ${name.padEnd(34)} ${fmt.rate((r.tasks / r.ms) * 1000).padStart(8)} tasks/s  ${Math.round(r.ms)} ms  join gap ${r.joinGapMs.toFixed(1)} ms`,
  );
}

const runs: Record<string, Figures[]> = { tf: [], bf: [], td: [], bd: [] };
log(`workflow bench: ${ROUNDS} round(s); fan-out ${CHILDREN} + join; DAG ${LAYERS} layers x ${WIDTH}`);
await (FANOUT ? triadFanOut() : triadDag()); // warm-up, unmeasured
for (let r = 0; r < ROUNDS; r++) {
  log(` round ${r + 1}`);
  if (FANOUT) {
    await measure("Triad fan-out + join", triadFanOut, runs.tf!);
    await measure("BullMQ FlowProducer parent+children", bullFanOut, runs.bf!);
  }
  if (DAG) {
    await measure(`Triad ${LAYERS}-layer DAG`, triadDag, runs.td!);
    await measure(`BullMQ ${LAYERS}-deep flows`, bullDag, runs.bd!);
  }
}
await redis.stop();

const med = (list: Figures[]) => ({
  rate: median(list.map((f) => (f.tasks / f.ms) * 1000)),
  gap: median(list.map((f) => f.joinGapMs)),
});
const m = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, med(v)])) as Record<
  string,
  { rate: number; gap: number }
>;
const rows: string[][] = [];
if (FANOUT)
  rows.push(
    [
      `Triad: ${CHILDREN} tasks, 2-level join`,
      fmt.rate(m.tf!.rate),
      m.tf!.gap.toFixed(1),
      fmt.ratio(m.tf!.rate / m.bf!.rate),
    ],
    [`BullMQ: FlowProducer, 1 parent + ${CHILDREN} children`, fmt.rate(m.bf!.rate), m.bf!.gap.toFixed(1), ""],
  );
if (DAG)
  rows.push(
    [
      `Triad: ${LAYERS}-layer DAG x ${WIDTH}`,
      fmt.rate(m.td!.rate),
      m.td!.gap.toFixed(1),
      fmt.ratio(m.td!.rate / m.bd!.rate),
    ],
    [`BullMQ: ${WIDTH} flows ${LAYERS} deep`, fmt.rate(m.bd!.rate), m.bd!.gap.toFixed(1), ""],
  );
process.stdout.write(
  `${table(["run", "tasks/s", "last dependency end -> dependent start (ms, median)", "ratio"], rows)}\n`,
);
