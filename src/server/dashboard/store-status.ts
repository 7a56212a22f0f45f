import type { CoordinatorAgent } from "../../agents/index.js";

/** The store as the coordinator last found it, for the dashboard's header. */
export type StoreStatus = {
  reachable: boolean;
  /** When the outage began (this server's clock, ISO 8601); null while the store answers. */
  unreachable_since: string | null;
};

/**
 * From the coordinator's own outage tracking (StoreOutage: every command it sends, its periodic
 * ones included, says whether the store answered), so no extra store round trip per update.
 */
export function storeStatus(coordinator: CoordinatorAgent): StoreStatus {
  const downFor = coordinator.store.outage.downForMs;
  if (downFor === null) return { reachable: true, unreachable_since: null };
  return { reachable: false, unreachable_since: new Date(Date.now() - downFor).toISOString() };
}
