import type { Timing } from "./timing.js";

/**
 * How long this process itself was not running (a GC pause, SIGSTOP, a frozen VM), measured
 * between the ticks of a periodic timer on the monotonic clock: a tick that comes late says the
 * process could not hear anyone meanwhile. A peer's silence
 * over that time is this process's, not the peer's: whoever counts silence to declare a peer
 * dead (or a wait timed out) credits the stall first, so that only time it was listening counts.
 * (Found with real processes: a coordinator SIGSTOPped for 2.5 s declared its live distributor
 * dead on resuming — its monitor timer fires before the socket's heartbeats are read.)
 */
export class StallWatch {
  private last = performance.now();

  /**
   * @param intervalMs how often tick() is called.
   * @param slackMs lateness not counted as a stall (event-loop lag under load, too short to
   *   matter): a tick later than this past its interval counts all of its lateness.
   */
  constructor(
    private readonly intervalMs: number,
    private readonly slackMs: number,
  ) {}

  /** Called once per timer tick: ms this process did not run since the previous tick (0 when on time). */
  tick(now = performance.now()): number {
    const late = now - this.last - this.intervalMs;
    this.last = now;
    return late > this.slackMs ? late : 0;
  }

  /** Starts counting afresh (a timer started again). */
  reset(now = performance.now()): void {
    this.last = now;
  }
}

/**
 * The StallWatch of a monitor that declares peers dead after `heartbeatTimeoutMs` of silence,
 * ticking every `monitorIntervalMs`: a stall shorter than the timeout less a heartbeat interval
 * and a monitor interval cannot by itself make a live peer look dead, and is not counted.
 */
export function monitorStallWatch(t: Timing): StallWatch {
  const harmless = t.heartbeatTimeoutMs - t.heartbeatIntervalMs - t.monitorIntervalMs;
  return new StallWatch(t.monitorIntervalMs, Math.max(0, harmless));
}
