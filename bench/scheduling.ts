// Scheduling controls on the clock: does a plain task pay for them, and how does priority
// compare with BullMQ's prioritized jobs? Same redis-server, same run, rounds alternated.
//
//   npx tsx bench/scheduling.ts --before /path/to/old/checkout [--after DIR] [--tasks 5000] [--rounds 3]
//   npx tsx bench/scheduling.ts --only priority [--backlog 5000] [--urgent 100]
//
// plain: one `echo` task at a time (submitTask awaited, then the next), no priority/delay/
//   expiry, through Triad built before the scheduling controls (`--before`: a checkout whose
//   dist/ is built), Triad now (this checkout's dist/), and BullMQ's Queue.add one at a time.
// priority: a backlog of `--backlog` priority-0 tasks added in batches, then `--urgent`
//   priority-9 tasks one by one while the backlog drains; one worker at concurrency 10, a 1 ms
//   handler. Reported: how long an urgent task took from its submit to its end, and how many
//   backlog tasks started while an urgent one had been submitted and not started (inversions).
//   BullMQ: the same with `priority` 1 (urgent) and 10 (backlog).
// delay: 200 tasks with run_at 100-1,100 ms ahead on an idle cluster (a few at a time), each
//   one's start minus its run_at (how late a delayed task starts); never negative.
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import type * as Triad from "../src/index.js";
import { runBullmq } from "./bullmq.js";
import { benchFlags } from "./lib/flags.js";
import { BenchRedis } from "./lib/redis.js";
import { fmt, median, percentile } from "./lib/stats.js";

const argv = benchFlags(import.meta.url, {
  before: {
    kind: "string",
    value: "DIR",
    help: "a checkout from before the scheduling controls, dist/ built",
  },
  after: { kind: "string", value: "DIR", help: "the checkout measured as Triad now (default this one)" },
  only: {
    kind: "list",
    default: "plain,priority,delay",
    choices: ["plain", "priority", "delay"],
    help: "some measures",
  },
  tasks: { kind: "count", default: 5000, min: 1, help: "tasks a plain run" },
  rounds: { kind: "count", default: 3, min: 1, help: "rounds, the builds alternating" },
  backlog: { kind: "count", default: 5000, help: "priority-0 tasks of the priority backlog" },
  urgent: { kind: "count", default: 100, min: 1, help: "priority-9 tasks submitted while it drains" },
});
const N = argv.tasks;
const ROUNDS = argv.rounds;
const BACKLOG = argv.backlog;
const URGENT = argv.urgent;
const only = new Set(argv.only);

type Build = { name: string; triad: typeof Triad };
const load = async (dir: string) => (await import(`${dir.replace(/\/$/, "")}/dist/index.js`)) as typeof Triad;

let runs = 0;
async function startTriad(
  t: typeof Triad,
  url: string,
  concurrency: number,
  handlers?: Record<string, Triad.TaskHandler>,
) {
  const id = `s${++runs}-${process.pid}`;
  const router = new t.A2ARouter();
  const coordinator = new t.CoordinatorAgent({ agentId: `c-${id}`, redis: { url }, a2a: { router } });
  await coordinator.initialize();
  const distributor = new t.DistributorAgent({
    agentId: `d-${id}`,
    coordinatorId: coordinator.agentId,
    redis: { url },
    a2a: { router },
  });
  await distributor.initialize();
  const worker = new t.WorkerAgent({
    agentId: `w-${id}`,
    distributorId: distributor.agentId,
    a2a: { router },
    concurrency,
    ...(handlers ? { handlers } : {}),
  });
  await worker.initialize();
  while (!coordinator.core.directory.healthy().some((d) => d.capacity > 0))
    await new Promise((r) => setTimeout(r, 20));
  return {
    coordinator,
    id,
    stop: async () => {
      await worker.cleanup();
      await distributor.cleanup();
      await coordinator.cleanup();
    },
  };
}

/** Tasks per second, one submitTask awaited at a time; each waited for in the background. */
async function plainOneAtATime(t: typeof Triad, url: string): Promise<number> {
  const c = await startTriad(t, url, 100);
  const waits: Promise<unknown>[] = [];
  const start = performance.now();
  for (let i = 0; i < N; i++) {
    const taskId = `${c.id}-${i}`;
    await c.coordinator.submitTask({ task_id: taskId, task_type: "echo", payload: { i } });
    waits.push(c.coordinator.waitForTask(taskId, 120_000));
  }
  const done = await Promise.all(waits);
  const seconds = (performance.now() - start) / 1000;
  await c.stop();
  if (done.some((d) => (d as { status?: string } | null)?.status !== "completed"))
    throw new Error("a task did not complete");
  return N / seconds;
}

