// Backlogs: does anything cost more per task as open work piles up? One coordinator, one
// distributor and one worker (its 100 slots taken by a task that never ends) in this process;
// tasks are submitted one at a time, round after round, without ever ending, and each round
// reports the cost of a submit, the longest the event loop stood still, and the heap. Flat
// columns are the point: every figure of a later round should be that of the first.
//   npm run build && npx tsx bench/backlog.ts [--tasks 20000] [--rounds 5] [--memory] [--only deps,unplaced]
// Kinds of backlog: unplaced (no distributor to take them), queued (held by the distributor,
// waiting for a worker slot), deps (waiting on a dependency that never ends), delayed (run_at in
// an hour), expiring (expires_at in an hour, queued), priority (priorities 0-9, queued), waiters
// (queued, each awaited with waitForTask).

import { benchFlags } from "./lib/flags.js";
import { BenchRedis } from "./lib/redis.js";
import { triad } from "./lib/triad.js";

const KINDS = ["unplaced", "queued", "deps", "delayed", "expiring", "priority", "waiters"] as const;
type Kind = (typeof KINDS)[number];

const argv = benchFlags(import.meta.url, {
  tasks: { kind: "count", default: 20_000, min: 1, help: "tasks submitted a round" },
  rounds: { kind: "count", default: 5, min: 1, help: "rounds, the backlog growing" },
  memory: { kind: "boolean", help: "on memory:// instead of a redis-server of its own" },
  only: { kind: "list", choices: KINDS, help: "some kinds of backlog, default all" },
});
const N = argv.tasks;
const ROUNDS = argv.rounds;
const kinds = argv.only ?? [...KINDS];

const HOUR_MS = 3_600_000;
/** The handler of the task that holds the worker's slots: it ends only when the run stops. */
const never = () => new Promise<never>(() => {});

type Round = { backlog: number; submitUs: number; lagMs: number; heapMb: number };

async function measure(kind: Kind, url: string): Promise<Round[]> {
  const router = new triad.A2ARouter();
  const redis = { url };
  const coordinator = new triad.CoordinatorAgent({ agentId: `c-${kind}`, redis, a2a: { router } });
  await coordinator.initialize();
  const agents: Array<{ cleanup(): Promise<void> }> = [];
  if (kind !== "unplaced") {
    const distributor = new triad.DistributorAgent({
      agentId: `d-${kind}`,
      coordinatorId: coordinator.agentId,
      redis,
      a2a: { router },
    });
    await distributor.initialize();
    const worker = new triad.WorkerAgent({
      agentId: `w-${kind}`,
      distributorId: distributor.agentId,
      a2a: { router },
      concurrency: 100,
      handlers: { hold: never },
    });
    await worker.initialize();
    agents.push(worker, distributor);
    while (coordinator.core.directory.healthy().every((d) => d.capacity === 0))
      await new Promise((r) => setTimeout(r, 20));
    // Every slot taken for good: whatever comes next stays open.
    await coordinator.submitTasks(
      Array.from({ length: 100 }, (_, i) => ({
        task_id: `hold-${kind}-${i}`,
        task_type: "hold",
        payload: {},
      })),
    );
  }
  const blocker = `blocker-${kind}`;
  if (kind === "deps") await coordinator.submitTask({ task_id: blocker, task_type: "hold", payload: {} });

  let lag = 0;
  let last = performance.now();
  const watch = setInterval(() => {
    const now = performance.now();
    lag = Math.max(lag, now - last - 50);
    last = now;
  }, 50);
  const rounds: Round[] = [];
  try {
    for (let r = 0; r < ROUNDS; r++) {
      lag = 0;
      const started = performance.now();
      for (let i = 0; i < N; i++) {
        const task: Record<string, unknown> = {
          task_id: `${kind}-${r}-${i}`,
          task_type: kind === "unplaced" || kind === "deps" || kind === "delayed" ? "echo" : "hold",
          payload: { i },
        };
        if (kind === "deps") task.depends_on = [blocker];
        if (kind === "delayed") task.run_at = new Date(Date.now() + HOUR_MS).toISOString();
        if (kind === "expiring") task.expires_at = new Date(Date.now() + HOUR_MS).toISOString();
        if (kind === "priority") task.priority = i % 10;
        if (!(await coordinator.submitTask(task))) throw new Error(`${kind}: task ${task.task_id} refused`);
        if (kind === "waiters") void coordinator.waitForTask(task.task_id as string, 10 * HOUR_MS);
      }
      const submitUs = ((performance.now() - started) * 1000) / N;
      // A second in which the backlog just sits there: the monitor's ticks and sweeps run over it.
      await new Promise((r) => setTimeout(r, 1000));
      const heapMb = process.memoryUsage().heapUsed / 1e6;
      rounds.push({ backlog: (r + 1) * N, submitUs, lagMs: lag, heapMb });
      console.log(
        `  ${kind}, ${((r + 1) * N).toLocaleString("en-US")} open: submit ${submitUs.toFixed(0)} us, ` +
          `loop stood still at most ${lag.toFixed(0)} ms, heap ${heapMb.toFixed(0)} MB`,
      );
    }
  } finally {
    clearInterval(watch);
    for (const agent of agents) await agent.cleanup();
    await coordinator.cleanup();
  }
  return rounds;
}

const server = argv.memory ? undefined : await BenchRedis.start();
const url = server ? server.url : "memory://";
console.log(`backlogs on ${server ? "redis-server" : "memory://"}: ${ROUNDS} rounds of ${N} tasks each`);
const table: string[] = [];
try {
  for (const kind of kinds) {
    await server?.flush();
    const rounds = await measure(kind, url);
    const cells = (f: (r: Round) => string) => rounds.map(f).join(" / ");
    table.push(
      `| ${kind} | ${cells((r) => r.submitUs.toFixed(0))} | ${cells((r) => r.lagMs.toFixed(0))} | ${cells((r) => r.heapMb.toFixed(0))} |`,
    );
  }
} finally {
  await server?.stop();
}
const sizes = Array.from({ length: ROUNDS }, (_, r) => ((r + 1) * N).toLocaleString("en-US")).join(" / ");
console.log(`\n| backlog (${sizes} open) | submit µs | longest loop stall ms | heap MB |`);
console.log("| --- | --- | --- | --- |");
for (const row of table) console.log(row);
process.exit(0);
