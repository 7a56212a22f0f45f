import type { Logger } from "../core/logger.js";

/** Peers remembered at most (invariant 5): past it the oldest is forgotten (and may be warned of again). */
const MAX_PEERS = 10_000;

/**
 * Warns when a peer's heartbeat interval (which it says in each heartbeat) is not shorter than
 * the heartbeat timeout of the agent that hears it: that peer is declared dead between two of
 * its heartbeats, again and again, and its tasks are moved each time (a task can burn every
 * attempt so). Within one process resolveTiming refuses it; across processes only the listener
 * knows both values, so it says so, once per peer and interval.
 */
export class HeartbeatPace {
  private readonly warned = new Map<string, number>();

  constructor(
    private readonly log: Logger,
    private readonly o: { listener: string; peerTier: string; heartbeatTimeoutMs: number },
  ) {}

  heard(peerId: string, intervalMs: number | undefined): void {
    if (intervalMs === undefined || intervalMs < this.o.heartbeatTimeoutMs) return;
    if (this.warned.get(peerId) === intervalMs) return;
    this.warned.delete(peerId);
    this.warned.set(peerId, intervalMs);
    if (this.warned.size > MAX_PEERS) this.warned.delete(this.warned.keys().next().value!);
    const timeout = this.o.heartbeatTimeoutMs;
    this.log.warn(
      { [this.o.peerTier]: peerId, heartbeat_interval_ms: intervalMs, heartbeat_timeout_ms: timeout },
      `${this.o.peerTier} ${peerId} heartbeats every ${intervalMs} ms (its heartbeat interval), not less than this ${this.o.listener}'s heartbeat timeout of ${timeout} ms: it will be declared dead between its heartbeats and its tasks moved, again and again. Give the ${this.o.listener} a --heartbeat-timeout above ${intervalMs} ms (3 x the interval by default) or the ${this.o.peerTier} a --heartbeat-interval below ${timeout} ms`,
    );
  }
}
