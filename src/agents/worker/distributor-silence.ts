import type { Logger } from "../../core/logger.js";

/**
 * When a worker last heard from its distributor, and what it says of a silence: one warning once
 * the distributor has not answered for its heartbeat timeout (the measure the distributor judges
 * its workers by), and one line when it answers again — not a line per failed heartbeat. An
 * orphaned worker (its distributor gone for good) said nothing at all.
 */
export class DistributorSilence {
  /** When the distributor last accepted a message of ours or sent one (performance.now()). */
  private heardAt = performance.now();
  /** Whether the warning is out (so the next answer says it is back). */
  private warned = false;

  constructor(
    private readonly o: {
      log: Logger;
      distributorId: string;
      heartbeatTimeoutMs: number;
      heartbeatIntervalMs: number;
    },
  ) {}

  /** The distributor accepted a message of ours, or sent one. */
  heard(): void {
    const now = performance.now();
    if (this.warned) {
      this.warned = false;
      this.o.log.warn(
        { distributor: this.o.distributorId, silent_ms: Math.round(now - this.heardAt) },
        `distributor ${this.o.distributorId} answers again`,
      );
    }
    this.heardAt = now;
  }

  /** A message to the distributor (a heartbeat) was not taken: warns once the silence is past its timeout. */
  missed(err: unknown): void {
    if (this.warned || this.answering()) return;
    this.warned = true;
    this.o.log.warn(
      {
        distributor: this.o.distributorId,
        silent_ms: this.silentMs(),
        err: err instanceof Error ? err.message : String(err),
      },
      `distributor ${this.o.distributorId} does not answer (heartbeat timeout ${this.o.heartbeatTimeoutMs} ms): this worker gets no work meanwhile; it keeps trying every ${this.o.heartbeatIntervalMs} ms and says so when it answers`,
    );
  }

  /** Whether the distributor has shown it is there within its heartbeat timeout. */
  answering(): boolean {
    return this.silentMs() < this.o.heartbeatTimeoutMs;
  }

  /** Ms since the distributor last answered. */
  silentMs(): number {
    return Math.round(performance.now() - this.heardAt);
  }
}
