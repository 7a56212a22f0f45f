// Memory over a long run (ARCHITECTURE invariant 5: a million tasks must leave memory flat):
// all three tiers in this process on a real Redis, `--tasks` no-op tasks submitted in batches
// with at most 20,000 in flight (`--mode batch`, the default), one submitTask at a time
// (`--mode one`) or 100 submitTask calls in flight (`--mode window`), the process's RSS and heap
// sampled (after a full GC, with nothing in flight) at the start, every tenth of the run and at
// the end. Run by bench/run.ts as a child process (node --expose-gc), or alone:
//
//   node --expose-gc --import tsx bench/memory.ts --redis redis://127.0.0.1:6379 --tasks 1000000 [--mode one]
import { parseArgs } from "node:util";
import { InProcessTriad, runEcho, type SubmitMode } from "./triad-inprocess.js";

export type MemorySample = { tasks: number; rssMb: number; heapMb: number; seconds: number };
export type MemoryFigures = { tasks: number; seconds: number; perSecond: number; samples: MemorySample[] };

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

function sample(tasks: number, start: number): MemorySample {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return { tasks, rssMb: mb(m.rss), heapMb: mb(m.heapUsed), seconds: (performance.now() - start) / 1000 };
}

export async function longRun(
  redisUrl: string,
  total: number,
  mode: SubmitMode = "batch",
  window = 20_000,
): Promise<MemoryFigures> {
  const triad = await InProcessTriad.start({ url: redisUrl });
  const c = triad.coordinator;
  const chunk = 1000;
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
    const tasks = Array.from({ length: n }, (_, i) => ({
      task_id: `${prefix}-${submitted + i}`,
      task_type: "echo",
      payload: { i: submitted + i },
    }));
    submitted += n;
    await c.submitTasks(tasks);
    for (const t of tasks) {
      void c.waitForTask(t.task_id, 600_000).then((done) => {
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
      if (upTo > submitted) await runEcho(c, upTo - submitted, mode, { idPrefix: `${triad.runId}-${tenth}` });
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
  return { tasks: total, seconds, perSecond: total / seconds, samples };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      redis: { type: "string" },
      tasks: { type: "string", default: "1000000" },
      mode: { type: "string", default: "batch" },
    },
  });
  const mode = values.mode as SubmitMode;
  if (!["one", "window", "batch"].includes(mode))
    throw new Error(`--mode: one, window or batch (got ${mode})`);
  const figures = await longRun(values.redis!, Number(values.tasks), mode);
  process.stdout.write(`${JSON.stringify({ memory: figures })}\n`);
  process.exit(0);
}
