// Bytes allocated per task in one process (coordinator, distributor and worker on a real Redis),
// by allocation site: V8's sampling heap profiler, keeping the samples of objects the garbage
// collector has already freed (what GC time follows), over a measured run after a warm-up.
// Counts move far less than CPU time on a shared machine, so a change that allocates less shows
// here when an A/B of rates cannot tell it from the host's drift.
//
//   npm run build && npx tsx bench/alloc-per-task.ts --mode window --tasks 20000 --top 30
//
// TRIAD_BENCH_DIST=<folder> measures another build (bench/lib/triad.ts); run two builds in turn.
import { Session } from "node:inspector/promises";
import { benchFlags } from "./lib/flags.js";
import { BenchRedis } from "./lib/redis.js";
import { InProcessTriad, runEcho, SUBMIT_MODES } from "./triad-inprocess.js";

const argv = benchFlags(import.meta.url, {
  mode: {
    kind: "string",
    default: "window",
    choices: SUBMIT_MODES,
    help: "one submit at a time, 100 in flight, or batches",
  },
  tasks: { kind: "count", default: 20000, min: 1, help: "tasks measured" },
  warm: { kind: "count", default: 20000, help: "tasks before them, not measured" },
  top: { kind: "count", default: 30, min: 1, help: "allocation sites listed" },
});
const mode = argv.mode;
const n = argv.tasks;

type ProfileNode = {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
};

const redis = await BenchRedis.start();
try {
  const triad = await InProcessTriad.start({ url: redis.url });
  try {
    await runEcho(triad.coordinator, argv.warm, mode, { idPrefix: `${triad.runId}-warm` });
    const session = new Session();
    session.connect();
    await session.post("HeapProfiler.enable");
    await session.post("HeapProfiler.startSampling", {
      samplingInterval: 4096,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    const figures = await runEcho(triad.coordinator, n, mode, { idPrefix: `${triad.runId}-run` });
    const { profile } = (await session.post("HeapProfiler.stopSampling")) as {
      profile: { head: ProfileNode };
    };
    session.disconnect();
    const bySite = new Map<string, number>();
    let total = 0;
    const walk = (node: ProfileNode) => {
      const f = node.callFrame;
      const site = `${f.functionName || "(anonymous)"} ${f.url.replace(/^.*\/(src|dist|node_modules)\//, "$1/")}:${f.lineNumber + 1}`;
      total += node.selfSize;
      bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
      for (const child of node.children) walk(child);
    };
    walk(profile.head);
    console.log(
      `${mode}, ${n} tasks: ${Math.round(total / n)} bytes allocated a task, node CPU ${figures.cpuUs.toFixed(1)} us a task (with the profiler on)`,
    );
    const top = [...bySite].sort((a, b) => b[1] - a[1]).slice(0, argv.top);
    for (const [site, bytes] of top) console.log(`${String(Math.round(bytes / n)).padStart(7)}  ${site}`);
  } finally {
    await triad.stop();
  }
} finally {
  await redis.stop();
}
process.exit(0);
