import type { CoordinatorView } from "./coordinator-peers.js";

/** A coordinator seen alive that is gone: its last view, and how it went. */
export type GoneCoordinator = {
  view: CoordinatorView;
  /** It said it stops (a graceful stop: its registry entry removed, or its view says `stopping`); else it crashed. */
  stopped: boolean;
  /** Monotonic ms when it was seen gone. */
  since: number;
};

/**
 * The other coordinators that this one saw alive and then gone (several coordinators): listed
 * as dead for the dead-agent retention (timing.deadRetentionMs), as dead distributors and
 * workers are, then forgotten. One that comes back is alive again. Kept in memory only: a
 * coordinator that starts lists none of those gone before it.
 */
export class GoneCoordinators {
  private readonly gone = new Map<string, GoneCoordinator>();

  constructor(private readonly retentionMs: () => number) {}

  /** Coordinator `view.id`, alive at the last look, is gone now. */
  went(view: CoordinatorView, stopped: boolean, now: number): void {
    this.gone.set(view.id, { view, stopped, since: now });
  }

  /** `id` is alive (again). */
  alive(id: string): void {
    this.gone.delete(id);
  }

  /** Forgets those gone longer than the retention. */
  prune(now: number): void {
    const retention = this.retentionMs();
    for (const [id, g] of this.gone) if (now - g.since > retention) this.gone.delete(id);
  }

  list(): GoneCoordinator[] {
    return [...this.gone.values()];
  }
}
