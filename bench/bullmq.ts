import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { LatencyRecorder, type RunFigures } from "./lib/stats.js";

/**
 * "one": one Queue.add per job, awaited before the next; "window": one Queue.add per job, 100
 * in flight at a time; "bulk": addBulk of `batchSize` jobs.
 */
export type BullMode = "one" | "window" | "bulk";

const WINDOW = 100;

let queues = 0;

/**
 * BullMQ doing the same work as Triad, on the same Redis, in this process: `n` no-op jobs, a
 * Worker at concurrency 100, times from the first add to the last job completed (its completed
 * state written to Redis: the Worker emits "completed" after moveToCompleted), and per job from
 * its add to that event. BullMQ's defaults otherwise (completed jobs are kept, as Triad keeps
 * its terminal records).
 */
export async function runBullmq(
  redisUrl: string,
  n: number,
  mode: BullMode,
  options: {
    batchSize?: number;
    concurrency?: number;
    /** Called once the queue and worker are ready, just before the first add (a measurement's start). */
    onStart?: () => Promise<void>;
    /** Called once the last job has completed, before the worker and queue close (its end). */
    onDone?: () => Promise<void>;
  } = {},
): Promise<RunFigures> {
  const name = `bench-${process.pid}-${++queues}`;
  const queueConnection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const workerConnection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(name, { connection: queueConnection });
  const latency = new LatencyRecorder(n);
  const started = new Float64Array(n);
  let finished = 0;
  let failures = 0;
  let allDone: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    allDone = resolve;
  });
  const worker = new Worker(name, async (job) => job.data as { i: number }, {
    connection: workerConnection,
    concurrency: options.concurrency ?? 100,
  });
  worker.on("completed", (job, result: { i: number }) => {
    const i = (job.data as { i: number }).i;
    latency.record(performance.now() - started[i]!);
    if (result?.i !== i) failures++;
    if (++finished === n) allDone();
  });
  worker.on("failed", () => {
    failures++;
    if (++finished === n) allDone();
  });
  await worker.waitUntilReady();
  await queue.waitUntilReady();
  const batchSize = options.batchSize ?? 1000;
  await options.onStart?.();
  const start = performance.now();
  const cpu = process.cpuUsage();
  await addJobs(queue, n, mode, batchSize, (i, t) => {
    started[i] = t;
  });
  await done;
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  await options.onDone?.();
  await worker.close();
  await queue.close();
  queueConnection.disconnect();
  workerConnection.disconnect();
  if (failures > 0)
    throw new Error(`BullMQ: ${failures} of ${n} jobs did not complete with their own result`);
  return { perSecond: n / seconds, seconds, n, cpuUs: (used.user + used.system) / n, ...latency.summary() };
}

/**
 * Adds `n` "echo" jobs `{ i }` to `queue` the `mode` way; `onAdd(i, time)` as each add starts
 * (an addBulk's jobs share its start). Resolves once the last add is acknowledged.
 */
export async function addJobs(
  queue: Queue,
  n: number,
  mode: BullMode,
  batchSize = 1000,
  onAdd: (i: number, time: number) => void = () => {},
): Promise<void> {
  if (mode === "one") {
    for (let i = 0; i < n; i++) {
      onAdd(i, performance.now());
      await queue.add("echo", { i });
    }
  } else if (mode === "window") {
    let next = 0;
    const adder = async () => {
      while (next < n) {
        const i = next++;
        onAdd(i, performance.now());
        await queue.add("echo", { i });
      }
    };
    await Promise.all(Array.from({ length: WINDOW }, adder));
  } else {
    for (let from = 0; from < n; from += batchSize) {
      const t = performance.now();
      const jobs = [];
      for (let i = from; i < Math.min(n, from + batchSize); i++) {
        onAdd(i, t);
        jobs.push({ name: "echo", data: { i } });
      }
      await queue.addBulk(jobs);
    }
  }
}
