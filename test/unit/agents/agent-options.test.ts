import { describe, expect, it } from "vitest";
import { CoordinatorAgent, DistributorAgent, WorkerAgent } from "../../../src/index.js";

/**
 * A program's wrong options to an agent's constructor are refused there, with ERR_INVALID_CONFIG
 * and a message naming the option and what it got. A worker of concurrency 0 (or -1, or 1.5)
 * was built, and sent nothing: every task waited for ever; a worker's timing was not checked;
 * a missing agent id was "LocalAgentState needs a non-empty agentId" (ERR_INVALID_STATE).
 */

const redis = { url: "memory://agent-options" };
const refused = (message: string) => expect.objectContaining({ code: "ERR_INVALID_CONFIG", message });

describe("agent options", () => {
  it("an option set to null is refused, naming it (no option takes null; it was taken as not given)", () => {
    expect(() => new WorkerAgent({ agentId: "w", distributorId: "d", handlers: null } as never)).toThrow(
      refused(expect.stringContaining('WorkerAgent "w": option handlers is null')),
    );
    expect(() => new CoordinatorAgent({ agentId: "c", redis, timing: null } as never)).toThrow(
      refused(expect.stringContaining('CoordinatorAgent "c": option timing is null')),
    );
    expect(
      () => new DistributorAgent({ agentId: "d", coordinatorId: "c", redis: { url: null } } as never),
    ).toThrow(refused(expect.stringContaining("option redis.url is null")));
    expect(() => new DistributorAgent({ agentId: "d", coordinatorId: "c", redis: null } as never)).toThrow(
      refused(expect.stringContaining("option redis is null")),
    );
    expect(() => new WorkerAgent({ agentId: "w", distributorId: "d", timing: 5 } as never)).toThrow(
      refused(expect.stringContaining("timing must be an object")),
    );
    // undefined is "not given".
    expect(
      () => new WorkerAgent({ agentId: "w", distributorId: "d", handlers: undefined, timing: undefined }),
    ).not.toThrow();
  });

  it("an agent id must be a non-empty string", () => {
    expect(() => new CoordinatorAgent({ redis } as never)).toThrow(
      refused("agentId must be a non-empty string (got undefined)"),
    );
    expect(() => new WorkerAgent({ agentId: 5, distributorId: "d" } as never)).toThrow(
      refused("agentId must be a non-empty string (got 5)"),
    );
    expect(() => new DistributorAgent({ agentId: "", coordinatorId: "c", redis })).toThrow(
      refused('agentId must be a non-empty string (got "")'),
    );
  });

  it("no options at all is refused the same way, with its code (it was a TypeError reading agentId)", () => {
    for (const make of [
      () => new CoordinatorAgent(undefined as never),
      () => new DistributorAgent(undefined as never),
      () => new WorkerAgent(undefined as never),
    ]) {
      expect(make).toThrow(refused("agentId must be a non-empty string (got undefined)"));
    }
  });

  it("the agent a distributor or a worker reports to must be named", () => {
    expect(() => new DistributorAgent({ agentId: "d", redis } as never)).toThrow(
      refused("coordinatorId must be a non-empty string (got undefined)"),
    );
    expect(() => new WorkerAgent({ agentId: "w" } as never)).toThrow(
      refused("distributorId must be a non-empty string (got undefined)"),
    );
  });

  it("a worker's concurrency is an integer >= 1, its taskTimeoutMs a positive integer, its timing checked", () => {
    for (const concurrency of [0, -1, 1.5, Number.NaN]) {
      expect(() => new WorkerAgent({ agentId: "w", distributorId: "d", concurrency })).toThrow(
        refused(`concurrency must be an integer >= 1 (got ${JSON.stringify(concurrency)})`),
      );
    }
    expect(() => new WorkerAgent({ agentId: "w", distributorId: "d", taskTimeoutMs: 0 })).toThrow(
      refused("taskTimeoutMs must be a positive integer of milliseconds up to 2147483647 (got 0)"),
    );
    expect(
      () => new WorkerAgent({ agentId: "w", distributorId: "d", timing: { heartbeatIntervalMs: -5 } }),
    ).toThrow(
      refused(
        "timing.heartbeatIntervalMs must be a positive number of milliseconds up to 2147483647 (got -5)",
      ),
    );
    expect(new WorkerAgent({ agentId: "w", distributorId: "d", concurrency: 1 }).distributorId).toBe("d");
  });

  it("a distributor's workerCapacity is an integer >= 1", () => {
    expect(
      () => new DistributorAgent({ agentId: "d", coordinatorId: "c", redis, workerCapacity: 0 }),
    ).toThrow(refused("workerCapacity must be an integer >= 1 (got 0)"));
  });

  it("an unknown option is refused, naming it and the known option it is probably a misspelling of", () => {
    expect(() => new WorkerAgent({ agentId: "w", distributorId: "d", concurency: 4 } as never)).toThrow(
      refused(
        expect.stringContaining('WorkerAgent "w": unknown option concurency (did you mean concurrency?)'),
      ),
    );
    expect(
      () => new DistributorAgent({ agentId: "d", coordinatorId: "c", redis, workercapacity: 4 } as never),
    ).toThrow(
      refused(expect.stringContaining("unknown option workercapacity (did you mean workerCapacity?)")),
    );
    expect(() => new CoordinatorAgent({ agentId: "c", redis, concurency: 4 } as never)).toThrow(
      refused(
        expect.stringMatching(
          /^CoordinatorAgent "c": unknown option concurency; the known ones are agentId, /,
        ),
      ),
    );
    // A misspelt key inside `redis` was ignored, and the agent built on the default localhost:6379.
    expect(() => new CoordinatorAgent({ agentId: "c", redis: { urll: "memory://" } } as never)).toThrow(
      refused(expect.stringContaining("unknown option redis.urll (did you mean redis.url?)")),
    );
    // Every option the README and SPEC show is taken.
    const a2a = { tokenSecret: "0".repeat(64) };
    expect(() => new CoordinatorAgent({ agentId: "c", redis, a2a, timing: {}, retry: {} })).not.toThrow();
    expect(() => new DistributorAgent({ agentId: "d", coordinatorId: "c", redis, a2a })).not.toThrow();
    expect(() => new WorkerAgent({ agentId: "w", distributorId: "d", a2a, handlers: {} })).not.toThrow();
  });
});
