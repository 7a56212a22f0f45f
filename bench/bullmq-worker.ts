// BullMQ's Worker as its own OS process, for the benchmark runs that put BullMQ's worker in a
// separate process (bench/scaling.ts), as Triad's tiers run there. It speaks JSON lines like
// bench/tier-process.ts: { ready } once the worker is up; then, for { cmd: "expect", n } on
// stdin, { done: n, failures } once n jobs in all have completed or failed since it started
// (told before or after they did). SIGTERM stops it.
//
//   node --import tsx bench/bullmq-worker.ts --redis URL --queue NAME [--concurrency 100]
import { Worker } from "bullmq";
import { Redis } from "ioredis";
import { onCommands, stopWithParent } from "./lib/child.js";
import { benchFlags } from "./lib/flags.js";

const args = benchFlags(import.meta.url, {
  redis: { kind: "string", required: true, value: "URL", help: "the Redis of the queue" },
  queue: { kind: "string", required: true, value: "NAME", help: "the queue" },
  concurrency: { kind: "count", default: 100, min: 1, help: "the Worker's concurrency" },
});

const say = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);
const connection = new Redis(args.redis, { maxRetriesPerRequest: null });
let ended = 0;
let failures = 0;
let expect: { until: number } | undefined;

const settle = () => {
  if (expect !== undefined && ended >= expect.until) {
    say({ done: expect.until, failures });
    expect = undefined;
  }
};
// A no-op handler that echoes the job's data, as the in-process run's (bench/bullmq.ts).
const worker = new Worker(args.queue, async (job) => job.data as { i: number }, {
  connection,
  concurrency: args.concurrency,
});
worker.on("completed", (job, result: { i: number }) => {
  if (result?.i !== (job.data as { i: number }).i) failures++;
  ended++;
  settle();
});
worker.on("failed", () => {
  failures++;
  ended++;
  settle();
});
await worker.waitUntilReady();

onCommands((command) => {
  if (command.cmd === "expect") {
    expect = { until: Number(command.n) };
    settle();
  }
});
const stop = () =>
  void worker
    .close()
    .then(() => connection.disconnect())
    .finally(() => process.exit(0));
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
stopWithParent(stop);
say({ ready: true, pid: process.pid });
