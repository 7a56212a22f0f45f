import { describe, expect, it } from "vitest";
import {
  A2AClient,
  a2aAgentHandler,
  CoordinatorAgent,
  DistributorAgent,
  LocalAgentState,
  parseLimitFlag,
  RedisClient,
  SharedAgentState,
  StoreCheckpointSaver,
  TaskLedger,
  WorkerAgent,
} from "../../src/index.js";

/**
 * Every option of a public constructor or factory takes one type, and a value of another is
 * refused there with ERR_INVALID_CONFIG naming the option's path, the type it takes and what it
 * got. `handlers: 5` was ignored (the worker ran with the built-ins only), `events.abandoned: 5`
 * was called and threw inside the coordinator, `new RedisClient(null)` was a TypeError, a
 * misspelt a2a key (`agentPrt`) was ignored, and fromUrl named its own options `redis.typo`.
 */

const redis = { url: "memory://option-types" };
const refused = (message: string, option?: string) =>
  expect.objectContaining({
    code: "ERR_INVALID_CONFIG",
    message: expect.stringContaining(message),
    ...(option === undefined ? {} : { details: expect.objectContaining({ option }) }),
  });

describe("option types", () => {
  it("an object-valued agent option given a non-object is refused, naming path, type and value", () => {
    expect(() => new WorkerAgent({ agentId: "w", distributorId: "d", handlers: 5 } as never)).toThrow(
      refused('WorkerAgent "w": option handlers must be an object (got 5)', "handlers"),
    );
    expect(() => new WorkerAgent({ agentId: "w", distributorId: "d", a2a: "x" } as never)).toThrow(
      refused('option a2a must be an object (got "x")', "a2a"),
    );
    expect(() => new CoordinatorAgent({ agentId: "c", redis: "memory://" } as never)).toThrow(
      refused('CoordinatorAgent "c": option redis must be an object (got "memory://")', "redis"),
    );
    for (const key of ["retry", "ledger", "limits", "schedules", "events"])
      expect(() => new CoordinatorAgent({ agentId: "c", redis, [key]: 5 } as never)).toThrow(
        refused(`option ${key} must be an object (got 5)`, key),
      );
    expect(
      () => new DistributorAgent({ agentId: "d", coordinatorId: "c", redis, coordinators: 5 } as never),
    ).toThrow(refused("option coordinators must be an array (got 5)", "coordinators"));
    expect(
      () => new DistributorAgent({ agentId: "d", coordinatorId: "c", redis, limits: [] } as never),
    ).toThrow(refused("option limits must be an object (got an array)", "limits"));
  });

  it("nested options are checked by path: events, limits, schedules, coordinators", () => {
    expect(() => new CoordinatorAgent({ agentId: "c", redis, events: { abandoned: 5 } } as never)).toThrow(
      refused("option events.abandoned must be a function (got 5)", "events.abandoned"),
    );
    expect(
      () => new CoordinatorAgent({ agentId: "c", redis, events: { abandonned: () => {} } } as never),
    ).toThrow(
      refused("unknown option events.abandonned (did you mean events.abandoned?)", "events.abandonned"),
    );
    expect(
      () => new CoordinatorAgent({ agentId: "c", redis, schedules: { events: { fired: 1 } } } as never),
    ).toThrow(refused("option schedules.events.fired must be a function (got 1)", "schedules.events.fired"));
    expect(
      () =>
        new DistributorAgent({
          agentId: "d",
          coordinatorId: "c",
          redis,
          limits: { refreshMs: "2s" },
        } as never),
    ).toThrow(refused('option limits.refreshMs must be a number (got "2s")', "limits.refreshMs"));
    expect(
      () => new DistributorAgent({ agentId: "d", coordinatorId: "c", redis, coordinators: [5] } as never),
    ).toThrow(refused("coordinators[0]: the options must be an object (got 5)"));
    expect(() => new CoordinatorAgent({ agentId: "c", redis, ledger: { shards: "8" } } as never)).toThrow(
      refused('option ledger.shards must be a number (got "8")', "ledger.shards"),
    );
    expect(() => new TaskLedger(new RedisClient(redis), { shards: 0 })).toThrow(
      refused("ledger.shards must be an integer"),
    );
  });

  it("scalar options of the wrong type are refused, not crashed on or ignored", () => {
    expect(() => new WorkerAgent({ agentId: "w", distributorId: "d", logger: 5 } as never)).toThrow(
      refused("option logger must be an object (got 5)", "logger"),
    );
    expect(
      () => new WorkerAgent({ agentId: "w", distributorId: "d", logger: { info() {} } } as never),
    ).toThrow(
      refused(
        "option logger must be a logger with trace, debug, info, warn, error, child functions",
        "logger",
      ),
    );
    expect(() => new CoordinatorAgent({ agentId: "c", redis, placementTimeoutMs: "30s" } as never)).toThrow(
      refused('option placementTimeoutMs must be a number (got "30s")', "placementTimeoutMs"),
    );
    expect(() => new CoordinatorAgent({ agentId: "c", redis, recentLimit: 0 })).toThrow(
      refused("recentLimit must be an integer >= 1 (got 0)"),
    );
    expect(() => new RedisClient({ host: 5 } as never)).toThrow(
      refused("option redis.host must be a string (got 5)", "redis.host"),
    );
    expect(() => new RedisClient({ url: "memory://", keyPrefix: 5 } as never)).toThrow(
      refused("option redis.keyPrefix must be a string (got 5)", "redis.keyPrefix"),
    );
    expect(() => new RedisClient({ useTls: "yes" } as never)).toThrow(
      refused('option redis.useTls must be true or false (got "yes")', "redis.useTls"),
    );
  });

  it("new RedisClient(null), or a URL string, is refused with ERR_INVALID_CONFIG (it was a TypeError)", () => {
    expect(() => new RedisClient(null as never)).toThrow(
      refused("new RedisClient(): the options must be an object (got null)"),
    );
    expect(() => new RedisClient("memory://" as never)).toThrow(
      refused('must be an object (got "memory://")'),
    );
    expect(() => new RedisClient(undefined)).not.toThrow();
  });

  it("a2a options: unknown keys are refused with the nearest known one, and types checked", () => {
    const base = { agentId: "a", tokenSecret: "s", router: null };
    expect(() => new A2AClient({ ...base, agentPrt: 5 } as never)).toThrow(
      refused("unknown option a2a.agentPrt (did you mean a2a.agentPort?)", "a2a.agentPrt"),
    );
    expect(
      () => new WorkerAgent({ agentId: "w", distributorId: "d", a2a: { sendTimeutMs: 5 } } as never),
    ).toThrow(refused('WorkerAgent "w": unknown option a2a.sendTimeutMs (did you mean a2a.sendTimeoutMs?)'));
    expect(
      () => new WorkerAgent({ agentId: "w", distributorId: "d", a2a: { advertiseUrl: 5 } } as never),
    ).toThrow(refused("option a2a.advertiseUrl must be a string (got 5)", "a2a.advertiseUrl"));
    expect(() => new A2AClient({ ...base, now: 5 } as never)).toThrow(
      refused("option a2a.now must be a function (got 5)"),
    );
    expect(() => new A2AClient({ ...base, onRejected: "log" } as never)).toThrow(
      refused('option a2a.onRejected must be a function (got "log")'),
    );
    expect(() => new A2AClient({ ...base, failureBudget: { bursts: 1 } } as never)).toThrow(
      refused("unknown option a2a.failureBudget.bursts (did you mean a2a.failureBudget.burst?)"),
    );
    expect(() => new A2AClient({ ...base, router: {} } as never)).toThrow(
      refused("a2a.router must be an A2ARouter"),
    );
    // router: null is its documented "none", not refused as a null option.
    expect(() => new A2AClient(base)).not.toThrow();
  });

  it("StoreCheckpointSaver.fromUrl names its options as the caller wrote them", async () => {
    await expect(StoreCheckpointSaver.fromUrl("memory://option-types", { typo: 1 } as never)).rejects.toThrow(
      refused("StoreCheckpointSaver.fromUrl(): unknown option typo;", "typo"),
    );
    await expect(
      StoreCheckpointSaver.fromUrl("memory://option-types", { ttlSecond: 1 } as never),
    ).rejects.toThrow(refused("unknown option ttlSecond (did you mean ttlSeconds?)"));
    await expect(
      StoreCheckpointSaver.fromUrl("memory://option-types", { keyPrefix: 5 } as never),
    ).rejects.toThrow(refused("option keyPrefix must be a string (got 5)", "keyPrefix"));
    // A value of the right type the store refuses is named as written too.
    await expect(
      StoreCheckpointSaver.fromUrl("memory://option-types", { connectTimeoutMs: -1 }),
    ).rejects.toThrow(
      expect.objectContaining({
        message: "connectTimeoutMs must be a positive number",
        code: "ERR_INVALID_CONFIG",
      }),
    );
    // keyPrefix's own check (no { or }) named it `redis.keyPrefix`, an option fromUrl has not.
    await expect(
      StoreCheckpointSaver.fromUrl("memory://option-types", { keyPrefix: "a{b}:" }),
    ).rejects.toThrow(
      expect.objectContaining({
        code: "ERR_INVALID_CONFIG",
        message: 'keyPrefix must not contain { or } (they would break Redis Cluster hash tags): "a{b}:"',
      }),
    );
    // The url already says where the store is: a host or port beside it is refused, named as written.
    await expect(
      StoreCheckpointSaver.fromUrl("redis://127.0.0.1:7499", { host: "elsewhere", port: 7498 }),
    ).rejects.toThrow(refused("url and host and port are both given", "url"));
    await expect(
      StoreCheckpointSaver.fromUrl("redis://127.0.0.1:7499", { waitReplicas: 99 }),
    ).rejects.toThrow(refused("waitReplicas must be an integer in 0..64 (got 99)"));
    await expect(StoreCheckpointSaver.fromUrl(5 as never)).rejects.toThrow(
      refused("url must be a string (got 5)"),
    );
    expect(() => new StoreCheckpointSaver(new RedisClient(redis), { ttlSecond: 5 } as never)).toThrow(
      refused("new StoreCheckpointSaver(): unknown option ttlSecond (did you mean ttlSeconds?)"),
    );
    expect(() => new StoreCheckpointSaver("memory://" as never)).toThrow(
      refused("the client must be a RedisClient"),
    );
    const saver = await StoreCheckpointSaver.fromUrl("memory://option-types", { keyPrefix: "k:" });
    await saver.end();
  });

  it("a2aAgentHandler options are checked the same way", () => {
    expect(() => a2aAgentHandler("http://127.0.0.1:1", { tokn: "x" } as never)).toThrow(
      refused("unknown option tokn (did you mean token?)", "tokn"),
    );
    expect(() => a2aAgentHandler("http://127.0.0.1:1", { concurrency: "4" } as never)).toThrow(
      refused('option concurrency must be a number (got "4")', "concurrency"),
    );
    expect(() => a2aAgentHandler("http://127.0.0.1:1", 5 as never)).toThrow(
      refused("the options must be an object (got 5)"),
    );
  });

  it("state constructors, a2aAgentHandler's agent and parseLimitFlag refuse what they would have ignored or crashed on", () => {
    expect(() => new LocalAgentState({ agentId: "a", historylimit: 5 } as never)).toThrow(
      refused("new LocalAgentState(): unknown option historylimit (did you mean historyLimit?)"),
    );
    expect(() => new SharedAgentState({ coordinatorVerison: "v2" } as never)).toThrow(
      refused("unknown option coordinatorVerison (did you mean coordinatorVersion?)"),
    );
    expect(() => new SharedAgentState(5 as never)).toThrow(refused("the options must be an object (got 5)"));
    expect(new SharedAgentState({ lease: null }).toDict().lease).toBeNull();
    expect(() => a2aAgentHandler("http://127.0.0.1:1", { agent: {} } as never)).toThrow(
      refused("option agent must be a RemoteAgent", "agent"),
    );
    expect(() => parseLimitFlag(5 as never)).toThrow(
      expect.objectContaining({
        code: "ERR_INVALID_TYPE_LIMIT",
        message: expect.stringContaining("(got number)"),
      }),
    );
  });
});
