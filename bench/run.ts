// The benchmark: Triad end to end against BullMQ on the same Redis, in the same run.
//
//   npm run bench                                  every section, default sizes (~12 minutes)
//   npm run bench -- --quick                       small sizes, one round (a smoke run)
//   npm run bench -- --only compare,signing        some sections
//   npm run bench -- --tasks 50000 --rounds 5      bigger runs
//   npm run bench -- --long                        memory over 1,000,000 tasks, on Redis and memory:// (adds ~8 minutes)
//   npm run bench -- --json bench-results.json     also write every figure as JSON
//   npm run bench -- --only compare --modes one     only some ways to submit (one, window, batch)
//   npm run bench -- --only compare --cpu-profile prof   a CPU profile of every in-process Triad run
//   npm run bench -- --only compare --warm 60000   tasks run unmeasured per mode first (default 30,000)
//
// Sections: compare (Triad vs BullMQ, one call per task and batched), processes (the tiers as
// separate OS processes over HTTP vs in one process), workers (1/4/16/64 workers in process;
// distributors and worker processes), signing (per message), memory (RSS over a long run).
// Runs alternate A B A B and medians are reported. Progress goes to stderr, the report
// (Markdown) to stdout. The redis-server is the benchmark's own, on a free loopback port.
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { type BullMode, runBullmq } from "./bullmq.js";
import { benchFlags } from "./lib/flags.js";
import { describeMachine } from "./lib/machine.js";
import { BenchRedis } from "./lib/redis.js";
import { fmt, median, pairRatios, type RunFigures, summarise, table } from "./lib/stats.js";
import { TRIAD_FROM } from "./lib/triad.js";
import type { MemoryFigures } from "./memory.js";
import { measureSigning } from "./signing.js";
import {
  DEFAULT_TOPOLOGY,
  InProcessTriad,
  runEcho,
  SUBMIT_MODES,
  type SubmitMode,
  type Topology,
  WINDOW,
} from "./triad-inprocess.js";
import { ProcessTriad } from "./triad-processes.js";

const SECTIONS = ["compare", "processes", "workers", "signing", "memory"] as const;
type Section = (typeof SECTIONS)[number];

/** --modes one,window,batch: which ways to submit the compare section measures (default all). */
const MODES = SUBMIT_MODES;
const argv = benchFlags(
  import.meta.url,
  {
    quick: { kind: "boolean", help: "small sizes, one round (a smoke run)" },
    long: { kind: "boolean", help: "memory over 1,000,000 tasks, on Redis and memory:// (adds ~8 minutes)" },
    only: { kind: "list", choices: SECTIONS, help: "some sections, default all" },
    tasks: { kind: "count", min: 1, help: "tasks a run (default 20000; --quick: 5000)" },
    rounds: { kind: "count", min: 1, help: "rounds, A B alternating (default 3; --quick: 1)" },
    "memory-tasks": {
      kind: "count",
      min: 1,
      help: "tasks of the memory section (default 200000; --quick: 50000; --long: 1000000)",
    },
    json: { kind: "string", value: "FILE", help: "also write every figure as JSON there" },
    linger: { kind: "number", min: 0, value: "MS", help: "every agent's timing.batchLingerMs" },
    modes: { kind: "list", choices: MODES, help: "ways to submit the compare section measures, default all" },
    "cpu-profile": {
      kind: "string",
      value: "DIR",
      help: "a CPU profile of every in-process Triad run, there",
    },
    warm: { kind: "count", help: "tasks run unmeasured per mode first (default 30000; --quick: 5000)" },
  },
  {
    command: "npm run bench -- [flags]   (or npx tsx bench/run.ts [flags])",
    about: `Triad end to end against BullMQ on the same Redis, in the same run. Sections: compare, processes,
workers, signing, memory. Progress goes to stderr, the report (Markdown) to stdout.`,
  },
);

const quick = argv.quick;
const N = argv.tasks ?? (quick ? 5000 : 20_000);
const ROUNDS = argv.rounds ?? (quick ? 1 : 3);
const MEMORY_TASKS = argv["memory-tasks"] ?? (argv.long ? 1_000_000 : quick ? 50_000 : 200_000);
const BATCH = 1000;
/**
 * --warm N: tasks run unmeasured, per mode and per system, before the compare rounds, and by
 * each run of fresh processes before it is measured (default 30,000; --quick: 5,000). Measured
 * here, Triad in one process gets ~1.7x faster over its first ~80,000 tasks (one at a time:
 * 4,750 -> 8,250 tasks/s, 225 -> 113 µs of CPU a task: the JIT and V8's heap sizing), BullMQ
 * ~1.1x (5,560 -> 6,200): a short warm-up measured Triad cold.
 */
