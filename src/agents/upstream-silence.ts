import type { Logger } from "../core/logger.js";

/**
 * When an agent last heard from its upstream (a worker's distributor, a distributor's
 * coordinator), and what it says of a silence: one warning once the upstream has not answered
 * for its heartbeat timeout (the measure the upstream judges it by), and one when it answers
 * again — not a line per failed heartbeat. An orphaned worker or distributor said nothing at all.
 */
export class UpstreamSilence {
  /** When the upstream last accepted a message of ours or sent one (performance.now()). */
  private heardAt = performance.now();
  /** Whether the warning is out (so the next answer says it is back). */
  private warned = false;

  constructor(
    private readonly o: {
      log: Logger;
      /** "distributor" or "coordinator": what the upstream is, for the log line. */
      role: string;
      /** Its id now (a distributor's coordinator may change on failover). */
      upstream: () => string;
      heartbeatTimeoutMs: number;
      heartbeatIntervalMs: number;
    },
  ) {}

  /** The upstream accepted a message of ours, or sent one. */
  heard(): void {
    const now = performance.now();
    if (this.warned) {
      this.warned = false;
      const id = this.o.upstream();
      this.o.log.warn(
        { [this.o.role]: id, silent_ms: Math.round(now - this.heardAt) },
        `${this.o.role} ${id} answers again`,
      );
    }
    this.heardAt = now;
  }

  /** A message to the upstream (a heartbeat) was not taken: warns once the silence is past its timeout. */
  missed(err?: unknown): void {
    if (this.warned || this.answering()) return;
    this.warned = true;
    const id = this.o.upstream();
    this.o.log.warn(
      {
        [this.o.role]: id,
        silent_ms: this.silentMs(),
        ...(err !== undefined ? { err: err instanceof Error ? err.message : String(err) } : {}),
      },
      `${this.o.role} ${id} does not answer (heartbeat timeout ${this.o.heartbeatTimeoutMs} ms): it keeps trying every ${this.o.heartbeatIntervalMs} ms and says so when it answers`,
    );
  }

  /** Whether the upstream has shown it is there within its heartbeat timeout. */
  answering(): boolean {
    return this.silentMs() < this.o.heartbeatTimeoutMs;
  }

  /** Ms since the upstream last answered. */
  silentMs(): number {
    return Math.round(performance.now() - this.heardAt);
  }
}
