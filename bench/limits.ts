// Per-task-type limits on the clock: does a task of an unlimited type pay for them, and what
// does a slot cost a limited one? Same redis-server, same run, variants alternated by round.
//
//   npx tsx bench/limits.ts [--tasks 3000] [--rounds 3] [--mode window|one]
//
// none:      no limit anywhere (the distributors' gate is inactive);
// other:     a limit on another type: `echo` is unlimited but the gate is active;
// limited:   `echo` itself limited to a concurrency it never reaches (every attempt takes,
//            binds and releases a slot: what the limit costs, not what it holds back).
// Figures: tasks/s end to end, p50 latency per task and this process's CPU per task (all the
// tiers run here; the least disturbed by a busy machine), medians over the rounds.

import { benchFlags } from "./lib/flags.js";
import { BenchRedis } from "./lib/redis.js";
import { fmt, median } from "./lib/stats.js";
import { InProcessTriad, runEcho, SUBMIT_MODES } from "./triad-inprocess.js";

const argv = benchFlags(import.meta.url, {
  tasks: { kind: "count", default: 3000, min: 1, help: "tasks a variant and round" },
  rounds: { kind: "count", default: 3, min: 1, help: "rounds, the variants alternating" },
  mode: {
    kind: "string",
    default: "window",
    choices: SUBMIT_MODES,
    help: "how tasks are submitted",
  },
});
const N = argv.tasks;
const ROUNDS = argv.rounds;
const MODE = argv.mode;
const VARIANTS = ["none", "other", "limited"] as const;

const redis = await BenchRedis.start();
const figures: Record<(typeof VARIANTS)[number], { perSecond: number[]; p50: number[]; cpuUs: number[] }> = {
  none: { perSecond: [], p50: [], cpuUs: [] },
  other: { perSecond: [], p50: [], cpuUs: [] },
  limited: { perSecond: [], p50: [], cpuUs: [] },
};
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const variant of VARIANTS) {
      await redis.flush();
      const config = { url: redis.url };
      // The limit is in the store before the distributor starts, so its gate knows it at once.
      const setup = await InProcessTriad.start(config);
      if (variant === "other") await setup.coordinator.setLimit("llm", { concurrency: 5 });
      if (variant === "limited") await setup.coordinator.setLimit("echo", { concurrency: 100_000 });
      await setup.stop();
      const run = await InProcessTriad.start(config);
      try {
        const f = await runEcho(run.coordinator, N, MODE, { idPrefix: `${variant}-${round}` });
        figures[variant].perSecond.push(f.perSecond);
        figures[variant].p50.push(f.p50);
        figures[variant].cpuUs.push(f.cpuUs);
        process.stderr.write(
          `round ${round + 1} ${variant}: ${fmt.rate(f.perSecond)} tasks/s, p50 ${f.p50.toFixed(2)} ms, ${Math.round(f.cpuUs)} µs CPU/task\n`,
        );
      } finally {
        await run.stop();
      }
    }
  }
} finally {
  await redis.stop();
}
console.log(`| ${MODE}, ${N} echo tasks | tasks/s (median of ${ROUNDS}) | p50 ms | CPU µs/task |`);
console.log("| --- | --- | --- | --- |");
for (const v of VARIANTS) {
  const f = figures[v];
  console.log(
    `| ${v} | ${fmt.rate(median(f.perSecond))} | ${fmt.ms(median(f.p50))} | ${Math.round(median(f.cpuUs))} |`,
  );
}
