/** What `triad status` reads of an agent to decide its exit code. */
export type ListedAgent = {
  id: string;
  tier: string;
  status: string;
  parent: string | null;
  /** With status dead: it stopped gracefully. */
  stopped?: boolean;
  /** The coordinator asked, while it cannot reach its store: since when. */
  store_unreachable_since?: string;
};

/** Alive and heard: a dead, unknown (its distributor crashed) or stopped agent is not. */
const serving = (a: ListedAgent) => a.status === "idle" || a.status === "busy";

/**
 * Why the cluster cannot run a task now, or null when it can: some distributor is alive (holding
 * its lease: `recovering` does not) with a live worker under it. A crashed agent beside those is
 * reported, not a failure — its tasks are moved to the live ones — so `triad status` exits 1
 * only when it could not read the status or when this says the cluster cannot serve (the
 * coordinator asked cannot reach its store, or no distributor with a live worker).
 */
export function cannotServe(agents: ListedAgent[]): string | null {
  // Nothing is placed, committed or recorded while the coordinator asked cannot reach its store.
  const cut = agents.find((a) => a.tier === "coordinator" && a.store_unreachable_since !== undefined);
  if (cut !== undefined) return `${cut.id} cannot reach its store (since ${cut.store_unreachable_since})`;
  const distributors = agents.filter((a) => a.tier === "distributor");
  const live = new Set(distributors.filter(serving).map((d) => d.id));
  if (live.size === 0)
    return distributors.length === 0
      ? "no distributor has joined"
      : `no live distributor (${distributors.map((d) => `${d.id} ${d.stopped === true ? "stopped" : d.status}`).join(", ")})`;
  const working = agents.some((a) => a.tier === "worker" && serving(a) && live.has(String(a.parent)));
  return working ? null : "no live worker under a live distributor";
}
