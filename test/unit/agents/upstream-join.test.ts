import { describe, expect, it } from "vitest";
import { UpstreamJoin } from "../../../src/agents/upstream-join.js";
import { TriadError } from "../../../src/core/errors.js";
import { captureLogger, type LogEntry } from "../../helpers/capture-logger.js";

/** What a send to the upstream rejects with when the upstream refuses the message. */
const refusal = (reason: string) =>
  new TriadError("ERR_A2A_REJECTED", `d1 refused message x: ${reason} (because)`, {
    reason,
    detail: "because",
    status: 401,
    requestId: "x",
  });

function join(entries: LogEntry[]) {
  return new UpstreamJoin({
    log: captureLogger(entries),
    tier: "worker",
    role: "distributor",
    upstream: () => "d1",
    retryMs: 1000,
  });
}

describe("UpstreamJoin: whether the upstream has taken the agent in", () => {
  it("refused while the upstream refuses its messages: the reason kept, the error logged once with what to check", () => {
    const entries: LogEntry[] = [];
    const j = join(entries);
    expect(j.state).toEqual({ status: "joining", reason: null });
    j.failed(new Error("connect ECONNREFUSED")); // not there: nothing said of the join
    j.failed(refusal("busy"));
    expect(j.state.status).toBe("joining");
    j.failed(refusal("bad_signature"));
    j.failed(refusal("bad_signature"));
    j.failed(refusal("throttled")); // what follows the refusals: the first reason stands
    expect(j.state).toEqual({ status: "refused", reason: "bad_signature" });
    const errors = entries.filter((e) => e.level === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]?.msg).toContain("distributor d1 refuses this worker's messages (bad_signature)");
    expect(errors[0]?.msg).toContain("TRIAD_SECRET");
  });

  it("joined once a message is accepted (after a refusal too): whenJoined resolves, and says so", async () => {
    const entries: LogEntry[] = [];
    const j = join(entries);
    let joined = false;
    void j.whenJoined().then(() => {
      joined = true;
    });
    j.failed(refusal("bad_signature"));
    await Promise.resolve();
    expect(joined).toBe(false);
    j.accepted();
    await j.whenJoined();
    expect(joined).toBe(true);
    expect(j.state).toEqual({ status: "joined", reason: null });
    expect(
      entries.some((e) => e.level === "info" && e.msg.includes("accepts this worker's messages now")),
    ).toBe(true);
    j.failed(refusal("stale")); // refused again later: not ready again
    expect(j.state).toEqual({ status: "refused", reason: "stale" });
  });
});