const WARM = argv.warm ?? (quick ? 5000 : 30_000);
/** --linger MS: every agent's timing.batchLingerMs (default: the agents' own default). */
const TOPOLOGY: Topology = {
  ...DEFAULT_TOPOLOGY,
  ...(argv.linger === undefined ? {} : { batchLingerMs: argv.linger }),
};
const modes = new Set<SubmitMode>(argv.modes ?? MODES);
/** --cpu-profile DIR: a V8 CPU profile of every measured in-process Triad run, written there. */
const PROFILE_DIR = argv["cpu-profile"];

const only = new Set<Section>(argv.only ?? SECTIONS);

const log = (...parts: unknown[]) => process.stderr.write(`${parts.join(" ")}\n`);
const report: string[] = [];
const out = (line = "") => report.push(line);
const figures: Record<string, unknown> = {};

const redis = await BenchRedis.start();
let tag = 0;

/** One measured run on a clean Redis. */
async function measure(name: string, run: () => Promise<RunFigures>): Promise<RunFigures> {
  await redis.flush();
  const f = await run();
  log(
    `  ${name.padEnd(40)} ${fmt.rate(f.perSecond).padStart(8)} tasks/s  p50 ${fmt.ms(f.p50)} ms  p99 ${fmt.ms(f.p99)} ms  max ${fmt.ms(f.max ?? Number.NaN)} ms  ${Math.round(f.cpuUs)} us CPU/task`,
  );
  return f;
}

async function triadInProcess(mode: SubmitMode, n = N, topology: Topology = TOPOLOGY) {
  const triad = await InProcessTriad.start({ url: redis.url }, topology);
  const profile = PROFILE_DIR === undefined ? undefined : await startProfile();
  try {
    return await runEcho(triad.coordinator, n, mode, {
      idPrefix: `${triad.runId}-${++tag}`,
      batchSize: BATCH,
    });
  } finally {
    await profile?.(`${PROFILE_DIR}/triad-${mode}-${tag}.cpuprofile`);
    await triad.stop();
  }
}

/** Starts the V8 profiler of this process; the function it returns stops it and writes the profile. */
async function startProfile(): Promise<(path: string) => Promise<void>> {
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.start");
  return async (path) => {
    const { profile } = await session.post("Profiler.stop");
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, JSON.stringify(profile));
    session.disconnect();
    log(`  CPU profile: ${path}`);
  };
}

async function triadProcesses(mode: SubmitMode, n = N, topology: Topology = TOPOLOGY) {
  const triad = await ProcessTriad.start(redis.url, topology);
  try {
    // Fresh processes: warm their JIT and connections up first, as this process already is
    // (with 3,000 tasks, as before --warm, they were measured far colder than this process).
    await triad.run(WARM, mode, `warm${++tag}`, BATCH);
    return await triad.run(n, mode, `t${++tag}`, BATCH);
  } finally {
    await triad.stop();
  }
}

function row(name: string, f: RunFigures, ratio?: number): string[] {
  return [
    name,
    fmt.rate(f.perSecond),
    fmt.ms(f.p50),
    fmt.ms(f.p99),
    String(Math.round(f.cpuUs)),
    ratio === undefined ? "" : fmt.ratio(ratio),
  ];
}

const HEAD = ["run", "tasks/s", "p50 ms", "p99 ms", "CPU us/task", "ratio"];

