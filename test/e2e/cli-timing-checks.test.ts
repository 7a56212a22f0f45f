import { describe, expect, it } from "vitest";
import { freePort } from "../helpers/free-port.js";
import { runTriad } from "../helpers/processes.js";

/**
 * A heartbeat interval not shorter than the heartbeat timeout is refused at once by the process
 * given both (ERR_INVALID_CONFIG naming both flags and values, exit 1) — not after its peer comes
 * up: a worker or distributor started before its peer used to wait for it, then fail. The worker
 * takes --heartbeat-timeout too (how long its distributor may be silent): its refusal named a
 * timeout it had no flag for, so a worker could not be given a heartbeat interval above 2999 ms.
 */
describe("triad worker|distributor with a heartbeat interval not shorter than the timeout", () => {
  it("exits 1 naming both values while its peer is not up yet, instead of waiting for it", async () => {
    const env = { TRIAD_SECRET: "ab".repeat(32) };
    // Nobody listens on the peer's port: the command would wait for it until killed (60 s).
    const peer = `http://127.0.0.1:${await freePort()}`;
    const runs = await Promise.all([
      runTriad(
        ["worker", "--id", "w-timing", "--distributor", peer, "--port", "0", "--heartbeat-interval", "3000"],
        { env },
      ),
      runTriad(
        [
          ...["worker", "--id", "w-timing2", "--distributor", peer, "--port", "0"],
          ...["--heartbeat-interval", "5000", "--heartbeat-timeout", "4000"],
        ],
        { env },
      ),
      runTriad(
        [
          ...["distributor", "--id", "d-timing", "--coordinator", peer, "--port", "0"],
          ...["--redis", `redis://127.0.0.1:${await freePort()}`],
          ...["--heartbeat-interval", "2000", "--heartbeat-timeout", "1500"],
        ],
        { env },
      ),
    ]);
    const [worker, worker2, distributor] = runs;
    expect(worker.code, worker.stderr).toBe(1);
    expect(worker.stderr).toContain(
      "--heartbeat-timeout (3000 ms) must be longer than --heartbeat-interval (3000 ms)",
    );
    expect(worker.stderr).toContain("ERR_INVALID_CONFIG");
    // The worker's --heartbeat-timeout is taken (no "unknown option"), and checked.
    expect(worker2.code, worker2.stderr).toBe(1);
    expect(worker2.stderr).toContain(
      "--heartbeat-timeout (4000 ms) must be longer than --heartbeat-interval (5000 ms)",
    );
    expect(distributor.code, distributor.stderr).toBe(1);
    expect(distributor.stderr).toContain(
      "--heartbeat-timeout (1500 ms) must be longer than --heartbeat-interval (2000 ms)",
    );
    for (const run of runs) expect(run.stderr).not.toContain("waiting for the peer");
  }, 90_000);
});
