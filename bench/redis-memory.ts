// Redis memory per waiting task (issue 22): on one fresh redis-server of the benchmark's own,
// `--tasks` small echo tasks `{ i }` submitted and left waiting, `INFO memory` used_memory
// after minus before, divided by the count — Triad's records (through the coordinator, with no
// distributor to place them on; and placed on a distributor, as a backlog behind busy workers
// is) beside BullMQ's waiting jobs of the same payload (Queue.addBulk, no worker), FLUSHALL
// between runs. Ids: Triad's are the caller's (`job-<i>`) and, in a second row, UUIDs as
// POST /tasks makes them; BullMQ's are its own counter, and in a second row the same `job-<i>`.
//
//
// With --redis-cpu, the same run then measures Redis CPU per task on the same redis-server:
// `--cpu-tasks` (20,000) echo tasks `{ i }` end to end — Triad in this process (coordinator,
// distributor, one worker at concurrency 100, bench/triad-inprocess.ts) and BullMQ (a Queue and
// one Worker at concurrency 100, bench/bullmq.ts), rounds alternating — and for each, from the
// first submit to the last result, the redis-server's `INFO cpu` (used_cpu_user + used_cpu_sys)
// and the calls of `INFO commandstats` after minus before, divided by the tasks. (commandstats
// counts a command run inside a script under its own name too, so its calls and times are not
// added up into a "time in commands": the nested ones would count twice.) `--cpu-modes` picks how tasks are submitted: batch
// (submitTasks / addBulk of 1,000), window (100 single calls in flight), one (one at a time).
//
//   npx tsx bench/redis-memory.ts --tasks 100000
//   npm run build && npx tsx bench/redis-memory.ts --tasks 50000 --redis-cpu --rounds 3
import { randomUUID } from "node:crypto";
import { loadavg } from "node:os";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { TaskLedger } from "../src/agents/ledger/task-ledger.js";
import { runBullmq } from "./bullmq.js";
import { benchFlags } from "./lib/flags.js";
import { BenchRedis } from "./lib/redis.js";
import { median } from "./lib/stats.js";
import { TRIAD_FROM, triad } from "./lib/triad.js";
import { InProcessTriad, runEcho, SUBMIT_MODES, type SubmitMode } from "./triad-inprocess.js";

type Row = { name: string; bytesPerTask: number; sample: string };

const values = benchFlags(import.meta.url, {
  tasks: { kind: "count", default: 100000, min: 1, help: "tasks left waiting a run" },
  rounds: { kind: "count", default: 1, min: 1, help: "rounds" },
  "redis-cpu": { kind: "boolean", help: "then Redis CPU per task, end to end" },
  "cpu-tasks": { kind: "count", default: 20000, min: 1, help: "tasks of each --redis-cpu run" },
  "cpu-modes": {
    kind: "list",
    default: "batch",
    choices: SUBMIT_MODES,
    help: "ways to submit of the --redis-cpu runs",
  },
});
const n = values.tasks;
const rounds = values.rounds;
const BATCH = 1000;
const cpuTasks = values["cpu-tasks"];
const cpuModes = values["cpu-modes"];

async function usedMemory(redis: BenchRedis): Promise<number> {
  const info = String(await redis.command("INFO", "memory"));
  return Number(/used_memory:(\d+)/.exec(info)?.[1]);
}

async function measure(redis: BenchRedis, fill: () => Promise<void>): Promise<number> {
  await redis.flush();
  const before = await usedMemory(redis);
  await fill();
  return ((await usedMemory(redis)) - before) / n;
}

async function sampleRecord(redis: BenchRedis, pattern: string): Promise<string> {
  let cursor = "0";
  let key: string | undefined;
  do {
    const [next, keys] = (await redis.command("SCAN", cursor, "MATCH", pattern, "COUNT", "1000")) as [
      string,
      string[],
    ];
    [cursor, key] = [next, keys[0]];
  } while (key === undefined && cursor !== "0");
  if (key === undefined) return "";
  const usage = await redis.command("MEMORY", "USAGE", key);
  const encoding = await redis.command("OBJECT", "ENCODING", key);
  return `${key}: ${usage} B (${encoding})`;
}