async function compare(): Promise<void> {
  log(`compare: ${ROUNDS} round(s) of ${N} tasks, alternating Triad and BullMQ`);
  const runs: Record<string, RunFigures[]> = {
    triadOne: [],
    bullOne: [],
    triadWindow: [],
    bullWindow: [],
    triadBatch: [],
    bullBulk: [],
    triadSigned: [],
  };
  // Warm both up (JIT) in every mode measured, unmeasured: a first one-at-a-time round runs
  // code a batched warm-up never reached, and was Triad's slowest round by up to 1.5x.
  const warm = WARM;
  const bullModes: Record<SubmitMode, BullMode> = { one: "one", window: "window", batch: "bulk" };
  for (const mode of ["batch", "window", "one"] as const) {
    if (mode !== "batch" && !modes.has(mode)) continue;
    await triadInProcess(mode, warm);
    await runBullmq(redis.url, warm, bullModes[mode]);
  }
  for (let r = 0; r < ROUNDS; r++) {
    log(` round ${r + 1}`);
    if (modes.has("one")) {
      runs.triadOne!.push(await measure("Triad, submitTask one at a time", () => triadInProcess("one")));
      runs.bullOne!.push(
        await measure("BullMQ, Queue.add one at a time", () => runBullmq(redis.url, N, "one")),
      );
    }
    if (modes.has("window")) {
      runs.triadWindow!.push(
        await measure(`Triad, submitTask, ${WINDOW} in flight`, () => triadInProcess("window")),
      );
      runs.bullWindow!.push(
        await measure(`BullMQ, Queue.add, ${WINDOW} in flight`, () => runBullmq(redis.url, N, "window")),
      );
      // The router's signed mode, which every in-process message paid for before it was optional.
      runs.triadSigned!.push(
        await measure(`Triad, signed router, ${WINDOW} in flight`, () =>
          triadInProcess("window", N, { ...TOPOLOGY, signed: true }),
        ),
      );
    }
    if (modes.has("batch")) {
      runs.triadBatch!.push(await measure(`Triad, submitTasks of ${BATCH}`, () => triadInProcess("batch")));
      runs.bullBulk!.push(
        await measure(`BullMQ, addBulk of ${BATCH}`, () => runBullmq(redis.url, N, "bulk" as BullMode)),
      );
    }
  }
  const m = Object.fromEntries(
    Object.entries(runs)
      .filter(([, v]) => v.length > 0)
      .map(([k, v]) => [k, summarise(v)]),
  ) as Record<string, RunFigures>;
  figures.compare = { runs, medians: m };
  const pairs = [
    {
      mode: "one",
      label: "one at a time",
      triad: ["triadOne", "Triad: submitTask + waitForTask per task, one at a time"],
      bull: ["bullOne", "BullMQ: Queue.add per job, one at a time; Worker concurrency 100"],
    },
    {
      mode: "window",
      label: `${WINDOW} calls in flight`,
      triad: ["triadWindow", `Triad: submitTask per task, ${WINDOW} calls in flight`],
      bull: ["bullWindow", `BullMQ: Queue.add per job, ${WINDOW} calls in flight`],
    },
    {
      mode: "batch",
      label: "batched",
      triad: ["triadBatch", `Triad: submitTasks of ${BATCH} + waitForTask per task`],
      bull: ["bullBulk", `BullMQ: addBulk of ${BATCH}; Worker concurrency 100`],
    },
  ] as const;
  const measured = pairs.filter((p) => modes.has(p.mode));
  out(`### Triad vs BullMQ (${N.toLocaleString("en-US")} no-op tasks per run, median of ${ROUNDS})`);
  out();
  out(
    table(
      HEAD,
      measured.flatMap((p) => {
        const triad = m[p.triad[0]]!;
        const bull = m[p.bull[0]]!;
        return [row(p.triad[1], triad, triad.perSecond / bull.perSecond), row(p.bull[1], bull)];
      }),
    ),
  );
  out();
  const signed = m.triadSigned;
  if (signed !== undefined) {
    out(
      table(HEAD, [
        row(
          `Triad, in-process router signed ({ signed: true }), ${WINDOW} calls in flight`,
          signed,
          signed.perSecond / m.bullWindow!.perSecond,
        ),
      ]),
    );
    out();
  }
  out(
    `Ratio Triad / BullMQ: ${measured.map((p) => `${p.label} ${fmt.ratio(m[p.triad[0]]!.perSecond / m[p.bull[0]]!.perSecond)}`).join(", ")}.`,
  );
  out();
  // Each Triad round ran right before its BullMQ round: the ratio of each pair shows how much
  // of a difference between the medians is the VM's drift (a slow spell hits one round).
  out(
    `Round by round (each Triad round / the BullMQ round right after it): ${measured
      .map((p) => `${p.label} ${fmt.pairs(pairRatios(runs[p.triad[0]]!, runs[p.bull[0]]!))}`)
      .join("; ")}.`,
  );
  out();
}

