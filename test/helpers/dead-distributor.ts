import type { CoordinatorAgent } from "../../src/index.js";
import type { TestCluster } from "./cluster.js";
import type { clusterPerTest } from "./engines.js";
import { until } from "./wait.js";

/** The coordinator's shard leases as held in memory (ShardLeases.held). */
export type HeldLeases = Map<number, { value: string; until: number }>;

/** The coordinator's shard leases (ShardLeases): those held, and the hook told of late renewals. */
export type ShardLeases = { held: HeldLeases; o: { renewedLate: (shards: number[]) => void } };

/**
 * A cluster whose `gated` tasks wait for release(): three of them (`ids`) held by d1 (and its
 * w1), for a test that kills d1 and looks at how its tasks are taken off it. `untilMs`: how long
 * to wait for d1 to hold them (the `until` default when not given).
 */
export async function gatedTasksOnD1(
  cluster: ReturnType<typeof clusterPerTest>,
  options: TestCluster["options"] = {},
  untilMs?: number,
) {
  let release = () => {};
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const c = cluster({
    ...options,
    handlers: {
      gated: async () => {
        await gate;
        return { ok: true };
      },
    },
  });
  const d1 = await c.startOne();
  const [coordinator, w1] = [c.coordinator, c.workers.get("w1")!];
  const ids = ["a", "b", "c"].map((n) => c.id(n));
  for (const id of ids) await coordinator.submitTask({ task_id: id, task_type: "gated", payload: {} });
  await until("d1 holds the tasks", () => d1.core.heartbeat(null).load === ids.length, untilMs);
  return { c, coordinator, d1, w1, ids, release };
}

/**
 * gatedTasksOnD1, with the coordinator's monitor stalled past every shard lease when it declares
 * d1 dead (lapsedAtDeath() says it did): a loaded machine's stall, the renewal not yet through.
 */
export async function stalledAtDeath(
  cluster: ReturnType<typeof clusterPerTest>,
  options: TestCluster["options"] = {},
  untilMs?: number,
) {
  const tasks = await gatedTasksOnD1(cluster, options, untilMs);
  const { coordinator, d1 } = tasks;
  const leases = (coordinator.core as unknown as { cluster: { leases: ShardLeases } }).cluster.leases;
  const { held } = leases;
  const directory = coordinator.core.directory;
  const expire = directory.expire.bind(directory);
  let lapsedAtDeath = false;
  directory.expire = (timeoutMs) => {
    const dead = expire(timeoutMs);
    if (dead.some((d) => d.id === d1.agentId)) {
      for (const lease of held.values()) lease.until = 0; // the stall outlasted every lease here
      lapsedAtDeath = true;
    }
    return dead;
  };
  return { ...tasks, leases, held, lapsedAtDeath: () => lapsedAtDeath };
}

/** The ids of the tasks the coordinator notes as reassigned (its `reassigned` event), in order. */
export function recordReassigned(coordinator: CoordinatorAgent): string[] {
  const reassigned: string[] = [];
  const events = (
    coordinator.core as unknown as { o: { events: { reassigned?: (...a: unknown[]) => void } } }
  ).o.events;
  const onReassigned = events.reassigned;
  events.reassigned = (taskId, ...rest) => {
    reassigned.push(String(taskId));
    onReassigned?.(taskId, ...rest);
  };
  return reassigned;
}
