// Lone-task latency: one task at a time, each awaited to its end before the next is submitted
// (submitTask + waitForTask), all tiers in this process on the benchmark's own redis-server.
// What a single agent call costs end to end when nothing else runs: the figure behind a
// workflow hand-over, an urgent task's start and a bridged remote agent's overhead.
//   npm run build && npx tsx bench/lone-latency.ts [--tasks 500] [--rounds 3] [--memory]

import { benchFlags } from "./lib/flags.js";
import { BenchRedis } from "./lib/redis.js";
import { median, percentile } from "./lib/stats.js";
import { InProcessTriad } from "./triad-inprocess.js";

const argv = benchFlags(import.meta.url, {
  tasks: { kind: "count", default: 500, min: 1, help: "tasks a round, one at a time" },
  rounds: { kind: "count", default: 3, min: 1, help: "rounds" },
  memory: { kind: "boolean", help: "on memory:// instead of a redis-server of its own" },
});
const N = argv.tasks;
const ROUNDS = argv.rounds;

const redis = argv.memory ? undefined : await BenchRedis.start();
const config = redis ? { url: redis.url } : { url: "memory://" };
const p50s: number[] = [];
const p99s: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const linger =
    process.env.LINGER === undefined
      ? {}
      : { batchLingerMs: Number(process.env.LINGER), busyAssignLingerMs: Number(process.env.LINGER) };
  const triad = await InProcessTriad.start(config, {
    distributors: 1,
    workersPerDistributor: 1,
    concurrency: 100,
    ...linger,
  });
  const times: number[] = [];
  for (let i = 0; i < N; i++) {
    const id = `lone-${r}-${i}`;
    const t = performance.now();
    await triad.coordinator.submitTask({ task_id: id, task_type: "echo", payload: { i } });
    const task = await triad.coordinator.waitForTask(id, 10_000);
    if (task?.status !== "completed") throw new Error(`task ${id} ended ${task?.status}`);
    times.push(performance.now() - t);
    // a gap as between unrelated calls, so no batch or linger carries over from the last one
    await new Promise((resolve) => setTimeout(resolve, 3));
  }
  await triad.stop();
  times.sort((a, b) => a - b);
  p50s.push(percentile(times, 50));
  p99s.push(percentile(times, 99));
  console.log(
    `round ${r + 1}: p50 ${percentile(times, 50).toFixed(2)} ms  p99 ${percentile(times, 99).toFixed(2)} ms`,
  );
}
console.log(
  `lone task, submit -> end (${redis ? "redis" : "memory://"}), medians of ${ROUNDS}: p50 ${median(p50s).toFixed(2)} ms, p99 ${median(p99s).toFixed(2)} ms`,
);
await redis?.stop();
