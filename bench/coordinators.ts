// One coordinator process against two (SPEC "Several coordinators"), the same distributors and
// workers (each its own process, bench/tier-process.ts), the same Redis: the load is split over
// the coordinators, each running its half through its own public API at once (100 submit calls
// in flight each: a submitter moves on once its task is recorded, so a backlog builds up);
// end-to-end rate = tasks / the slowest share's wall time. With --shares 2 the load is two shares
// in both runs: one coordinator takes both, as it would take the same clients. Runs alternate
// one, two, one, two...; medians reported, with the CPU per task of each tier's processes and of
// redis-server, and on stderr each share's wall time and slowest task.
//
//   node --import tsx bench/coordinators.ts [--tasks 20000] [--rounds 3] [--mode window] [--shares 2] [--warm 20000]
import { randomBytes } from "node:crypto";
import { BenchChild, cpuSecondsOf } from "./lib/child.js";
import { benchFlags } from "./lib/flags.js";
import { BenchRedis } from "./lib/redis.js";
import { fmt, median, type RunFigures, table } from "./lib/stats.js";
import { SUBMIT_MODES, WINDOW } from "./triad-inprocess.js";

const args = benchFlags(import.meta.url, {
  tasks: { kind: "count", default: 20000, min: 1, help: "tasks a run" },
  rounds: { kind: "count", default: 3, min: 1, help: "rounds, one and two coordinators alternating" },
  mode: {
    kind: "string",
    default: "window",
    choices: SUBMIT_MODES,
    help: "how tasks are submitted",
  },
  // "one" alone: the one-coordinator rate of a checkout from before several coordinators.
  only: { kind: "string", choices: ["one", "two"], help: "one or two coordinators only (default both)" },
  // Shares of the load (each 100 submit calls in flight), dealt to the coordinators in turn.
  // Unset: one per coordinator. --shares 2: the same load on one coordinator as on two.
  shares: { kind: "count", min: 1, help: "shares of the load, dealt in turn (default one per coordinator)" },
  // Tasks run through before the measured run, split as the measured run is, to warm every
  // process up. 2,000 left two coordinators, which see half of them each, measurably colder
  // than one (~20 µs a task more in their processes; 20,000: ~5–9).
  warm: { kind: "count", default: 20000, help: "tasks before the measured run, split as it is" },
});
const N = args.tasks;
const ROUNDS = args.rounds;
const MODE = args.mode;
const SHARES = args.shares;
const WARM = args.warm;
const DISTRIBUTORS = 2;

type Run = { perSecond: number; cpuUs: Record<string, number> };

/** Coordinators c0..c<n-1>, distributors homed on them in turn (one worker each), all processes. */
async function startCluster(redisUrl: string, coordinators: number) {
  const env = { TRIAD_SECRET: randomBytes(24).toString("hex") };
  const run = randomBytes(3).toString("hex");
  const cs = Array.from(
    { length: coordinators },
    (_, i) => new BenchChild(["--role", "coordinator", "--id", `c${i}-${run}`, "--redis", redisUrl], env),
  );
  const curls = await Promise.all(cs.map(async (c) => (await c.next("ready", 30_000)).url as string));
  const others: Array<{ tier: string; child: BenchChild }> = [];
  for (let d = 0; d < DISTRIBUTORS; d++) {
    const home = d % coordinators;
    const id = `d${d}-${run}`;
    const dist = new BenchChild(
      [
        "--role",
        "distributor",
        "--id",
        id,
        "--coordinator",
        `c${home}-${run}=${curls[home]}`,
        "--redis",
        redisUrl,
      ],
      env,
    );
    others.push({ tier: "distributor", child: dist });
    const durl = (await dist.next("ready", 30_000)).url as string;
    const worker = new BenchChild(
      ["--role", "worker", "--id", `w${d}-${run}`, "--distributor", `${id}=${durl}`, "--concurrency", "100"],
      env,
    );
    others.push({ tier: "worker", child: worker });
    await worker.next("ready", 30_000);
  }
  return { cs, others };
}

