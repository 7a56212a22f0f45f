// Memory over a long run (ARCHITECTURE invariant 5: a million tasks must leave memory flat):
// all three tiers in this process on a real Redis, `--tasks` no-op tasks submitted in batches
// with at most 20,000 in flight (`--mode batch`, the default), one submitTask at a time
// (`--mode one`) or 100 submitTask calls in flight (`--mode window`), the process's RSS and heap
// sampled (after a full GC, with nothing in flight) at the start, every tenth of the run and at
// the end. Every submitTasks carries at most SUBMIT_CHUNK tasks (the warm-up too), and a submit
// the store answers with a timeout is sent again (bench/lib/resend.ts): a million tasks on a
// loaded machine meet the store's 5 s timeout now and then. Each sample is written to stderr as
// it is taken, so a run stopped early still tells what it measured. Run by bench/run.ts as a
// child process (node --expose-gc), or alone:
//
//   node --expose-gc --import tsx bench/memory.ts --redis redis://127.0.0.1:6379 --tasks 1000000 [--mode one]

import { benchFlags } from "./lib/flags.js";
import { type ResendCount, SUBMIT_CHUNK, type Submitter, submitInChunks } from "./lib/resend.js";
import { InProcessTriad, runEcho, SUBMIT_MODES, type SubmitMode } from "./triad-inprocess.js";

const FLAGS = {
  redis: {
    kind: "string",
    required: true,
    value: "URL",
    help: "the Redis to run on (a server of its own: the run writes N tasks)",
  },
  tasks: { kind: "count", default: 1000000, min: 1, help: "tasks measured after the warm-up" },
  mode: {
    kind: "string",
    default: "batch",
    choices: SUBMIT_MODES,
    value: "M",
    help: `batch: submitTasks of ${SUBMIT_CHUNK}, at most 20,000 in flight; one: one at a time; window: 100 in flight`,
  },
} as const;
const USAGE = {
  command: "node --expose-gc --import tsx bench/memory.ts --redis URL [--tasks N] [--mode batch|one|window]",
  about: "Memory over a long run (all three tiers in this process, a real Redis).",
  more: `Prints {"memory": {tasks, seconds, perSecond, resent, samples}} on stdout; each sample (heap and
RSS after two full GCs with nothing in flight: at the start, every tenth, at the end) also goes
to stderr as it is taken. Without --expose-gc the samples are taken without a GC.`,
};

export type MemorySample = { tasks: number; rssMb: number; heapMb: number; seconds: number };
export type MemoryFigures = {
  tasks: number;
  seconds: number;
  perSecond: number;
  /** Submits sent again after the store answered them with a timeout (or was unavailable). */
  resent: number;
  samples: MemorySample[];
};

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

function sample(tasks: number, start: number): MemorySample {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  const s = { tasks, rssMb: mb(m.rss), heapMb: mb(m.heapUsed), seconds: (performance.now() - start) / 1000 };
  process.stderr.write(`${JSON.stringify({ sample: s })}\n`);
  return s;
}

/** Tasks of one `push`, their ids from `first`; `coordinator` records them in chunks, resending. */
export async function pushTasks(
  coordinator: Submitter,
  first: number,
  n: number,
  prefix: string,
  count: ResendCount,
): Promise<string[]> {
  const tasks = Array.from({ length: n }, (_, i) => ({
    task_id: `${prefix}-${first + i}`,
    task_type: "echo",
    payload: { i: first + i },
  }));
  await submitInChunks(coordinator, tasks, count);
  return tasks.map((t) => t.task_id);
}

export async function longRun(
  redisUrl: string,
  total: number,
  mode: SubmitMode = "batch",
  window = 20_000,
): Promise<MemoryFigures> {
  const triad = await InProcessTriad.start({ url: redisUrl });
  const c = triad.coordinator;
  const chunk = SUBMIT_CHUNK;
  const resend: ResendCount = { resent: 0 };
  let submitted = 0;
  let finished = 0;
  let failed = 0;
  let wake: () => void = () => {};
  const drained = (limit: number) =>
    new Promise<void>((resolve) => {
      wake = () => {
        if (submitted - finished <= limit) resolve();
      };
      wake();
    });
  const push = async (n: number, prefix: string) => {
    const first = submitted;
    submitted += n;
    for (const id of await pushTasks(c, first, n, prefix, resend)) {
      void c.waitForTask(id, 600_000).then((done) => {
        if (done?.status !== "completed") failed++;
        finished++;
        wake();
      });
    }
  };
  // Warm up (JIT, pools, caches) before the first sample.
  await push(window, `${triad.runId}-warm`);
  await drained(0);
  submitted = 0;
  finished = 0;
  const start = performance.now();
  const samples = [sample(0, start)];
  if (mode !== "batch") {
    // runEcho per tenth (submitTask per task, one or WINDOW calls at once; every result checked),
    // which returns once all have ended; then sampled.
    for (let tenth = 1; tenth <= 10; tenth++) {
      const upTo = Math.round((total * tenth) / 10);
      if (upTo > submitted)
        await runEcho(c, upTo - submitted, mode, { idPrefix: `${triad.runId}-${tenth}`, resend });
      submitted = upTo;
      finished = upTo;
      if (tenth < 10) samples.push(sample(submitted, start));
    }
  }
  const every = Math.max(chunk, Math.floor(total / 10));
  while (submitted < total) {
    await drained(window - chunk);
    await push(Math.min(chunk, total - submitted), triad.runId);
    if (submitted % every === 0 && submitted < total) {
      // Sampled with nothing in flight: what stays, not what is being worked on.
      await drained(0);
      samples.push(sample(submitted, start));
    }
  }
  await drained(0);
  const seconds = (performance.now() - start) / 1000;
  samples.push(sample(total, start));
  await triad.stop();
  if (failed > 0) throw new Error(`${failed} of ${total} tasks did not complete`);
  return { tasks: total, seconds, perSecond: total / seconds, resent: resend.resent, samples };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const values = benchFlags(import.meta.url, FLAGS, USAGE);
  const figures = await longRun(values.redis, values.tasks, values.mode);
  process.stdout.write(`${JSON.stringify({ memory: figures })}\n`);
  process.exit(0);
}
