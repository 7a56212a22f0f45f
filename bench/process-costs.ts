// What each process of the tiers-as-processes run costs a task, counted rather than timed (the
// shared machine's speed moves by 2x within minutes; counts move far less): CPU (user and
// system, µs a task), socket reads and writes a task (/proc/<pid>/io: syscr, syscw) and
// voluntary context switches a task (the process slept and was woken: wake-ups), for the
// coordinator (which runs the load), the distributor, the worker and redis-server.
//
//   npm run build && npx tsx bench/process-costs.ts --mode one --tasks 10000 --warm 5000 --rounds 3
//   npx tsx bench/process-costs.ts --idle 15     (an idle cluster: CPU ms, reads, writes a second)
//
// TRIAD_BENCH_DIST=<folder> runs another build (bench/lib/triad.ts); TRIAD_BENCH_CPU_PROF=<dir>
// writes each tier's V8 CPU profile there (bench/lib/child.ts). Linux only (/proc).
import { readdirSync, readFileSync } from "node:fs";
import { benchFlags } from "./lib/flags.js";
import { BenchRedis } from "./lib/redis.js";
import { DEFAULT_TOPOLOGY, SUBMIT_MODES } from "./triad-inprocess.js";
import { ProcessTriad } from "./triad-processes.js";

const argv = benchFlags(import.meta.url, {
  mode: {
    kind: "string",
    default: "one",
    choices: SUBMIT_MODES,
    help: "how tasks are submitted",
  },
  tasks: { kind: "count", default: 10000, min: 1, help: "tasks measured a round" },
  warm: { kind: "count", default: 5000, help: "tasks before them, not measured" },
  rounds: { kind: "count", default: 1, min: 1, help: "rounds, each a fresh cluster" },
  idle: {
    kind: "number",
    min: 0,
    value: "SECONDS",
    help: "instead of tasks: the idle cluster's CPU ms, reads and writes a second, over this long",
  },
});

type Sample = { ticks: number; user: number; reads: number; writes: number; sleeps: number };

/** What /proc says of `pid` now: CPU ticks (10 ms), socket-level reads/writes, voluntary switches of all threads. */
function sample(pid: number): Sample {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const io = readFileSync(`/proc/${pid}/io`, "utf8");
  const field = (text: string, name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? NaN);
  let sleeps = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      sleeps += field(readFileSync(`/proc/${pid}/task/${tid}/status`, "utf8"), "voluntary_ctxt_switches");
    } catch {
      // a thread that ended between the listing and the read
    }
  }
  return {
    ticks: Number(f[11]) + Number(f[12]),
    user: Number(f[11]),
    reads: field(io, "syscr"),
    writes: field(io, "syscw"),
    sleeps,
  };
}

function pidsOf(triad: ProcessTriad, redis: BenchRedis): Record<string, number> {
  return { ...triad.pids(), redis: redis.pid ?? Number.NaN };
}

const redis = await BenchRedis.start();
try {
  for (let round = 0; round < argv.rounds; round++) {
    const triad = await ProcessTriad.start(redis.url, DEFAULT_TOPOLOGY);
    try {
      const pids = pidsOf(triad, redis);
      const mode = argv.mode;
      await triad.run(argv.warm, mode, `warm${round}`);
      if (argv.idle !== undefined) {
        const seconds = argv.idle;
        await new Promise((r) => setTimeout(r, 3000)); // the last tasks' reports and acks
        const before = Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, sample(p)]));
        await new Promise((r) => setTimeout(r, seconds * 1000));
        for (const [k, p] of Object.entries(pids)) {
          const a = sample(p);
          const b = before[k]!;
          const per = (x: number) => (x / seconds).toFixed(1);
          console.log(
            `${k}: CPU ${per((a.ticks - b.ticks) * 10)} ms/s, reads ${per(a.reads - b.reads)}/s, writes ${per(a.writes - b.writes)}/s, sleeps ${per(a.sleeps - b.sleeps)}/s`,
          );
        }
        continue;
      }
      const n = argv.tasks;
      const before = Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, sample(p)]));
      const figures = await triad.run(n, mode, `run${round}`);
      const parts = [`round ${round + 1}: ${Math.round(figures.perSecond)} tasks/s`];
      for (const [k, p] of Object.entries(pids)) {
        const a = sample(p);
        const b = before[k]!;
        const us = (ticks: number) => Math.round((ticks * 1e4) / n);
        const per = (x: number) => (x / n).toFixed(2);
        parts.push(
          `${k} ${us(a.user - b.user)}+${us(a.ticks - a.user - (b.ticks - b.user))} µs, r ${per(a.reads - b.reads)} w ${per(a.writes - b.writes)} sleeps ${per(a.sleeps - b.sleeps)}`,
        );
      }
      console.log(parts.join(" | "));
    } finally {
      await triad.stop();
    }
  }
} finally {
  await redis.stop();
}
process.exit(0);
