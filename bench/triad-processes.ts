import { randomBytes } from "node:crypto";
import { BenchChild } from "./lib/child.js";
import type { RunFigures } from "./lib/stats.js";
import type { SubmitMode, Topology } from "./triad-inprocess.js";

let runs = 0;

/**
 * The three tiers as separate OS processes talking HTTP on loopback (bench/tier-process.ts):
 * one coordinator process, which also runs the load through its public API, one process per
 * distributor and one per worker. Same Redis, same workload as the in-process runs.
 */
export class ProcessTriad {
  private constructor(
    private readonly coordinator: BenchChild,
    private readonly others: Array<{ role: "distributor" | "worker"; child: BenchChild }>,
    private readonly topology: Topology,
  ) {}

  /** CPU seconds used so far by each tier's processes together. */
  cpuByTier(): Record<"coordinator" | "distributor" | "worker", number> {
    const out = { coordinator: this.coordinator.cpuSeconds(), distributor: 0, worker: 0 };
    for (const { role, child } of this.others) out[role] += child.cpuSeconds();
    return out;
  }

  /** Each process's id, by tier (one distributor and one worker: the last of each role). */
  pids(): Record<"coordinator" | "distributor" | "worker", number> {
    const out = { coordinator: this.coordinator.pid, distributor: Number.NaN, worker: Number.NaN };
    for (const { role, child } of this.others) out[role] = child.pid;
    return out;
  }

  static async start(redisUrl: string, topology: Topology): Promise<ProcessTriad> {
    const run = `p${++runs}-${process.pid}`;
    const env = { TRIAD_SECRET: randomBytes(24).toString("hex") };
    const linger = [
      ...(topology.batchLingerMs === undefined ? [] : ["--linger", String(topology.batchLingerMs)]),
      ...(topology.posts ? ["--posts"] : []),
    ];
    const children: BenchChild[] = [];
    const roles: Array<{ role: "distributor" | "worker"; child: BenchChild }> = [];
    try {
      const coordinatorId = `coordinator-${run}`;
      const coordinator = new BenchChild(
        ["--role", "coordinator", "--id", coordinatorId, "--redis", redisUrl, ...linger],
        env,
      );
      children.push(coordinator);
      const coordinatorUrl = (await coordinator.next("ready", 30_000)).url as string;
      const distributors = await Promise.all(
        Array.from({ length: topology.distributors }, async (_, d) => {
          const id = `distributor-${run}-${d}`;
          const child = new BenchChild(
            [
              "--role",
              "distributor",
              "--id",
              id,
              "--coordinator",
              `${coordinatorId}=${coordinatorUrl}`,
              "--redis",
              redisUrl,
              ...linger,
            ],
            env,
          );
          children.push(child);
          roles.push({ role: "distributor", child });
          return { id, d, url: (await child.next("ready", 30_000)).url as string };
        }),
      );
      await Promise.all(
        distributors.flatMap(({ id, url, d }) =>
          Array.from({ length: topology.workersPerDistributor }, async (_, w) => {
            const child = new BenchChild(
              [
                "--role",
                "worker",
                "--id",
                `worker-${run}-${d}-${w}`,
                "--distributor",
                `${id}=${url}`,
                "--concurrency",
                String(topology.concurrency),
                ...linger,
              ],
              env,
            );
            children.push(child);
            roles.push({ role: "worker", child });
            await child.next("ready", 30_000);
          }),
        ),
      );
      return new ProcessTriad(coordinator, roles, topology);
    } catch (err) {
      await Promise.all(children.map((c) => c.stop()));
      throw err;
    }
  }

  /**
   * Runs the workload in the coordinator's process; `cpu` is what each tier's processes used
   * during it, in microseconds per task (where the bottleneck is).
   */
  async run(
    n: number,
    mode: SubmitMode,
    tag: string,
    batchSize?: number,
  ): Promise<RunFigures & { cpuByTierUs: Record<string, number> }> {
    const before = this.cpuByTier();
    this.coordinator.send({
      cmd: "run",
      n,
      mode,
      tag,
      distributors: this.topology.distributors,
      ...(batchSize ? { batchSize } : {}),
    });
    const line = await this.coordinator.next("result");
    if (line.result === null) throw new Error(`the coordinator process failed: ${String(line.error)}`);
    const after = this.cpuByTier();
    const cpuByTierUs = Object.fromEntries(
      Object.entries(after).map(([tier, s]) => [
        tier,
        Math.round(((s - before[tier as keyof typeof before]) * 1e6) / n),
      ]),
    );
    return { ...(line.result as RunFigures), cpuByTierUs };
  }

  async stop(): Promise<void> {
    await Promise.all(this.others.map(({ child }) => child.stop()));
    await this.coordinator.stop();
  }
}