type PriorityFigures = { urgentP50: number; urgentP99: number; overtaken: number; seconds: number };
const pause = () => new Promise((r) => setTimeout(r, 1));

async function priorityTriad(t: typeof Triad, url: string): Promise<PriorityFigures> {
  const ended = new Map<string, number>();
  const began = new Map<string, number>();
  const work = async (task: Triad.Task) => {
    began.set(task.taskId, performance.now());
    await pause();
    ended.set(task.taskId, performance.now());
    return {};
  };
  const c = await startTriad(t, url, 10, { work } as unknown as Record<string, Triad.TaskHandler>);
  const start = performance.now();
  for (let from = 0; from < BACKLOG; from += 1000) {
    const batch = [];
    for (let i = from; i < Math.min(BACKLOG, from + 1000); i++)
      batch.push({ task_id: `${c.id}-b${i}`, task_type: "work" });
    await c.coordinator.submitTasks(batch);
  }
  const submitted = new Map<string, number>();
  const waits: Promise<unknown>[] = [];
  for (let i = 0; i < URGENT; i++) {
    const id = `${c.id}-u${i}`;
    submitted.set(id, performance.now());
    await c.coordinator.submitTask({ task_id: id, task_type: "work", priority: 9 });
    waits.push(c.coordinator.waitForTask(id, 120_000));
  }
  await Promise.all(waits);
  for (let i = 0; i < BACKLOG; i++) await c.coordinator.waitForTask(`${c.id}-b${i}`, 120_000);
  const seconds = (performance.now() - start) / 1000;
  await c.stop();
  return figures(submitted, began, ended, (id) => id.includes("-b"), seconds);
}

async function priorityBullmq(url: string): Promise<PriorityFigures> {
  const name = `prio-${process.pid}-${++runs}`;
  const qc = new Redis(url, { maxRetriesPerRequest: null });
  const wc = new Redis(url, { maxRetriesPerRequest: null });
  const queue = new Queue(name, { connection: qc });
  const ended = new Map<string, number>();
  const began = new Map<string, number>();
  const worker = new Worker(
    name,
    async (job) => {
      began.set(job.id!, performance.now());
      await pause();
      ended.set(job.id!, performance.now());
      return {};
    },
    { connection: wc, concurrency: 10 },
  );
  await worker.waitUntilReady();
  const start = performance.now();
  for (let from = 0; from < BACKLOG; from += 1000) {
    const jobs = [];
    for (let i = from; i < Math.min(BACKLOG, from + 1000); i++)
      jobs.push({ name: "work", data: {}, opts: { jobId: `b${i}`, priority: 10 } });
    await queue.addBulk(jobs);
  }
  const submitted = new Map<string, number>();
  for (let i = 0; i < URGENT; i++) {
    submitted.set(`u${i}`, performance.now());
    await queue.add("work", {}, { jobId: `u${i}`, priority: 1 });
  }
  while (ended.size < BACKLOG + URGENT) await new Promise((r) => setTimeout(r, 10));
  const seconds = (performance.now() - start) / 1000;
  await worker.close();
  await queue.close();
  qc.disconnect();
  wc.disconnect();
  return figures(submitted, began, ended, (id) => id.startsWith("b"), seconds);
}

/**
 * overtaken: backlog tasks that started while some urgent task had been submitted and had not
 * started yet (an inversion: strict priority would have started the urgent one instead).
 */
/** Start minus run_at of delayed tasks on an idle cluster, in ms: [p50, p99, min]. */
async function delayLateness(t: typeof Triad, url: string): Promise<[number, number, number]> {
  const began = new Map<string, number>();
  const work = async (task: Triad.Task) => {
    began.set(task.taskId, Date.now());
    return {};
  };
  const c = await startTriad(t, url, 10, { work } as unknown as Record<string, Triad.TaskHandler>);
  const runAt = new Map<string, number>();
  for (let i = 0; i < 200; i++) {
    const at = Date.now() + 100 + Math.floor(Math.random() * 1000);
    const id = `${c.id}-d${i}`;
    runAt.set(id, at);
    await c.coordinator.submitTask({ task_id: id, task_type: "work", run_at: new Date(at).toISOString() });
    if (i % 10 === 9) await new Promise((r) => setTimeout(r, 50));
  }
  for (const id of runAt.keys()) await c.coordinator.waitForTask(id, 60_000);
  await c.stop();
  const late = [...runAt].map(([id, at]) => began.get(id)! - at).sort((a, b) => a - b);
  return [percentile(late, 50), percentile(late, 99), late[0]!];
}

