/**
 * Runs `run` again `ms` after each run has finished (never two at once, a slow store only
 * spaces the runs out); its failures are left to the next run. `stop()` ends the loop, also
 * while a run is in flight.
 */
export class RepeatAfter {
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly ms: number,
    private readonly run: () => Promise<unknown>,
  ) {}

  /** The first run `ms` from now. */
  start(): void {
    this.running = true;
    this.next();
  }

  /** The first run now; resolves when it has finished (a stop during it ends the loop). */
  async startNow(): Promise<void> {
    this.running = true;
    await this.run().catch(() => {});
    this.next();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private next(): void {
    if (!this.running) return; // stopped while a run was in flight
    this.timer = setTimeout(
      () =>
        void this.run()
          .catch(() => {})
          .finally(() => this.next()),
      this.ms,
    );
    this.timer.unref();
  }
}
