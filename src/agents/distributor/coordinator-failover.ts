/** A coordinator a distributor may report to: its agent id, and its A2A URL when it runs in another process. */
export type CoordinatorAddress = { id: string; url?: string };

/**
 * The coordinators a distributor may report to (several coordinators share one store: any of
 * them serves). It heartbeats the current one; a heartbeat that fails, or is not through within
 * `patienceMs`, moves it to the next in the list (round the list), where it registers again.
 */
export class CoordinatorFailover {
  private index = 0;

  constructor(
    readonly coordinators: CoordinatorAddress[],
    readonly patienceMs: number,
  ) {
    if (coordinators.length === 0) throw new Error("a distributor needs at least one coordinator");
  }

  /** Adds a coordinator at the end of the list (one already listed is left as it is). */
  add(coordinator: CoordinatorAddress): void {
    if (!this.coordinators.some((c) => c.id === coordinator.id)) this.coordinators.push(coordinator);
  }

  get current(): CoordinatorAddress {
    return this.coordinators[this.index]!;
  }

  /**
   * Runs one heartbeat `send` to the current coordinator. True when it went through in time;
   * false when it failed or hung (then the next coordinator is current, if there is another).
   */
  async beat(send: (to: string) => Promise<void>): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), this.patienceMs);
    });
    const ok = await Promise.race([
      send(this.current.id).then(
        () => true,
        () => false,
      ),
      late,
    ]);
    clearTimeout(timer);
    if (!ok && this.coordinators.length > 1) this.index = (this.index + 1) % this.coordinators.length;
    return ok;
  }
}
