// Redis memory per waiting task (issue 22): on one fresh redis-server of the benchmark's own,
// `--tasks` small echo tasks `{ i }` submitted and left waiting, `INFO memory` used_memory
// after minus before, divided by the count — Triad's records (through the coordinator, with no
// distributor to place them on; and placed on a distributor, as a backlog behind busy workers
// is) beside BullMQ's waiting jobs of the same payload (Queue.addBulk, no worker), FLUSHALL
// between runs. Ids: Triad's are the caller's (`job-<i>`) and, in a second row, UUIDs as
// POST /tasks makes them; BullMQ's are its own counter, and in a second row the same `job-<i>`.
//
//   npx tsx bench/redis-memory.ts --tasks 100000
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { TaskLedger } from "../src/agents/ledger/task-ledger.js";
import { BenchRedis } from "./lib/redis.js";
import { triad } from "./lib/triad.js";

type Row = { name: string; bytesPerTask: number; sample: string };

const { values } = parseArgs({
  options: { tasks: { type: "string", default: "100000" }, rounds: { type: "string", default: "1" } },
});
const n = Number(values.tasks);
const rounds = Number(values.rounds);
const BATCH = 1000;

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

const redis = await BenchRedis.start();
const runs: Array<[string, () => Promise<void>, string]> = [
  ["Triad, ids job-<i>, unplaced", () => triadCoordinator(redis, (i) => `job-${i}`), "*task:job-1"],
  ["Triad, ids job-<i>, placed on a distributor", () => triadPlaced(redis), "*task:job-1"],
  ["Triad, UUID ids, unplaced", () => triadCoordinator(redis, () => randomUUID()), "*task:*"],
  ["BullMQ, its own ids", () => bullmq(redis, false), "bull:mem:1"],
  ["BullMQ, ids job-<i>", () => bullmq(redis, true), "bull:mem:job-1"],
];
const rows: Row[] = [];
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
} finally {
  await redis.stop();
}
process.stdout.write(
  `Redis memory per waiting task, ${n.toLocaleString("en")} tasks, median of ${rounds}\n\n`,
);
process.stdout.write("| | B per task | a record |\n|---|---:|---|\n");
for (const row of rows)
  process.stdout.write(`| ${row.name} | ${row.bytesPerTask.toFixed(0)} | ${row.sample} |\n`);
process.exit(0);
