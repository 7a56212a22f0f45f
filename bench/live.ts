// What live progress and cancel cost, in one process on a redis-server of its own:
//   progress  — tasks whose handler calls ctx.progress() 1,000 times (yielding every 100) against
//               the same handler silent: tasks/s of each, task_progress messages and fenced
//               store writes per task (coalescing: at most one per attempt per 250 ms)
//   visible   — from a ctx.progress() call to the value in the task's record (the coalescing delay)
//   cancel    — from cancelTask() to the running handler's ctx.signal firing
//
//   npx tsx bench/live.ts [--tasks 2000] [--samples 40]
import type { A2AMessage } from "../src/index.js";
import * as triad from "../src/index.js";
import { benchFlags } from "./lib/flags.js";
import { BenchRedis } from "./lib/redis.js";
import { untilReady } from "./triad-inprocess.js";

const argv = benchFlags(import.meta.url, {
  tasks: { kind: "count", default: 2000, min: 1, help: "tasks of the progress figures" },
  samples: { kind: "count", default: 40, min: 1, help: "samples of the visible and cancel figures" },
});
const N = argv.tasks;
const SAMPLES = argv.samples;
const REPORTS = 1000;

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const fired = new Map<string, number>();
const reported = new Map<string, number>();
const loop = async (ctx: triad.HandlerContext | null) => {
  for (let i = 0; i < REPORTS; i++) {
    ctx?.progress({ i });
    if (i % 100 === 99) await new Promise((r) => setImmediate(r));
  }
  return REPORTS;
};
const handlers: Record<string, triad.TaskHandler<triad.Task>> = {
  chatty: (_t, ctx) => loop(ctx),
  silent: () => loop(null),
  once: (task, ctx) => {
    reported.set(task.taskId, performance.now());
    ctx.progress("here");
    return new Promise((resolve) => setTimeout(() => resolve(null), 2000));
  },
  patient: (task, ctx) =>
    new Promise((resolve) => {
      ctx.progress("running");
      ctx.signal.addEventListener("abort", () => {
        fired.set(task.taskId, performance.now());
        resolve(null);
      });
    }),
};

async function main(): Promise<void> {
  const redisServer = await BenchRedis.start();
  const redis = { url: redisServer.url, keyPrefix: `live-${process.pid}` };
  let messages = 0;
  const router = new (class extends triad.A2ARouter {
    override deliver(message: A2AMessage, signedText?: string, unsigned?: boolean, handOver?: boolean) {
      if (message.payload.event_type === "task_progress") messages++;
      return super.deliver(message, signedText, unsigned, handOver);
    }
  })();
  const coordinator = new triad.CoordinatorAgent({ agentId: "c", redis, a2a: { router } });
  await coordinator.initialize();
  const distributor = new triad.DistributorAgent({
    agentId: "d",
    coordinatorId: "c",
    redis,
    a2a: { router },
  });
  await distributor.initialize();
  const worker = new triad.WorkerAgent({
    agentId: "w",
    distributorId: "d",
    a2a: { router },
    handlers,
    concurrency: 100,
  });
  await worker.initialize();
  await untilReady(coordinator, 1);

  const run = async (type: string, n: number) => {
    const t = performance.now();
    const ids = Array.from({ length: n }, (_, i) => `${type}-${i}-${Math.random().toString(36).slice(2, 7)}`);
    let next = 0;
    await Promise.all(
      Array.from({ length: 100 }, async () => {
        while (next < ids.length) {
          const id = ids[next++]!;
          await coordinator.submitTask({ task_id: id, task_type: type, payload: {} });
          await coordinator.waitForTask(id, 60_000);
        }
      }),
    );
    return (n / (performance.now() - t)) * 1000;
  };
  await run("silent", 200);
  await run("chatty", 200); // warm up
  messages = 0;
  const rates: Record<string, number[]> = { silent: [], chatty: [] };
  let writes = 0;
  let tasks = 0;
  for (let round = 0; round < 3; round++) {
    rates.silent!.push(await run("silent", N));
    const w0 = distributor.progress.written + distributor.progress.dropped;
    rates.chatty!.push(await run("chatty", N));
    writes += distributor.progress.written + distributor.progress.dropped - w0;
    tasks += N;
  }
  const median = (xs: number[]) => quantile(xs, 0.5);
  console.log(`| handler (${REPORTS} reports per task) | tasks/s (median of 3) |\n|---|---|`);
  console.log(
    `| silent | ${median(rates.silent!).toFixed(0)} |\n| chatty | ${median(rates.chatty!).toFixed(0)} |`,
  );
  console.log(
    `\nper chatty task: ${(messages / tasks).toFixed(3)} task_progress messages (shared by the tasks of one flush), ` +
      `${(writes / tasks).toFixed(2)} progress writes (set-progress, fenced)`,
  );

  const visible: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const id = `once-${i}`;
    await coordinator.submitTask({ task_id: id, task_type: "once", payload: {} });
    while (!reported.has(id)) await sleep(1);
    while ((await coordinator.ledger.get(id))?.task.progress === undefined) await sleep(2);
    visible.push(performance.now() - reported.get(id)!);
  }
  const cancel: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const id = `patient-${i}`;
    await coordinator.submitTask({ task_id: id, task_type: "patient", payload: {} });
    while ((await coordinator.ledger.get(id))?.task.progress === undefined) await sleep(2);
    const t = performance.now();
    await coordinator.cancelTask(id);
    while (!fired.has(id)) await sleep(1);
    cancel.push(fired.get(id)! - t);
  }
  console.log(`\n| from | to | p50 ms | p95 ms |\n|---|---|---|---|`);
  console.log(
    `| ctx.progress() | the value in the record | ${quantile(visible, 0.5).toFixed(1)} | ${quantile(visible, 0.95).toFixed(1)} |`,
  );
  console.log(
    `| cancelTask() | the handler's ctx.signal | ${quantile(cancel, 0.5).toFixed(1)} | ${quantile(cancel, 0.95).toFixed(1)} |`,
  );
  await worker.cleanup();
  await distributor.cleanup();
  await coordinator.cleanup();
  await redisServer.stop();
}

await main();
process.exit(0);
