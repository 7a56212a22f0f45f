// Two builds of Triad side by side, to tell whether a change made it faster on a machine whose
// speed moves by 1.5x within minutes: runs of A and B alternate (A B B A A B ...), each in a
// fresh process on one shared redis-server, and each pair's ratio B/A is reported with their
// median, beside the medians of each build's rate and CPU per task. `--help` prints the usage.
//
//   cp -r dist ../dist-before        (the build before the change)
//   npm run build                    (the build with it)
//   npx tsx bench/ab.ts --a ../dist-before --b dist --mode window --pairs 6
//
// --a / --b: build folders, relative to the repository (default: dist for both, an A/A run that
// shows the noise); --mode one|window|batch (default window); --pairs N (default 6); --tasks N
// per run (default 30,000), after --warm N unmeasured in the same process (default 30,000).
// Progress goes to stderr, the report (Markdown) to stdout.
import { fileURLToPath } from "node:url";
import { BenchChild } from "./lib/child.js";
import { benchFlags } from "./lib/flags.js";
import { BenchRedis, redisCpuSeconds } from "./lib/redis.js";
import { fmt, median, pairRatios, type RunFigures } from "./lib/stats.js";

const MODES = ["one", "window", "batch"] as const;
const argv = benchFlags(
  import.meta.url,
  {
    a: { kind: "string", default: "dist", value: "DIR", help: "build folder A, relative to the repository" },
    b: {
      kind: "string",
      default: "dist",
      value: "DIR",
      help: "build folder B; both dist is an A/A run that shows the noise",
    },
    mode: {
      kind: "string",
      default: "window",
      choices: MODES,
      value: "MODE",
      help: "one (one submit at a time), window (100 in flight) or batch",
    },
    pairs: { kind: "count", default: 6, min: 1, help: "pairs of runs" },
    tasks: { kind: "count", default: 30000, min: 1, help: "tasks a run, measured" },
    warm: { kind: "count", default: 30000, help: "tasks before them in the same process, not measured" },
    child: { kind: "string", hidden: true, value: "URL", help: "one run on this Redis (ab.ts's own child)" },
  },
  {
    command: `npx tsx bench/ab.ts [--a DIR] [--b DIR] [--mode one|window|batch] [--pairs N]
                            [--tasks N] [--warm N]`,
    about: `Runs two builds of Triad alternately (A B, B A, ...), each run in a fresh process on one shared
redis-server of its own, and reports each pair's rate ratio B/A and the medians of each build's
tasks/s, node CPU us/task, Redis CPU us/task and p99 (Markdown on stdout, progress on stderr).`,
    more: `Example (the build before a change against the build with it):
  cp -r dist ../dist-before && npm run build
  npx tsx bench/ab.ts --a ../dist-before --b dist --mode window --pairs 6`,
  },
);
const { mode, pairs, tasks, warm } = argv;

type Figures = RunFigures & { redisUs: number };

if (argv.child !== undefined) {
  // One run, in this process: the build was chosen by TRIAD_BENCH_DIST before triad.ts loaded.
  const { InProcessTriad, runEcho } = await import("./triad-inprocess.js");
  const url = argv.child;
  const triad = await InProcessTriad.start({ url });
  try {
    if (warm > 0) await runEcho(triad.coordinator, warm, mode, { idPrefix: `${triad.runId}-warm` });
    const before = await redisCpuSeconds(url);
    const f = await runEcho(triad.coordinator, tasks, mode, { idPrefix: `${triad.runId}-run` });
    const redisUs = ((await redisCpuSeconds(url)) - before) * (1e6 / tasks);
    process.stdout.write(`${JSON.stringify({ result: { ...f, redisUs } })}\n`);
  } finally {
    await triad.stop();
  }
  process.exit(0);
}

const log = (line: string) => process.stderr.write(`${line}\n`);

/** One run of `build` in a fresh process (BenchChild): its figures, once it said them. */
async function runOnce(build: string, url: string): Promise<Figures> {
  const args = ["--child", url, "--mode", mode, "--tasks", String(tasks), "--warm", String(warm)];
  const child = new BenchChild(args, { TRIAD_BENCH_DIST: build }, fileURLToPath(import.meta.url));
  try {
    return (await child.next("result")).result as Figures;
  } finally {
    await child.stop();
  }
}

const redis = await BenchRedis.start();
const runs: Record<"a" | "b", Figures[]> = { a: [], b: [] };
try {
  for (let p = 0; p < pairs; p++) {
    // A B, then B A: neither build always goes first into a spell.
    const order: Array<"a" | "b"> = p % 2 === 0 ? ["a", "b"] : ["b", "a"];
    for (const side of order) {
      await redis.flush();
      const f = await runOnce(side === "a" ? argv.a : argv.b, redis.url);
      runs[side].push(f);
      log(
        `pair ${p + 1} ${side.toUpperCase()} ${fmt.rate(f.perSecond).padStart(8)} tasks/s  node ${f.cpuUs.toFixed(1)} us  redis ${f.redisUs.toFixed(1)} us  p99 ${fmt.ms(f.p99)} ms`,
      );
    }
  }
} finally {
  await redis.stop();
}

const ratios = pairRatios(runs.b, runs.a);
const m = (side: "a" | "b", pick: (f: Figures) => number) => median(runs[side].map(pick));
console.log(
  `## A/B: ${argv.b} (B) against ${argv.a} (A), ${mode}, ${tasks} tasks a run, ${ratios.length} pairs`,
);
console.log();
console.log("| build | tasks/s (median) | node CPU us/task | Redis CPU us/task | p99 ms |");
console.log("| ----- | ---------------- | ---------------- | ----------------- | ------ |");
for (const side of ["a", "b"] as const) {
  console.log(
    `| ${side.toUpperCase()}: ${side === "a" ? argv.a : argv.b} | ${fmt.rate(m(side, (f) => f.perSecond))} | ${m(side, (f) => f.cpuUs).toFixed(1)} | ${m(side, (f) => f.redisUs).toFixed(1)} | ${fmt.ms(m(side, (f) => f.p99))} |`,
  );
}
console.log();
console.log(
  `B/A pair by pair: ${fmt.pairs(ratios)}, B ahead in ${ratios.filter((r) => r > 1).length} of ${ratios.length}.`,
);
