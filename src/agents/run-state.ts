import { TriadError } from "../core/errors.js";

/**
 * Whether an agent runs: initialize() done and no cleanup() since. What needs a running agent
 * (a coordinator's submits and waits) asks `refusal()` first, so a call on an agent not started
 * yet, or stopped, is told so with ERR_NOT_RUNNING instead of being recorded where nobody
 * serves it, or failing on the store's "not connected".
 */
export class RunState {
  private state: "new" | "running" | "stopped" = "new";

  constructor(private readonly name: string) {}

  get running(): boolean {
    return this.state === "running";
  }

  start(): void {
    this.state = "running";
  }

  stop(): void {
    if (this.state === "running") this.state = "stopped";
  }

  /**
   * Runs `work` while running; else rejects with refusal(call), and `work` does not run: a write
   * (a limit, a schedule, a cancel, an input) on an agent not started, or stopped, is refused as
   * a submit is, instead of being recorded where no agent serves it.
   */
  guard<T>(call: string, work: () => Promise<T>): Promise<T> {
    const refused = this.refusal(call);
    return refused === null ? work() : Promise.reject(refused);
  }

  /** Throws refusal(call) unless running (in an async method: its promise rejects). */
  assertRunning(call: string): void {
    const refused = this.refusal(call);
    if (refused !== null) throw refused;
  }

  /** Null while running; else the error for `call`, saying why and what to do. */
  refusal(call: string): TriadError | null {
    if (this.state === "running") return null;
    const why =
      this.state === "new"
        ? `${this.name} is not running yet: call initialize() first`
        : `${this.name} was stopped (cleanup()); call initialize() to run it again`;
    return new TriadError("ERR_NOT_RUNNING", `${call}: ${why}`, { status: 503 });
  }
}