async function processes(): Promise<void> {
  log(`processes: ${ROUNDS} round(s), the tiers in one process vs separate processes over HTTP`);
  const runs: Record<string, RunFigures[]> = { inBatch: [], procBatch: [], inOne: [], procOne: [] };
  // Warm this process's JIT up first, as each run of fresh processes warms theirs (and as the
  // compare section does): alone (--only processes), the first in-process round was cold, up
  // to 1.7x the CPU per task of the next ones, and flattered the processes' ratio.
  await triadInProcess("batch", WARM);
  await triadInProcess("one", WARM);
  for (let r = 0; r < ROUNDS; r++) {
    log(` round ${r + 1}`);
    runs.inBatch!.push(await measure("in one process, batched", () => triadInProcess("batch")));
    runs.procBatch!.push(await measure("separate processes, batched", () => triadProcesses("batch")));
    runs.inOne!.push(await measure("in one process, one at a time", () => triadInProcess("one")));
    runs.procOne!.push(await measure("separate processes, one at a time", () => triadProcesses("one")));
  }
  const m = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, summarise(v)])) as Record<
    string,
    RunFigures
  >;
  figures.processes = { runs, medians: m };
  const t = TOPOLOGY;
  out(
    `### Separate processes over HTTP (coordinator, ${t.distributors} distributor(s), ${t.distributors * t.workersPerDistributor} worker(s) at concurrency ${t.concurrency}: ${1 + t.distributors + t.distributors * t.workersPerDistributor} processes; median of ${ROUNDS})`,
  );
  out();
  out(
    table(HEAD, [
      row("in one process, batched", m.inBatch!),
      row("separate processes, batched", m.procBatch!, m.procBatch!.perSecond / m.inBatch!.perSecond),
      row("in one process, one at a time", m.inOne!),
      row("separate processes, one at a time", m.procOne!, m.procOne!.perSecond / m.inOne!.perSecond),
    ]),
  );
  out();
  const tiers = (list: RunFigures[]) => {
    const of = (tier: string) =>
      Math.round(
        median(
          list.map((f) => (f as RunFigures & { cpuByTierUs: Record<string, number> }).cpuByTierUs[tier]!),
        ),
      );
    return `coordinator ${of("coordinator")} us, distributor ${of("distributor")} us, worker ${of("worker")} us`;
  };
  out(
    `CPU per task by tier across processes (medians): batched: ${tiers(runs.procBatch!)}; one at a time: ${tiers(runs.procOne!)}. (The "CPU us/task" column is the coordinator process's; in one process, that one process does it all.)`,
  );
  out();
  // As in the compare section: each pair ran back to back (pairRatios).
  out(
    `Round by round (each processes run / the in-process run right before it): batched ${fmt.pairs(pairRatios(runs.procBatch!, runs.inBatch!))}; one at a time ${fmt.pairs(pairRatios(runs.procOne!, runs.inOne!))}.`,
  );
  out();
}

async function workers(): Promise<void> {
  log("workers: in one process, batched, 1/4/16/64 workers of concurrency 25 on one distributor");
  // Warm first, as in the processes section: the 1-worker run would otherwise be the cold one.
  await triadInProcess("batch", Math.min(N, 5000));
  const inProc: Array<[string, RunFigures]> = [];
  for (const w of [1, 4, 16, 64]) {
    const topology = { ...TOPOLOGY, distributors: 1, workersPerDistributor: w, concurrency: 25 };
    inProc.push([
      `${w} worker${w > 1 ? "s" : ""}`,
      await measure(`${w} workers`, () => triadInProcess("batch", N, topology)),
    ]);
  }
  log("workers: separate processes, batched");
  const procs: Array<[string, RunFigures]> = [];
  for (const [d, w] of [
    [1, 1],
    [1, 2],
    [1, 4],
    [2, 2],
  ] as const) {
    const topology = { ...TOPOLOGY, distributors: d, workersPerDistributor: w, concurrency: 50 };
    const name = `${d} distributor${d > 1 ? "s" : ""} x ${w} worker process${w > 1 ? "es" : ""}`;
    procs.push([name, await measure(name, () => triadProcesses("batch", N, topology))]);
  }
  figures.workers = { inProcess: inProc, processes: procs };
  out(`### Workers (batched submission, ${N.toLocaleString("en-US")} tasks, one run each)`);
  out();
  out(
    table(
      HEAD.slice(0, 5),
      inProc.map(([name, f]) => row(`in one process: ${name}`, f).slice(0, 5)),
    ),
  );
  out();
  out(
    table(
      HEAD.slice(0, 5),
      procs.map(([name, f]) => row(`processes: ${name}`, f).slice(0, 5)),
    ),
  );
  out();
}