async function measure(redis: BenchRedis, coordinators: number, tag: string): Promise<Run> {
  await redis.flush();
  const { cs, others } = await startCluster(redis.url, coordinators);
  try {
    // A warm-up half, then the measured run.
    await runOn(cs, WARM, `${tag}-warm`);
    const cpu = () => ({
      coordinator: cs.reduce((s, c) => s + c.cpuSeconds(), 0),
      distributor: others
        .filter((o) => o.tier === "distributor")
        .reduce((s, o) => s + o.child.cpuSeconds(), 0),
      worker: others.filter((o) => o.tier === "worker").reduce((s, o) => s + o.child.cpuSeconds(), 0),
      redis: cpuSecondsOf(redis.pid),
    });
    const before = cpu();
    const started = performance.now();
    const shares = await runOn(cs, N, tag);
    const seconds = (performance.now() - started) / 1000;
    const after = cpu();
    const cpuUs = Object.fromEntries(
      Object.entries(after).map(([k, v]) => [
        k,
        Math.round(((v - before[k as keyof typeof before]) * 1e6) / N),
      ]),
    );
    // Each share's wall time and slowest task: a share held up by a few stalled tasks shows here.
    process.stderr.write(
      `  ${tag}: ${shares.map((f) => `${f.seconds.toFixed(2)} s (p99 ${fmt.ms(f.p99)}, max ${fmt.ms(f.max ?? Number.NaN)} ms)`).join(" / ")}\n`,
    );
    return { perSecond: N / seconds, cpuUs };
  } finally {
    await Promise.all([...others.map((o) => o.child.stop()), ...cs.map((c) => c.stop())]);
  }
}

/**
 * `n` split in shares (one per coordinator, or SHARES dealt to them in turn), each run through its
 * coordinator's own API, all at once; resolves when the last is done.
 */
async function runOn(cs: BenchChild[], n: number, tag: string): Promise<RunFigures[]> {
  const shares = SHARES ?? cs.length;
  const share = Math.ceil(n / shares);
  return Promise.all(
    Array.from({ length: shares }, async (_, i) => {
      const c = cs[i % cs.length]!;
      c.send({ cmd: "run", n: share, mode: MODE, tag: `${tag}-${i}`, distributors: DISTRIBUTORS });
      const line = await c.next("result");
      if (line.result === null) throw new Error(`coordinator ${i} failed: ${String(line.error)}`);
      return line.result as RunFigures;
    }),
  );
}

const redis = await BenchRedis.start();
try {
  const runs: Record<string, Run[]> = { one: [], two: [] };
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, n] of [
      ["one", 1],
      ["two", 2],
    ] as const) {
      if (args.only !== undefined && args.only !== name) continue;
      const result = await measure(redis, n, `${name}-${r}`);
      runs[name]!.push(result);
      process.stderr.write(`${name} coordinator(s), round ${r + 1}: ${fmt.rate(result.perSecond)} tasks/s\n`);
    }
  }
  const row = (name: string, label: string) => {
    const rs = runs[name]!;
    if (rs.length === 0) return [label, "-", "-", "-", "-", "-", "-"];
    const med = (k: string) => median(rs.map((x) => x.cpuUs[k]!));
    return [
      label,
      fmt.rate(median(rs.map((x) => x.perSecond))),
      String(med("coordinator")),
      String(med("distributor")),
      String(med("worker")),
      String(med("redis")),
      // On one machine the rate follows this: every process shares the same cores.
      String(median(rs.map((x) => Object.values(x.cpuUs).reduce((a, b) => a + b, 0)))),
    ];
  };
  process.stdout.write(
    `${table(
      [
        "",
        "tasks/s (median)",
        "coordinator µs/task",
        "distributor µs/task",
        "worker µs/task",
        "redis µs/task",
        "all µs/task",
      ],
      [row("one", "1 coordinator process"), row("two", "2 coordinator processes")],
    )}\n\n${N} echo tasks per run (${MODE}, ${SHARES === undefined ? "a share per coordinator" : `${SHARES} shares`} of ${WINDOW} submit calls in flight), ${DISTRIBUTORS} distributors × 1 worker (concurrency 100), ${ROUNDS} rounds.\n`,
  );
} finally {
  await redis.stop();
}
