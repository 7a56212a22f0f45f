// A cancel cascade down a deep chain: how long cancelTask takes to end every level.
//
//   npx tsx bench/cascade-cancel.ts [--depth 200] [--rounds 5]
//
// A chain of `depth` tasks (each waits on the one above it; the head runs and holds), then one
// cancelTask of the head: the figure is the time the call takes (it returns once the cascade it
// walked has ended every level) and the levels per second that makes. On a redis-server of its
// own and on memory://, one coordinator, distributor and worker in this process; medians reported.

import { benchFlags } from "./lib/flags.js";
import { BenchRedis } from "./lib/redis.js";
import { fmt, median, table } from "./lib/stats.js";
import { triad } from "./lib/triad.js";
import { untilReady } from "./triad-inprocess.js";

const argv = benchFlags(import.meta.url, {
  depth: { kind: "count", default: 200, min: 1, help: "tasks in the chain" },
  rounds: { kind: "count", default: 5, min: 1, help: "rounds on each store" },
});
const DEPTH = argv.depth;
const ROUNDS = argv.rounds;
const log = (...parts: unknown[]) => process.stderr.write(`${parts.join(" ")}\n`);

let run = 0;

/** One round: the ms cancelTask of the chain's head took, every level checked ended after. */
async function cancelChain(url: string): Promise<number> {
  const id = `cc${++run}-${process.pid}`;
  const router = new triad.A2ARouter();
  const redis = { url, keyPrefix: `${id}:` };
  const coordinator = new triad.CoordinatorAgent({ agentId: `c-${id}`, redis, a2a: { router } });
  await coordinator.initialize();
  const distributor = new triad.DistributorAgent({
    agentId: `d-${id}`,
    coordinatorId: coordinator.agentId,
    redis,
    a2a: { router },
  });
  await distributor.initialize();
  let headStarted = false;
  const worker = new triad.WorkerAgent({
    agentId: `w-${id}`,
    distributorId: distributor.agentId,
    a2a: { router },
    handlers: {
      hold: async () => {
        headStarted = true;
        await new Promise((r) => setTimeout(r, 60_000).unref());
        return null;
      },
      step: () => null,
    },
  });
  await worker.initialize();
  await untilReady(coordinator, 1);
  try {
    const link = (i: number) => `${id}-link-${i}`;
    await coordinator.submitTasks([
      { task_id: link(0), task_type: "hold" },
      ...Array.from({ length: DEPTH - 1 }, (_, k) => ({
        task_id: link(k + 1),
        task_type: "step",
        depends_on: [link(k)],
      })),
    ]);
    while (!headStarted) await new Promise((r) => setTimeout(r, 10));
    const t0 = performance.now();
    await coordinator.cancelTask(link(0));
    const ms = performance.now() - t0;
    const last = await coordinator.waitForTask(link(DEPTH - 1), 30_000);
    if (last?.status !== "abandoned") throw new Error(`the chain's last task is ${last?.status}`);
    return ms;
  } finally {
    await worker.cleanup();
    await distributor.cleanup();
    await coordinator.cleanup();
  }
}

const redis = await BenchRedis.start();
try {
  const rows: string[][] = [];
  for (const [name, url] of [
    ["redis", redis.url],
    ["memory://", `memory://cascade-${process.pid}`],
  ] as const) {
    const times: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      times.push(await cancelChain(url));
      log(`${name} round ${r + 1}: ${fmt.ms(times.at(-1)!)} ms`);
    }
    const ms = median(times);
    rows.push([name, String(DEPTH), fmt.ms(ms), fmt.rate((DEPTH / ms) * 1000)]);
  }
  console.log(table(["store", "depth", "cancelTask ms (median)", "levels/s"], rows));
} finally {
  await redis.stop();
}
