// The distributor's queue alone: what a task costs to push and to take, the pump's way (take of
// 64 with a `fits` that takes everything), in ns a task, for a pool of one type and for a mix of
// four. Give --dist an older build to compare (one without `fits` ignores it: the same work).
//   npm run build && npx tsx bench/dispatch-queue.ts [--dist DIR] [--tasks 200000] [--rounds 5]
import { benchFlags } from "./lib/flags.js";

const argv = benchFlags(import.meta.url, {
  dist: { kind: "string", default: "dist", value: "DIR", help: "the build, relative to the repository" },
  tasks: { kind: "count", default: 200_000, min: 1, help: "tasks a round" },
  rounds: { kind: "count", default: 5, min: 1, help: "rounds" },
});
const N = argv.tasks;
const ROUNDS = argv.rounds;
const dir = argv.dist;
// A computed specifier: the type check (which runs before any build) must not look for dist/.
const { DispatchQueue } = (await import(
  ["..", dir, "agents", "distributor", "dispatch-queue.js"].join("/")
)) as { DispatchQueue: new () => Queue };

type Task = { task_id: string; task_type: string };
type Queue = {
  size: number;
  push(task: Task): void;
  take(max: number, now?: number, fits?: (task: Task) => boolean): Task[];
};

const task = (i: number, types: number) => ({
  task_id: `t${i}`,
  task_type: `type${i % types}`,
  payload: {},
  status: "pending",
  result: null,
  error: null,
  attempts: 0,
  assigned_to: null,
  created_at: "2026-12-06T00:00:00.000Z",
  started_at: null,
  completed_at: null,
});

for (const types of [1, 4]) {
  const tasks = Array.from({ length: N }, (_, i) => task(i, types));
  const figures: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const q = new DispatchQueue();
    const t0 = performance.now();
    for (const t of tasks) q.push(t);
    while (q.size > 0) q.take(64, Date.now(), () => true);
    figures.push(((performance.now() - t0) * 1e6) / N);
  }
  figures.sort((a, b) => a - b);
  const median = figures[Math.floor(figures.length / 2)]!;
  console.log(
    `${dir}: ${types} type${types > 1 ? "s" : ""}, ${N} tasks: ${median.toFixed(0)} ns a task (median of ${ROUNDS}; rounds ${figures.map((f) => f.toFixed(0)).join(", ")})`,
  );
}
