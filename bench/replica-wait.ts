// What --redis-wait-replicas costs: the same in-process Triad on a redis-server with one replica
// (both on this host), submits answered once the master has them (waitReplicas 0, the default)
// against once the replica acknowledged them too (waitReplicas 1: a WAIT after each batch of
// submits, on a connection of its own). Rounds alternate; medians reported.
//
//   npm run build && npx tsx bench/replica-wait.ts [--tasks 10000] [--rounds 3] [--modes one,window,batch]
import { RedisServer } from "../test/helpers/redis-server.js";
import { benchFlags } from "./lib/flags.js";
import { fmt, median, type RunFigures, table } from "./lib/stats.js";
import { InProcessTriad, runEcho, SUBMIT_MODES, type SubmitMode } from "./triad-inprocess.js";

const argv = benchFlags(import.meta.url, {
  tasks: { kind: "count", default: 10_000, min: 1, help: "tasks a run" },
  rounds: { kind: "count", default: 3, min: 1, help: "rounds, waitReplicas 0 and 1 alternating" },
  modes: {
    kind: "list",
    default: "one,window,batch",
    choices: SUBMIT_MODES,
    help: "ways to submit",
  },
});
const N = argv.tasks;
const ROUNDS = argv.rounds;
const MODES = argv.modes;

const master = await RedisServer.start();
const replica = await RedisServer.startReplicaOf(master);
let tag = 0;

async function run(mode: SubmitMode, waitReplicas: number): Promise<RunFigures> {
  const triad = await InProcessTriad.start({ url: master.url, waitReplicas });
  try {
    await runEcho(triad.coordinator, Math.min(N, 2000), mode, { idPrefix: `warm-${++tag}` });
    return await runEcho(triad.coordinator, N, mode, { idPrefix: `r-${++tag}` });
  } finally {
    await triad.stop();
  }
}

const rows: string[][] = [];
try {
  for (const mode of MODES) {
    const runs: Record<number, RunFigures[]> = { 0: [], 1: [] };
    for (let r = 0; r < ROUNDS; r++) {
      for (const w of [0, 1]) {
        const f = await run(mode, w);
        runs[w]!.push(f);
        process.stderr.write(
          `  ${mode.padEnd(6)} waitReplicas ${w}: ${fmt.rate(f.perSecond)} tasks/s, p50 ${fmt.ms(f.p50)} ms, p99 ${fmt.ms(f.p99)} ms\n`,
        );
      }
    }
    const m = (w: number, k: "perSecond" | "p50" | "p99") => median(runs[w]!.map((f) => f[k]));
    for (const w of [0, 1]) {
      rows.push([
        mode,
        String(w),
        fmt.rate(m(w, "perSecond")),
        fmt.ms(m(w, "p50")),
        fmt.ms(m(w, "p99")),
        w === 1 ? `${(m(1, "perSecond") / m(0, "perSecond")).toFixed(2)}x` : "",
      ]);
    }
  }
  console.log(
    `\n### --redis-wait-replicas (${N.toLocaleString("en")} echo tasks per run, median of ${ROUNDS}, one replica on this host)\n`,
  );
  console.log(table(["mode", "waitReplicas", "tasks/s", "p50 ms", "p99 ms", "rate vs 0"], rows));
} finally {
  await replica.destroy();
  await master.destroy();
}
