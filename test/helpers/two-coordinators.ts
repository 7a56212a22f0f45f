import { expect } from "vitest";
import type { CoordinatorAgentOptions } from "../../src/agents/coordinator/coordinator-agent.js";
import { DEFAULT_SHARDS } from "../../src/agents/ledger/shards.js";
import type { WorkerAgentOptions } from "../../src/agents/worker/worker-agent.js";
import {
  CoordinatorAgent,
  DistributorAgent,
  type RedisConfig,
  type Timing,
  WorkerAgent,
} from "../../src/index.js";
import { FAST, FaultyRouter } from "./cluster.js";
import { until } from "./wait.js";

/**
 * Two coordinators on one store and one router, with one distributor that reports to the
 * second (the first only once the second stops answering) and its one worker: the set-up of
 * the tests of what several coordinators count, hear and hand over between them.
 */

/**
 * FAST, but dead after 3 s of silence instead of 400 ms (leases alike): on a loaded machine a
 * 400 ms stall of one process had the others list it dead, take its shards and move its
 * distributor, in tests of what is counted and heard while both coordinators live.
 */
export const PATIENT: Timing = { ...FAST, heartbeatTimeoutMs: 3000, leaseTtlMs: 3000 };

/** How long the set-up waits for the agents to find each other (start-ups are slow under load). */
const SETTLE_MS = 30_000;

export type StandbyPair = {
  c1: CoordinatorAgent;
  c2: CoordinatorAgent;
  d: DistributorAgent;
  w: WorkerAgent;
};

/**
 * Two coordinators `c1-<run>` and `c2-<run>` on one store and router, and one distributor
 * `<distributorId>-<run>` reporting to c2 (c1 only once c2 stops answering) with one worker
 * `<workerId>-<run>`; each started, its cleanup pushed on `stops`. Resolves once c2 knows the
 * distributor with its worker's room.
 */
export async function standbyPair(o: {
  router: FaultyRouter;
  redis: RedisConfig;
  run: string;
  stops: Array<() => Promise<unknown>>;
  coordinator?: Partial<CoordinatorAgentOptions>;
  worker?: Partial<WorkerAgentOptions>;
  distributorId?: string;
  workerId?: string;
  /** FAST unless given (the coordinators' may be set in `coordinator`). */
  timing?: Timing;
}): Promise<StandbyPair> {
  const { router, redis, run, stops } = o;
  const timing = o.timing ?? FAST;
  const [c1, c2] = ["c1", "c2"].map(
    (name) =>
      new CoordinatorAgent({
        agentId: `${name}-${run}`,
        redis,
        a2a: { router },
        timing,
        ...o.coordinator,
      }),
  ) as [CoordinatorAgent, CoordinatorAgent];
  await Promise.all([c1.initialize(), c2.initialize()]);
  stops.push(
    () => c1.cleanup(),
    () => c2.cleanup(),
  );
  const d = new DistributorAgent({
    agentId: `${o.distributorId ?? "d"}-${run}`,
    coordinatorId: c2.agentId,
    coordinators: [{ id: c1.agentId }],
    redis,
    a2a: { router },
    timing,
  });
  await d.initialize();
  stops.push(() => d.cleanup());
  const w = new WorkerAgent({
    agentId: `${o.workerId ?? "w"}-${run}`,
    distributorId: d.agentId,
    a2a: { router },
    timing,
    ...o.worker,
  });
  await w.initialize();
  stops.push(() => w.cleanup());
  await until(
    "c2 knows the distributor with its worker",
    () => (c2.core.directory.get(d.agentId)?.capacity ?? 0) > 0,
    SETTLE_MS,
  );
  return { c1, c2, d, w };
}

export type TwoCoordinators<R extends FaultyRouter = FaultyRouter> = StandbyPair & {
  router: R;
  /** Another coordinator `<name>-<run>` on the same store and router (not started). */
  coordinator: (name: string) => CoordinatorAgent;
};

/**
 * A standbyPair on a router of its own (distributor `d1-<run>`, worker `w1-<run>`), once each
 * coordinator sees the other alive and knows the distributor with its worker's room. Every
 * agent, and every coordinator made by `coordinator`, runs on PATIENT timing. `router` is a new
 * FaultyRouter unless given (a subclass that holds or drops some messages).
 */
export async function twoCoordinators<R extends FaultyRouter = FaultyRouter>(
  redis: RedisConfig,
  stops: Array<() => Promise<unknown>>,
  router: R = new FaultyRouter() as R,
): Promise<TwoCoordinators<R>> {
  const run = Math.random().toString(36).slice(2, 7);
  const pair = await standbyPair({
    router,
    redis,
    run,
    stops,
    distributorId: "d1",
    workerId: "w1",
    timing: PATIENT,
  });
  const { c1, c2, d } = pair;
  await until(
    "each sees the other and the distributor",
    () =>
      [c1, c2].every(
        (c) => c.cluster.peers.hasOthers && (c.core.directory.get(d.agentId)?.capacity ?? 0) > 0,
      ),
    SETTLE_MS,
  );
  const coordinator = (name: string) =>
    new CoordinatorAgent({ agentId: `${name}-${run}`, redis, a2a: { router }, timing: PATIENT });
  return { ...pair, router, coordinator };
}

/**
 * Waits until `a` and `b` own half the shards each (8 of 16): until then one of them may own
 * them all (the other's first lease round still to come), and place and count every task.
 */
export async function shardsSplit(a: CoordinatorAgent, b: CoordinatorAgent): Promise<void> {
  await until(
    `the two coordinators own ${DEFAULT_SHARDS / 2} shards each`,
    () => [a, b].every((c) => c.cluster.owned().length === DEFAULT_SHARDS / 2),
    SETTLE_MS,
  );
}

/**
 * The first of `<prefix>-0` … `<prefix>-199` in a shard `owner` owns now (and `other` does not,
 * if given): after shardsSplit, a task whose owner's steps only `owner` takes.
 */
export function idOwnedBy(owner: CoordinatorAgent, prefix: string, other?: CoordinatorAgent): string {
  const id = Array.from({ length: 200 }, (_, i) => `${prefix}-${i}`).find(
    (t) =>
      owner.cluster.ownerValue(t) !== null && (other === undefined || other.cluster.ownerValue(t) === null),
  );
  expect(id, `an id of a shard ${owner.agentId} owns`).toBeDefined();
  return id!;
}
