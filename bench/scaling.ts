// Where a task's CPU goes, tier by tier and in Redis, and what that predicts for a machine with
// more cores; Triad's tiers as separate processes against Triad in one process, and against
// BullMQ with its Worker in a process of its own (issue 23, points 2 and 3).
//
//   npm run build && npx tsx bench/scaling.ts [--tasks 20000] [--rounds 3] [--modes batch,one]
//                                             [--distributors 1,2] [--cluster] [--linger MS]
//                                             [--posts]  (between processes a POST per batch, not streams)
//   taskset -c 0 npx tsx bench/scaling.ts ...   the same on one core (every process it starts,
//                                               redis-server included, inherits the affinity)
//
// Each round and mode runs, on one redis-server of its own (or, with --cluster, a 3-master Redis
// Cluster; BullMQ is left out there, a queue lives in one hash slot):
//   - Triad in this process (coordinator, distributor, worker at concurrency 100);
//   - Triad as processes: one coordinator process (the load runs through its API), D distributor
//     processes, one worker process (concurrency 100) per distributor, over HTTP, for each D;
//   - BullMQ in this process (Queue and a Worker at concurrency 100);
//   - BullMQ with its Worker (concurrency 100) in a process of its own, the Queue in this one.
// Reported: tasks/s and CPU µs per task of each process kind and of redis-server, from /proc,
// medians of the rounds; then the model those costs give. A process is one core at most, so
//   rate(k cores) <= min(k / (sum of all µs per task), 1 / coordinator µs, 1 / Redis µs)
// with distributor and worker processes added until their share is covered; the coordinator
// and Redis are the parts that do not spread (several coordinators and Redis Cluster are how
// they do, at the costs measured in their own benchmarks). The prediction is checked against the
// rates measured here, at this machine's core count (and at one core under taskset).
import { availableParallelism } from "node:os";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { RedisCluster } from "../test/helpers/redis-cluster.js";
import { addJobs, type BullMode, runBullmq } from "./bullmq.js";
import { BenchChild, cpuSecondsOf } from "./lib/child.js";
import { benchFlags } from "./lib/flags.js";
import { BenchRedis } from "./lib/redis.js";
import { fmt, median, table } from "./lib/stats.js";
import {
  DEFAULT_TOPOLOGY,
  InProcessTriad,
  runEcho,
  SUBMIT_MODES,
  type SubmitMode,
} from "./triad-inprocess.js";
import { ProcessTriad } from "./triad-processes.js";

const args = benchFlags(import.meta.url, {
  tasks: { kind: "count", default: 20000, min: 1, help: "tasks a run" },
  rounds: { kind: "count", default: 3, min: 1, help: "rounds" },
  modes: { kind: "list", default: "batch,one", choices: SUBMIT_MODES, help: "ways to submit" },
  distributors: { kind: "list", default: "1,2", help: "distributor processes of the runs as processes" },
  cluster: { kind: "boolean", help: "on a 3-master Redis Cluster (BullMQ left out)" },
  linger: {
    kind: "number",
    min: 0,
    value: "MS",
    help: "every agent's timing.batchLingerMs (default the agents' own)",
  },
  posts: { kind: "boolean", help: "between processes a POST per batch, not message streams" },
});
const N = args.tasks;
const ROUNDS = args.rounds;
const MODES = args.modes;
const DISTRIBUTORS = args.distributors.map(Number);
const LINGER = {
  ...(args.linger === undefined ? {} : { batchLingerMs: args.linger }),
  ...(args.posts ? { posts: true } : {}),
};
const WARM = Math.min(2000, N);
const CORES = availableParallelism();
const BULL_MODE: Record<SubmitMode, BullMode> = { one: "one", window: "window", batch: "bulk" };
const log = (line: string) => process.stderr.write(`${line}\n`);

/** CPU µs per task of each kind of process in one run ("redis": every redis-server together). */
type Costs = Record<string, number>;
type Run = { perSecond: number; costs: Costs; redisBusiest: number };

type Store = { url: string; pids: number[]; stop(): Promise<void> };

async function startStore(): Promise<Store> {
  if (args.cluster) {
    const cluster = await RedisCluster.start(3);
    return { url: cluster.url, pids: cluster.pids, stop: () => cluster.destroy() };
  }
  const redis = await BenchRedis.start();
  return { url: redis.url, pids: [redis.pid!], stop: () => redis.stop() };
}

/**
 * Starts a measurement of `processes` and Redis; the function it returns ends it, for `n` tasks
 * run meanwhile: tasks/s, and the CPU per task of each of `processes` and of Redis.
 */