function signing(): void {
  log("signing: build + sign, and admission (verify + freshness + replay), per message");
  const s = measureSigning(quick ? 5000 : 20_000);
  figures.signing = s;
  out("### Signing (execute_tasks messages, one core)");
  out();
  out(
    table(
      ["tasks per message", "bytes", "build + sign us", "admit (verify) us", "per task us"],
      s.map((r) => [
        String(r.tasksPerMessage),
        r.bytes.toLocaleString("en-US"),
        r.signUs.toFixed(1),
        r.admitUs.toFixed(1),
        r.perTaskUs.toFixed(2),
      ]),
    ),
  );
  out();
}

/** The long run in a child process of its own (node --expose-gc), on `url`. */
async function longRun(url: string): Promise<MemoryFigures> {
  const script = fileURLToPath(new URL("./memory.ts", import.meta.url));
  const child = spawn(
    process.execPath,
    ["--expose-gc", "--import", "tsx", script, "--redis", url, "--tasks", String(MEMORY_TASKS)],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let stdout = "";
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  if (code !== 0) throw new Error(`the memory run on ${url} exited with ${code}`);
  return (JSON.parse(stdout.trim().split("\n").pop()!) as { memory: MemoryFigures }).memory;
}

function memoryTable(m: MemoryFigures, where: string): void {
  for (const s of m.samples)
    log(`  ${String(s.tasks).padStart(9)} tasks  RSS ${s.rssMb} MB  heap ${s.heapMb} MB`);
  out(
    `### Memory on ${where} (${m.tasks.toLocaleString("en-US")} tasks in one run, all tiers in one process, at most 20,000 in flight)`,
  );
  out();
  out(
    table(
      ["tasks done", "RSS MB", "heap MB (after GC)", "seconds"],
      m.samples.map((s) => [
        s.tasks.toLocaleString("en-US"),
        s.rssMb.toFixed(1),
        s.heapMb.toFixed(1),
        s.seconds.toFixed(1),
      ]),
    ),
  );
  out();
}

async function memory(): Promise<void> {
  log(
    `memory: ${MEMORY_TASKS.toLocaleString("en-US")} tasks through the three tiers in one process, on Redis`,
  );
  await redis.flush();
  const m = await longRun(redis.url);
  const redisMemory = String(await redis.command("INFO", "memory"));
  const usedMb = Number(/used_memory:(\d+)/.exec(redisMemory)?.[1] ?? 0) / 1024 / 1024;
  memoryTable(m, "Redis");
  const first = m.samples[0]!;
  const last = m.samples.at(-1)!;
  out(
    `RSS before ${first.rssMb.toFixed(1)} MB, after ${last.rssMb.toFixed(1)} MB (${fmt.rate(m.perSecond)} tasks/s over the run). Redis used_memory after the run: ${usedMb.toFixed(0)} MB (terminal records are kept for their retention, 24 h by default).`,
  );
  out();
  // The embedded store keeps its records in the process's heap: bounded by memoryMaxFinished.
  log(`memory: the same on the embedded store (memory://)`);
  const embedded = await longRun("memory://bench-memory");
  memoryTable(embedded, "memory:// (the embedded store)");
  const e0 = embedded.samples[0]!;
  const e1 = embedded.samples.at(-1)!;
  out(
    `Heap after GC ${e0.heapMb.toFixed(1)} MB before, ${e1.heapMb.toFixed(1)} MB after (${fmt.rate(embedded.perSecond)} tasks/s): the store keeps at most 100,000 finished records (redis.memoryMaxFinished), the oldest dropped first.`,
  );
  out();
  figures.memory = { ...m, redisUsedMb: usedMb, embedded };
}

try {
  const machine = describeMachine();
  figures.machine = machine;
  log(
    `machine: ${machine.nproc} CPUs (${machine.cpu}), node ${machine.node}, redis ${machine.redis}; Triad from ${TRIAD_FROM}`,
  );
  if (only.has("compare")) await compare();
  if (only.has("processes")) await processes();
  if (only.has("workers")) await workers();
  if (only.has("signing")) signing();
  if (only.has("memory")) await memory();
  process.stdout.write(
    [
      `## Triad benchmark, ${new Date().toISOString().slice(0, 10)}`,
      "",
      `Machine: ${machine.nproc} CPUs (${machine.cpu}), ${machine.memory}, ${machine.os}; Node.js ${machine.node}; Redis ${machine.redis}.`,
      `Command: npm run bench -- ${process.argv.slice(2).join(" ")}`.trimEnd(),
      `Triad measured from: ${TRIAD_FROM}.`,
      "",
      ...report,
    ].join("\n"),
  );
  if (argv.json) writeFileSync(argv.json, `${JSON.stringify(figures, null, 2)}\n`);
} finally {
  await redis.stop();
}