async function triadCoordinator(redis: BenchRedis, id: (i: number) => string): Promise<void> {
  const coordinator = new triad.CoordinatorAgent({
    agentId: "coordinator-mem",
    redis: { url: redis.url },
    a2a: { router: new triad.A2ARouter() },
  });
  await coordinator.initialize();
  for (let from = 0; from < n; from += BATCH) {
    const tasks = [];
    for (let i = from; i < Math.min(n, from + BATCH); i++)
      tasks.push({ task_id: id(i), task_type: "echo", payload: { i } });
    await coordinator.submitTasks(tasks);
  }
  await coordinator.cleanup();
}

async function triadPlaced(redis: BenchRedis): Promise<void> {
  const store = new triad.RedisClient({ url: redis.url });
  await store.connect();
  const ledger = new TaskLedger(store);
  const createdAt = new Date().toISOString();
  for (let from = 0; from < n; from += BATCH) {
    const batch = [];
    for (let i = from; i < Math.min(n, from + BATCH); i++)
      batch.push(
        ledger.submit(
          { taskId: `job-${i}`, taskType: "echo", payload: { i }, createdAt, maxRetries: 2, backoffMs: 200 },
          "distributor-1",
        ),
      );
    await Promise.all(batch);
  }
  await store.disconnect();
}

async function bullmq(redis: BenchRedis, ids: boolean): Promise<void> {
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue("mem", { connection });
  await queue.waitUntilReady();
  for (let from = 0; from < n; from += BATCH) {
    const jobs = [];
    for (let i = from; i < Math.min(n, from + BATCH); i++)
      jobs.push({ name: "echo", data: { i }, ...(ids ? { opts: { jobId: `job-${i}` } } : {}) });
    await queue.addBulk(jobs);
  }
  await queue.close();
  connection.disconnect();
}

/** What the redis-server has spent so far: its CPU time, and the commands it ran (those in scripts too). */
type RedisSpent = { cpuUs: number; calls: number };

async function redisSpent(redis: BenchRedis): Promise<RedisSpent> {
  const cpuSeconds = await redis.cpuSeconds();
  const stats = String(await redis.command("INFO", "commandstats"));
  let calls = 0;
  // cmdstat_<name>:calls=N,...; the INFO calls of this measurement are left out.
  for (const m of stats.matchAll(/cmdstat_([^:]+):calls=(\d+)/g)) if (m[1] !== "info") calls += Number(m[2]);
  return { cpuUs: cpuSeconds * 1e6, calls };
}

type CpuFigures = { redisCpuUs: number; calls: number; perSecond: number };

/** Redis spent per task between start() and done(), both called by the run at its ends. */
async function redisPerTask(
  redis: BenchRedis,
  run: (start: () => Promise<void>, done: () => Promise<void>) => Promise<{ perSecond: number }>,
): Promise<CpuFigures> {
  await redis.flush();
  let before: RedisSpent | undefined;
  let after: RedisSpent | undefined;
  const { perSecond } = await run(
    async () => {
      before = await redisSpent(redis);
    },
    async () => {
      after = await redisSpent(redis);
    },
  );
  if (before === undefined || after === undefined) throw new Error("the run did not call start and done");
  return {
    redisCpuUs: (after.cpuUs - before.cpuUs) / cpuTasks,
    calls: (after.calls - before.calls) / cpuTasks,
    perSecond,
  };
}

async function triadEndToEnd(redis: BenchRedis, mode: SubmitMode, tag: string, count = cpuTasks) {
  const run = await InProcessTriad.start({ url: redis.url });
  try {
    return await redisPerTask(redis, async (start, done) => {
      await start();
      const figures = await runEcho(run.coordinator, count, mode, {
        idPrefix: `${run.runId}-${tag}`,
        batchSize: BATCH,
      });
      await done();
      return figures;
    });
  } finally {
    await run.stop();
  }
}

async function bullmqEndToEnd(redis: BenchRedis, mode: SubmitMode, count = cpuTasks) {
  return redisPerTask(redis, (start, done) =>
    runBullmq(redis.url, count, mode === "batch" ? "bulk" : mode, {
      batchSize: BATCH,
      onStart: start,
      onDone: done,
    }),
  );
}