function figures(
  submitted: Map<string, number>,
  began: Map<string, number>,
  ended: Map<string, number>,
  isBacklog: (id: string) => boolean,
  seconds: number,
): PriorityFigures {
  const lat = [...submitted].map(([id, at]) => ended.get(id)! - at).sort((a, b) => a - b);
  const waiting = [...submitted].map(([id, at]) => [at, began.get(id)!] as const);
  let overtaken = 0;
  for (const [id, at] of began)
    if (isBacklog(id) && waiting.some(([from, to]) => at > from && at < to)) overtaken++;
  return { urgentP50: percentile(lat, 50), urgentP99: percentile(lat, 99), overtaken, seconds };
}

const redis = await BenchRedis.start();
try {
  const builds: Build[] = [];
  if (argv.before) builds.push({ name: "Triad before", triad: await load(argv.before) });
  builds.push({
    name: "Triad now",
    triad: await load(argv.after ?? new URL("..", import.meta.url).pathname),
  });
  if (only.has("plain")) {
    // Each build and BullMQ warmed up (JIT) once, unmeasured.
    for (const b of builds) await plainOneAtATime(b.triad, redis.url);
    await runBullmq(redis.url, Math.min(N, 5000), "one");
    const rates = new Map<string, number[]>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const b of builds) {
        await redis.flush();
        const r = await plainOneAtATime(b.triad, redis.url);
        rates.set(b.name, [...(rates.get(b.name) ?? []), r]);
        console.error(`round ${round + 1} ${b.name}: ${fmt.rate(r)} tasks/s`);
      }
      await redis.flush();
      const bull = (await runBullmq(redis.url, N, "one")).perSecond;
      rates.set("BullMQ", [...(rates.get("BullMQ") ?? []), bull]);
      console.error(`round ${round + 1} BullMQ: ${fmt.rate(bull)} jobs/s`);
    }
    const bull = median(rates.get("BullMQ")!);
    console.log(`\nPlain tasks one at a time (${N} per run, ${ROUNDS} rounds, medians):\n`);
    console.log("| run | tasks/s | / BullMQ | rounds |\n|---|---|---|---|");
    for (const [name, rs] of rates)
      console.log(
        `| ${name} | ${fmt.rate(median(rs))} | ${(median(rs) / bull).toFixed(2)}x | ${rs.map((r) => fmt.rate(r)).join(", ")} |`,
      );
  }
  if (only.has("priority")) {
    const now = builds[builds.length - 1]!.triad;
    const rows: Array<[string, PriorityFigures]> = [];
    for (let round = 0; round < ROUNDS; round++) {
      await redis.flush();
      rows.push(["Triad", await priorityTriad(now, redis.url)]);
      await redis.flush();
      rows.push(["BullMQ", await priorityBullmq(redis.url)]);
      console.error(`round ${round + 1}: ${JSON.stringify(rows.slice(-2))}`);
    }
    console.log(
      `\nPriority: ${BACKLOG} backlog tasks (priority 0), then ${URGENT} urgent (9) one by one; concurrency 10, 1 ms handler; medians of ${ROUNDS}:\n`,
    );
    console.log(
      "| | urgent p50 ms | urgent p99 ms | backlog tasks started while an urgent one waited | all done s |\n|---|---|---|---|---|",
    );
    for (const name of ["Triad", "BullMQ"]) {
      const f = rows.filter(([n]) => n === name).map(([, f]) => f);
      const m = (k: keyof PriorityFigures) => median(f.map((x) => x[k]));
      console.log(
        `| ${name} | ${m("urgentP50").toFixed(1)} | ${m("urgentP99").toFixed(1)} | ${m("overtaken")} | ${m("seconds").toFixed(2)} |`,
      );
    }
  }
  if (only.has("delay")) {
    await redis.flush();
    const [p50, p99, min] = await delayLateness(builds[builds.length - 1]!.triad, redis.url);
    console.log(
      `\nDelayed tasks on an idle cluster (200, run_at 0.1-1.1 s ahead): start - run_at p50 ${p50} ms, p99 ${p99} ms, min ${min} ms`,
    );
  }
} finally {
  await redis.stop();
}