function meter(store: Store, processes: () => Record<string, number>): (n: number) => Run {
  const redisCpu = () => store.pids.map(cpuSecondsOf);
  const cpuBefore = processes();
  const redisBefore = redisCpu();
  const started = performance.now();
  return (n) => {
    const seconds = (performance.now() - started) / 1000;
    const cpuAfter = processes();
    const redisUsed = redisCpu().map((s, i) => s - redisBefore[i]!);
    const perTask = (s: number) => Math.round((s * 1e6) / n);
    const costs: Costs = {};
    for (const [k, v] of Object.entries(cpuAfter)) costs[k] = perTask(v - cpuBefore[k]!);
    costs.redis = perTask(redisUsed.reduce((a, b) => a + b, 0));
    return { perSecond: n / seconds, costs, redisBusiest: perTask(Math.max(...redisUsed)) };
  };
}

/** Measures `body` (which runs `n` tasks), see meter(). */
async function measured(
  store: Store,
  n: number,
  processes: () => Record<string, number>,
  body: () => Promise<void>,
): Promise<Run> {
  const stop = meter(store, processes);
  await body();
  return stop(n);
}

const selfCpu = () => {
  const u = process.cpuUsage();
  return { "this process": (u.user + u.system) / 1e6 };
};

let tag = 0;

async function triadInProcess(store: Store, mode: SubmitMode): Promise<Run> {
  const triad = await InProcessTriad.start({ url: store.url }, { ...DEFAULT_TOPOLOGY, ...LINGER });
  try {
    await runEcho(triad.coordinator, WARM, mode, { idPrefix: `${triad.runId}-warm-${++tag}` });
    return await measured(store, N, selfCpu, async () => {
      await runEcho(triad.coordinator, N, mode, { idPrefix: `${triad.runId}-${++tag}` });
    });
  } finally {
    await triad.stop();
  }
}

async function triadProcesses(store: Store, mode: SubmitMode, distributors: number): Promise<Run> {
  const triad = await ProcessTriad.start(store.url, {
    distributors,
    workersPerDistributor: 1,
    concurrency: 100,
    ...LINGER,
  });
  try {
    await triad.run(WARM, mode, `warm-${++tag}`);
    return await measured(
      store,
      N,
      () => triad.cpuByTier(),
      async () => {
        await triad.run(N, mode, `m-${++tag}`);
      },
    );
  } finally {
    await triad.stop();
  }
}

async function bullInProcess(store: Store, mode: SubmitMode): Promise<Run> {
  await runBullmq(store.url, WARM, BULL_MODE[mode]);
  let run: Run | undefined;
  // runBullmq times from its first add to its last completion; take the CPU over the same span.
  let stop: ((n: number) => Run) | undefined;
  await runBullmq(store.url, N, BULL_MODE[mode], {
    onStart: async () => {
      stop = meter(store, selfCpu);
    },
    onDone: async () => {
      run = stop!(N);
    },
  });
  return run!;
}

async function bullWorkerProcess(store: Store, mode: SubmitMode): Promise<Run> {
  const name = `bench-scaling-${process.pid}-${++tag}`;
  const worker = new BenchChild(
    ["--redis", store.url, "--queue", name, "--concurrency", "100"],
    {},
    new URL("./bullmq-worker.ts", import.meta.url).pathname,
  );
  const connection = new Redis(store.url, { maxRetriesPerRequest: null });
  const queue = new Queue(name, { connection });
  try {
    await worker.next("ready", 30_000);
    await queue.waitUntilReady();
    const until = async (total: number) => {
      worker.send({ cmd: "expect", n: total });
      const line = await worker.next("done");
      if (line.failures !== 0) throw new Error(`BullMQ worker: ${String(line.failures)} jobs failed`);
    };
    await addJobs(queue, WARM, BULL_MODE[mode]);
    await until(WARM);
    return await measured(
      store,
      N,
      () => ({ "this process": selfCpu()["this process"], worker: worker.cpuSeconds() }),
      async () => {
        await addJobs(queue, N, BULL_MODE[mode]);
        await until(WARM + N);
      },
    );
  } finally {
    await queue.close();
    connection.disconnect();
    await worker.stop();
  }
}

/** The model of the header: the highest rate `costs` allow on `cores`, and what binds it. */
function predict(costs: Costs, cores: number, coordinatorUs: number, redisUs: number) {
  const total = Object.values(costs).reduce((a, b) => a + b, 0);
  const bounds: Array<[string, number]> = [
    ["all cores", (cores * 1e6) / total],
    ["the coordinator's core", 1e6 / coordinatorUs],
    ["Redis's core", 1e6 / redisUs],
  ];
  const [by, rate] = bounds.reduce((a, b) => (b[1] < a[1] ? b : a));
  return { rate, by, total };
}

