import { isTriadError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";

/**
 * Whether an agent's upstream (a worker's distributor, a distributor's coordinator) has taken
 * it in: "joining" until a message of ours is accepted, "joined" once one is, "refused" while
 * the upstream refuses them (ERR_A2A_REJECTED: a bad signature, a stale clock, a key of another
 * role), `reason` naming the refusal. A refusal is said once, at error level, with what to
 * check; the agent keeps sending (the upstream may be fixed and restarted) and says when it is
 * taken in again. A message that did not get there (the upstream down, busy) changes nothing.
 */
export type UpstreamJoinState =
  | { status: "joining" | "joined"; reason: null }
  | { status: "refused"; reason: string };

export class UpstreamJoin {
  private current: UpstreamJoinState = { status: "joining", reason: null };
  private readonly joinedOnce: Promise<void>;
  private markJoined!: () => void;

  constructor(
    private readonly o: {
      log: Logger;
      /** "worker", "distributor": what this agent is, for the log line. */
      tier: string;
      /** "distributor" or "coordinator": what the upstream is. */
      role: string;
      /** Its id now (a distributor's coordinator may change on failover). */
      upstream: () => string;
      /** How often the agent sends again (its heartbeat interval), for the log line. */
      retryMs: number;
    },
  ) {
    this.joinedOnce = new Promise((resolve) => {
      this.markJoined = resolve;
    });
  }

  get state(): UpstreamJoinState {
    return this.current;
  }

  /** Resolves once the upstream has accepted a message of ours (at once if it has). */
  whenJoined(): Promise<void> {
    return this.joinedOnce;
  }

  /** The upstream accepted a message of ours. */
  accepted(): void {
    if (this.current.status === "joined") return;
    if (this.current.status === "refused") {
      const id = this.o.upstream();
      this.o.log.info(
        { [this.o.role]: id },
        `${this.o.role} ${id} accepts this ${this.o.tier}'s messages now`,
      );
    }
    this.current = { status: "joined", reason: null };
    this.markJoined();
  }

  /** A message to the upstream failed: a refusal changes the state (said once); anything else does not. */
  failed(err: unknown): void {
    if (!isTriadError(err, "ERR_A2A_REJECTED")) return;
    const reason = err.details?.reason;
    const detail = err.details?.detail;
    if (typeof reason !== "string" || reason === "busy" || reason.startsWith("http_5")) return;
    // Throttled: the upstream stopped reading us after the refusals; the first reason stands.
    if (this.current.status === "refused" && reason === "throttled") return;
    const was = this.current.status;
    this.current = { status: "refused", reason };
    if (was === "refused") return;
    const id = this.o.upstream();
    this.o.log.error(
      { [this.o.role]: id, reason, detail: typeof detail === "string" ? detail : undefined },
      `${this.o.role} ${id} refuses this ${this.o.tier}'s messages (${reason}): ${hint(reason, this.o.role)}; not ready until it accepts them, trying again every ${this.o.retryMs} ms`,
    );
  }
}

/** What to check for a refusal (never the secret itself). */
function hint(reason: string, role: string): string {
  switch (reason) {
    case "bad_signature":
    case "throttled":
      return `check that this process and the ${role} share the same secret (TRIAD_SECRET), or, with agent keys, that this agent's key is registered and the ${role} reads it`;
    case "stale":
      return `check that this machine's clock and the ${role}'s agree`;
    case "misdirected":
      return `check that the ${role}'s URL reaches the agent it named when asked`;
    case "unauthorized":
      return `check that this agent's key is registered with its own role`;
    default:
      return `check that both run the same version of Triad`;
  }
}
