import type { CoordinatorAgent, DistributorAgent, RedisConfig, WorkerAgent } from "../src/index.js";
import { type ResendCount, submitInChunks, submitOne } from "./lib/resend.js";
import { LatencyRecorder, type RunFigures } from "./lib/stats.js";
import { triad } from "./lib/triad.js";

/** How many agents of each tier; `batchLingerMs` and `busyAssignLingerMs` override the agents' timing. */
export type Topology = {
  distributors: number;
  workersPerDistributor: number;
  concurrency: number;
  batchLingerMs?: number;
  busyAssignLingerMs?: number;
  /** The in-process router signs and verifies every message (A2ARouterOptions.signed; default unsigned). */
  signed?: boolean;
  /** Between processes: a POST per batch instead of message streams (a2a.streams false). */
  posts?: boolean;
};

/** One worker at concurrency 100: the same as BullMQ's one Worker at concurrency 100. */
export const DEFAULT_TOPOLOGY: Topology = { distributors: 1, workersPerDistributor: 1, concurrency: 100 };

/**
 * "one": each task its own submitTask, awaited before the next; "window": each task its own
 * submitTask, 100 of them in flight at a time; "batch": submitTasks of `batchSize`.
 */
export const SUBMIT_MODES = ["one", "window", "batch"] as const;
export type SubmitMode = (typeof SUBMIT_MODES)[number];

/** Calls in flight in the "window" modes (Triad and BullMQ alike). */
export const WINDOW = 100;

let runs = 0;

/** Coordinator, distributors and workers of one benchmark run, in this process, on a real Redis. */
export class InProcessTriad {
  private constructor(
    readonly coordinator: CoordinatorAgent,
    private readonly agents: Array<DistributorAgent | WorkerAgent>,
    readonly runId: string,
  ) {}

  static async start(redis: RedisConfig, topology: Topology = DEFAULT_TOPOLOGY): Promise<InProcessTriad> {
    const runId = `r${++runs}-${process.pid}`;
    const router = new triad.A2ARouter({ signed: topology.signed ?? false });
    const timing = {
      ...(topology.batchLingerMs === undefined ? {} : { batchLingerMs: topology.batchLingerMs }),
      ...(topology.busyAssignLingerMs === undefined
        ? {}
        : { busyAssignLingerMs: topology.busyAssignLingerMs }),
    };
    const coordinator = new triad.CoordinatorAgent({
      agentId: `coordinator-${runId}`,
      redis,
      a2a: { router },
      timing,
    });
    await coordinator.initialize();
    const agents: Array<DistributorAgent | WorkerAgent> = [];
    for (let d = 0; d < topology.distributors; d++) {
      const distributorId = `distributor-${runId}-${d}`;
      const distributor = new triad.DistributorAgent({
        agentId: distributorId,
        coordinatorId: coordinator.agentId,
        redis,
        a2a: { router },
        timing,
      });
      await distributor.initialize();
      agents.push(distributor);
      for (let w = 0; w < topology.workersPerDistributor; w++) {
        const worker = new triad.WorkerAgent({
          agentId: `worker-${runId}-${d}-${w}`,
          distributorId,
          a2a: { router },
          concurrency: topology.concurrency,
          timing,
        });
        await worker.initialize();
        agents.push(worker);
      }
    }
    const started = new InProcessTriad(coordinator, agents, runId);
    await started.ready(topology.distributors);
    return started;
  }

  private async ready(distributors: number): Promise<void> {
    await untilReady(this.coordinator, distributors);
  }

  async stop(): Promise<void> {
    for (const agent of [...this.agents].reverse()) await agent.cleanup();
    await this.coordinator.cleanup();
  }
}

/** Until the coordinator knows `distributors` healthy distributors with room (their first heartbeats). */
export async function untilReady(coordinator: CoordinatorAgent, distributors: number, timeoutMs = 20_000) {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const known = coordinator.core.directory.healthy().filter((d) => d.capacity > 0);
    if (known.length >= distributors) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(
    `the coordinator did not see ${distributors} distributor(s) with workers within ${timeoutMs} ms`,
  );
}

/**
 * Pushes `n` no-op `echo` tasks through the public API of `coordinator` and times them end to
 * end: from the first submit to the last terminal record, and per task from its submit to its
 * waitForTask resolving. Every result is checked.
 */
export async function runEcho(
  coordinator: CoordinatorAgent,
  n: number,
  mode: SubmitMode,
  options: { batchSize?: number; idPrefix: string; resend?: ResendCount },
): Promise<RunFigures> {
  const resend = options.resend;
  const submit = (task: { task_id: string; task_type: string; payload: { i: number } }) =>
    resend === undefined ? coordinator.submitTask(task) : submitOne(coordinator, task, resend);
  const latency = new LatencyRecorder(n);
  const batchSize = options.batchSize ?? 1000;
  let failures = 0;
  let finished = 0;
  let allDone: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    allDone = resolve;
  });
  const settle = (started: number, i: number) => (task: Record<string, unknown> | null) => {
    latency.record(performance.now() - started);
    const result = task?.result as { i?: number } | undefined;
    if (task?.status !== "completed" || result?.i !== i) failures++;
    if (++finished === n) allDone();
  };
  const start = performance.now();
  const cpu = process.cpuUsage();
  if (mode === "one") {
    for (let i = 0; i < n; i++) {
      const id = `${options.idPrefix}-${i}`;
      const t = performance.now();
      if (!(await submit({ task_id: id, task_type: "echo", payload: { i } }))) failures++;
      void coordinator.waitForTask(id, 120_000).then(settle(t, i));
    }
  } else if (mode === "window") {
    let next = 0;
    const submitter = async () => {
      while (next < n) {
        const i = next++;
        const id = `${options.idPrefix}-${i}`;
        const t = performance.now();
        if (!(await submit({ task_id: id, task_type: "echo", payload: { i } }))) failures++;
        void coordinator.waitForTask(id, 120_000).then(settle(t, i));
      }
    };
    await Promise.all(Array.from({ length: WINDOW }, submitter));
  } else {
    for (let from = 0; from < n; from += batchSize) {
      const t = performance.now();
      const tasks: Array<{ task_id: string; task_type: string; payload: { i: number } }> = [];
      for (let i = from; i < Math.min(n, from + batchSize); i++) {
        tasks.push({ task_id: `${options.idPrefix}-${i}`, task_type: "echo", payload: { i } });
      }
      const accepted =
        resend === undefined
          ? await coordinator.submitTasks(tasks)
          : await submitInChunks(coordinator, tasks, resend, batchSize).then(() => tasks.map(() => true));
      accepted.forEach((ok, k) => {
        if (!ok) failures++;
        void coordinator.waitForTask(tasks[k]!.task_id, 120_000).then(settle(t, from + k));
      });
    }
  }
  await done;
  const seconds = (performance.now() - start) / 1000;
  if (failures > 0) throw new Error(`${failures} of ${n} tasks did not complete with their own result`);
  const used = process.cpuUsage(cpu);
  return { perSecond: n / seconds, seconds, n, cpuUs: (used.user + used.system) / n, ...latency.summary() };
}