const redis = await BenchRedis.start();
const runs: Array<[string, () => Promise<void>, string]> = [
  ["Triad, ids job-<i>, unplaced", () => triadCoordinator(redis, (i) => `job-${i}`), "*task:job-1"],
  ["Triad, ids job-<i>, placed on a distributor", () => triadPlaced(redis), "*task:job-1"],
  ["Triad, UUID ids, unplaced", () => triadCoordinator(redis, () => randomUUID()), "*task:*"],
  ["BullMQ, its own ids", () => bullmq(redis, false), "bull:mem:1"],
  ["BullMQ, ids job-<i>", () => bullmq(redis, true), "bull:mem:job-1"],
];
const rows: Row[] = [];
const cpuRows: Array<{ name: string; figures: CpuFigures[] }> = [];
const load: number[][] = [];
try {
  for (const [name, fill, pattern] of runs) {
    const figures: number[] = [];
    let sample = "";
    for (let r = 0; r < rounds; r++) {
      figures.push(await measure(redis, fill));
      sample = await sampleRecord(redis, pattern);
    }
    figures.sort((a, b) => a - b);
    rows.push({ name, bytesPerTask: figures[Math.floor(figures.length / 2)]!, sample });
  }
  if (values["redis-cpu"]) {
    // Warm both up once (JIT, scripts loaded), unmeasured.
    await triadEndToEnd(redis, "batch", "warm", Math.min(cpuTasks, 5000));
    await bullmqEndToEnd(redis, "batch", Math.min(cpuTasks, 5000));
    for (const mode of cpuModes) {
      const triadRow = { name: `Triad, ${mode}`, figures: [] as CpuFigures[] };
      const bullRow = { name: `BullMQ, ${mode === "batch" ? "bulk" : mode}`, figures: [] as CpuFigures[] };
      for (let r = 0; r < rounds; r++) {
        load.push(loadavg());
        triadRow.figures.push(await triadEndToEnd(redis, mode, `${mode}-${r}`));
        bullRow.figures.push(await bullmqEndToEnd(redis, mode));
        process.stderr.write(
          `  ${mode} round ${r + 1}: Redis CPU/task Triad ${triadRow.figures.at(-1)!.redisCpuUs.toFixed(1)} µs, BullMQ ${bullRow.figures.at(-1)!.redisCpuUs.toFixed(1)} µs\n`,
        );
      }
      cpuRows.push(triadRow, bullRow);
    }
  }
} finally {
  await redis.stop();
}
process.stdout.write(
  `Redis memory per waiting task, ${n.toLocaleString("en")} tasks, median of ${rounds}\n\n`,
);
process.stdout.write("| | B per task | a record |\n|---|---:|---|\n");
for (const row of rows)
  process.stdout.write(`| ${row.name} | ${row.bytesPerTask.toFixed(0)} | ${row.sample} |\n`);
if (cpuRows.length > 0) {
  const at = (row: (typeof cpuRows)[number], key: keyof CpuFigures) => median(row.figures.map((f) => f[key]));
  process.stdout.write(
    `\nRedis per task end to end (submit to result), ${cpuTasks.toLocaleString("en")} echo tasks, same redis-server, median of ${rounds}; Triad from ${TRIAD_FROM}; load average ${load.map((l) => l[0]!.toFixed(1)).join(", ")} at the rounds' starts\n\n`,
  );
  process.stdout.write(
    "| | Redis CPU µs/task | commands/task (with those in scripts) | tasks/s | Triad / BullMQ (Redis CPU) |\n|---|---:|---:|---:|---:|\n",
  );
  for (let i = 0; i < cpuRows.length; i += 2) {
    const [t, b] = [cpuRows[i]!, cpuRows[i + 1]!];
    for (const row of [t, b])
      process.stdout.write(
        `| ${row.name} | ${at(row, "redisCpuUs").toFixed(1)} | ${at(row, "calls").toFixed(1)} | ${Math.round(at(row, "perSecond")).toLocaleString("en")} | ${row === t ? (at(t, "redisCpuUs") / at(b, "redisCpuUs")).toFixed(2) : ""} |\n`,
      );
  }
}
process.exit(0);
