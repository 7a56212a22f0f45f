// Tasks waiting for input (issue 17): `--tasks` function-handler tasks each ask once
// (ctx.requestInput), on one fresh redis-server of the benchmark's own, one process holding a
// coordinator, a distributor and a worker (concurrency 16). Measured: the time until every task
// waits; what waiting holds — the distributor's held tasks, the worker's running attempts, Redis
// used_memory per waiting task; then every task answered (coordinator.provideInput) and the time
// until every one completed.
//
//   npm run build && npx tsx bench/human-input.ts --tasks 10000
import type { HandlerContext, Task } from "../src/index.js";
import { benchFlags } from "./lib/flags.js";
import { BenchRedis } from "./lib/redis.js";
import { triad } from "./lib/triad.js";

const { tasks: n } = benchFlags(import.meta.url, {
  tasks: { kind: "count", default: 10000, min: 1, help: "tasks, each asking once" },
});
const BATCH = 500;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function usedMemory(redis: BenchRedis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(String(await redis.command("INFO", "memory")))?.[1]);
}

async function main(): Promise<void> {
  const redis = await BenchRedis.start();
  const router = new triad.A2ARouter();
  const config = { url: redis.url };
  const coordinator = new triad.CoordinatorAgent({ agentId: "c1", redis: config, a2a: { router } });
  const distributor = new triad.DistributorAgent({
    agentId: "d1",
    coordinatorId: "c1",
    redis: config,
    a2a: { router },
  });
  const ask = (task: Task, ctx: HandlerContext) =>
    ctx.inputs.length > 0 ? { answer: ctx.inputs[0]! } : ctx.requestInput({ i: task.payload.i! });
  const worker = new triad.WorkerAgent({
    agentId: "w1",
    distributorId: "d1",
    a2a: { router },
    concurrency: 16,
    handlers: { ask },
  });
  await coordinator.initialize();
  await distributor.initialize();
  await worker.initialize();
  while (!coordinator.core.directory.get("d1")?.capacity) await sleep(20);

  const memoryBefore = await usedMemory(redis);
  const started = performance.now();
  for (let i = 0; i < n; i += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, n - i) }, (_, k) => ({
      task_id: `ask-${i + k}`,
      task_type: "ask",
      payload: { i: i + k },
    }));
    await coordinator.submitTasks(batch);
  }
  while (coordinator.core.input.waiting < n) await sleep(50);
  const askedMs = performance.now() - started;
  const memoryPerTask = ((await usedMemory(redis)) - memoryBefore) / n;
  const held = distributor.core.load;
  const running = worker.core.load;

  const answering = performance.now();
  for (let i = 0; i < n; i += BATCH) {
    const ids = Array.from({ length: Math.min(BATCH, n - i) }, (_, k) => `ask-${i + k}`);
    const given = await Promise.all(ids.map((id) => coordinator.provideInput(id, `yes-${id}`)));
    if (given.some((g) => !g)) throw new Error("an answer was refused");
  }
  const done = await Promise.all(
    Array.from({ length: n }, (_, i) => coordinator.waitForTask(`ask-${i}`, 120_000)),
  );
  const answeredMs = performance.now() - answering;
  const completed = done.filter((t) => t?.status === "completed").length;

  console.log(
    JSON.stringify(
      {
        tasks: n,
        all_waiting_after_ms: Math.round(askedMs),
        asked_per_s: Math.round(n / (askedMs / 1000)),
        while_waiting: {
          distributor_held: held,
          worker_running: running,
          redis_bytes_per_waiting_task: Math.round(memoryPerTask),
        },
        answered_and_completed_ms: Math.round(answeredMs),
        answered_per_s: Math.round(n / (answeredMs / 1000)),
        completed,
      },
      null,
      2,
    ),
  );
  await worker.cleanup();
  await distributor.cleanup();
  await coordinator.cleanup();
  await redis.stop();
}

await main();
