import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it, vi } from "vitest";
import { DistributorAgent } from "../../../src/index.js";
import { FAST } from "../../helpers/cluster.js";
import { type HttpTriad, httpTriad } from "../../helpers/http-triad.js";

/**
 * A distributor's stop ends with a heartbeat that says it stops (`stopping`): the coordinator
 * then lists it as stopped and moves its tasks at once. Said by a process that never held the
 * distributor's lease — a second `triad distributor` started by mistake under a running one's id
 * (and port), which cannot start and is released (startOrRelease: shutdown(0)) — it spoke for the
 * running one: the coordinator took the running distributor for stopped, and moved the tasks its
 * workers were running (each ran twice).
 */
describe("a second distributor under a running one's id", () => {
  let triad: HttpTriad | undefined;
  afterEach(async () => {
    await triad?.cleanup();
    triad = undefined;
  });

  it("that cannot start says nothing of the running one as it is released", async () => {
    const secret = "duplicate-distributor-secret";
    const redis = { url: `memory://duplicate-distributor-${randomUUID()}` };
    triad = await httpTriad({ redis, secret, handlers: {} });
    const { coordinator: c, distributor: d } = triad;
    const heard = vi.spyOn(c.core.directory, "heartbeat");
    const second = new DistributorAgent({
      agentId: d.agentId,
      coordinatorId: c.agentId,
      coordinatorUrl: c.url!,
      redis,
      // The running one's port: its start fails (in use).
      a2a: {
        agentId: d.agentId,
        tokenSecret: secret,
        agentPort: Number(new URL(d.a2a.url!).port),
        host: "127.0.0.1",
        router: null,
      },
      timing: FAST,
    });
    await expect(second.initialize()).rejects.toThrow();
    await second.shutdown(0); // what `triad distributor` does after a failed start
    const stopping = heard.mock.calls.filter(([id, hb]) => id === d.agentId && hb.stopping === true);
    expect(stopping).toEqual([]);
    expect(c.core.directory.get(d.agentId)?.stopped).not.toBe(true);
  });
});