const store = await startStore();
const runs = new Map<string, Run[]>();
const push = (key: string, run: Run) => {
  runs.set(key, [...(runs.get(key) ?? []), run]);
  log(`  ${key.padEnd(50)} ${fmt.rate(run.perSecond).padStart(8)} tasks/s  ${JSON.stringify(run.costs)}`);
};
try {
  log(`scaling: ${N} tasks per run, ${ROUNDS} round(s), modes ${MODES.join(",")}, ${CORES} core(s)`);
  for (let r = 0; r < ROUNDS; r++) {
    log(`round ${r + 1}`);
    for (const mode of MODES) {
      push(`${mode}|Triad, one process`, await triadInProcess(store, mode));
      for (const d of DISTRIBUTORS)
        push(`${mode}|Triad, processes, ${d} distributor(s)`, await triadProcesses(store, mode, d));
      if (!args.cluster) {
        push(`${mode}|BullMQ, one process`, await bullInProcess(store, mode));
        push(`${mode}|BullMQ, Worker in its own process`, await bullWorkerProcess(store, mode));
      }
    }
  }
} finally {
  await store.stop();
}

const medianOf = (rs: Run[]) => {
  const costs: Costs = {};
  for (const k of Object.keys(rs[0]!.costs)) costs[k] = median(rs.map((r) => r.costs[k]!));
  return {
    perSecond: median(rs.map((r) => r.perSecond)),
    costs,
    redisBusiest: median(rs.map((r) => r.redisBusiest)),
  };
};

const out: string[] = [];
out.push(
  `${N} no-op tasks per run, medians of ${ROUNDS} round(s); ${CORES} core(s) available; Redis: ${args.cluster ? "a 3-master Redis Cluster" : "one redis-server"}.`,
);
for (const mode of MODES) {
  const rows: string[][] = [];
  const inProcess = medianOf(runs.get(`${mode}|Triad, one process`)!);
  const bullProcesses = runs.get(`${mode}|BullMQ, Worker in its own process`);
  for (const [key, rs] of runs) {
    if (!key.startsWith(`${mode}|`)) continue;
    const m = medianOf(rs);
    const total = Object.values(m.costs).reduce((a, b) => a + b, 0);
    const name = key.slice(mode.length + 1);
    const vs = name.startsWith("Triad, processes")
      ? `${fmt.ratio(m.perSecond / inProcess.perSecond)} of one process${
          bullProcesses ? `, ${fmt.ratio(m.perSecond / medianOf(bullProcesses).perSecond)} BullMQ's` : ""
        }`
      : "";
    const cost = (k: string) => (m.costs[k] === undefined ? "-" : String(m.costs[k]));
    rows.push([
      name,
      fmt.rate(m.perSecond),
      cost("this process"),
      cost("coordinator"),
      cost("distributor"),
      cost("worker"),
      args.cluster ? `${cost("redis")} (busiest ${m.redisBusiest})` : cost("redis"),
      String(total),
      ((m.perSecond * total) / 1e6).toFixed(2),
      vs,
    ]);
  }
  out.push(
    `\n### ${mode === "one" ? "One call at a time" : mode === "window" ? "100 calls in flight" : "Batched (1,000 per call)"}\n`,
    table(
      [
        "run",
        "tasks/s",
        "this process µs/task",
        "coordinator",
        "distributor(s)",
        "worker(s)",
        "redis",
        "all µs/task",
        "cores busy",
        "ratio",
      ],
      rows,
    ),
  );

  // The model, from the separate-process runs' costs.
  const predictions: string[][] = [];
  for (const d of DISTRIBUTORS) {
    const rs = runs.get(`${mode}|Triad, processes, ${d} distributor(s)`);
    if (rs === undefined) continue;
    const m = medianOf(rs);
    const here = predict(m.costs, CORES, m.costs.coordinator!, m.redisBusiest);
    predictions.push([
      `${d} distributor process(es), measured here`,
      fmt.rate(m.perSecond),
      `${fmt.rate(here.rate)} (${here.by})`,
      fmt.ratio(m.perSecond / here.rate),
    ]);
  }
  const base = runs.get(`${mode}|Triad, processes, ${DISTRIBUTORS[0]} distributor(s)`);
  const ceilings: string[][] = [];
  if (base !== undefined) {
    const m = medianOf(base);
    for (const k of [1, 2, 4, 8, 16, 32, 64]) {
      const p = predict(m.costs, k, m.costs.coordinator!, m.redisBusiest);
      const processes = (us: number) => Math.max(1, Math.ceil((p.rate * us) / 1e6));
      ceilings.push([
        String(k),
        `${fmt.rate(p.rate)} (${p.by})`,
        String(processes(m.costs.distributor!)),
        String(processes(m.costs.worker!)),
      ]);
    }
  }
  out.push(
    "\nPrediction against measurement (the model of the header, with each run's own costs):\n",
    table(["topology", "measured tasks/s", "predicted ceiling", "measured / predicted"], predictions),
    `\nPredicted ceiling on k cores, from the costs with ${DISTRIBUTORS[0]} distributor process(es) (one coordinator, one ${args.cluster ? "Redis Cluster" : "Redis"}):\n`,
    table(["cores", "tasks/s", "distributor processes", "worker processes"], ceilings),
  );
}
process.stdout.write(`${out.join("\n")}\n`);
process.exit(0);
