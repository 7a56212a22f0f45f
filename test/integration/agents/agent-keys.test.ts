import { generateKeyPairSync } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { AgentKeyRegistry } from "../../../src/agents/agent-key-registry.js";
import {
  A2AClient,
  A2ARouter,
  CoordinatorAgent,
  DistributorAgent,
  MessageType,
  RedisClient,
  WorkerAgent,
} from "../../../src/index.js";
import { FAST } from "../../helpers/cluster.js";
import { testEngines } from "../../helpers/engines.js";

/**
 * Issue 21, item 9, end to end: every agent signs with its own Ed25519 key, the public keys
 * registered in the deployment's store (as `triad keys generate` does) and read from there by
 * each receiver. Tasks run as they do under the shared secret; a worker's key cannot speak as
 * another worker; a revoked key is refused once the registry has read the store again.
 */

function pem() {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return {
    privateKey: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicKey: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}

describe.each(testEngines("agent-keys"))("per-agent keys on $name", (engine) => {
  beforeAll(() => engine.setup(), 30_000);
  afterAll(() => engine.teardown());

  const stops: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => {});
  });

  it("runs tasks with each agent's own key, and refuses worker A's message signed with worker B's key", async () => {
    const redis = engine.config();
    const store = new RedisClient(redis);
    await store.connect();
    stops.push(() => store.disconnect());
    const registry = new AgentKeyRegistry(store, { refreshMs: 100_000 });
    const run = Math.random().toString(36).slice(2, 7);
    const ids = { c: `c-${run}`, d: `d-${run}`, wa: `wa-${run}`, wb: `wb-${run}` };
    const keys = Object.fromEntries(Object.values(ids).map((id) => [id, pem()]));
    const roles = {
      [ids.c]: "coordinator",
      [ids.d]: "distributor",
      [ids.wa]: "worker",
      [ids.wb]: "worker",
    } as const;
    for (const [id, k] of Object.entries(keys)) await registry.register(id, k.publicKey, roles[id]);
    await registry.start();
    stops.push(async () => registry.stop());
    const router = new A2ARouter({ signed: true });
    const a2a = (id: string) => ({
      router,
      tokenSecret: "",
      agentKeys: { privateKey: keys[id]!.privateKey, directory: registry },
    });

    const coordinator = new CoordinatorAgent({ agentId: ids.c, redis, a2a: a2a(ids.c), timing: FAST });
    await coordinator.initialize();
    stops.push(() => coordinator.cleanup());
    const distributor = new DistributorAgent({
      agentId: ids.d,
      coordinatorId: ids.c,
      redis,
      a2a: a2a(ids.d),
      timing: FAST,
    });
    await distributor.initialize();
    stops.push(() => distributor.cleanup());
    for (const id of [ids.wa, ids.wb]) {
      const worker = new WorkerAgent({ agentId: id, distributorId: ids.d, a2a: a2a(id), timing: FAST });
      await worker.initialize();
      stops.push(() => worker.cleanup());
    }

    const tasks = Array.from({ length: 20 }, (_, i) => ({
      task_id: `t${i}-${run}`,
      task_type: "compute",
      payload: { operation: "sum", values: [i, 1] },
    }));
    await coordinator.submitTasks(tasks);
    const done = await Promise.all(tasks.map((t) => coordinator.waitForTask(t.task_id, 10_000)));
    expect(done.map((t) => t?.status)).toEqual(tasks.map(() => "completed"));
    expect(done.map((t) => (t?.result as { result: number } | undefined)?.result)).toEqual(
      tasks.map((_, i) => i + 1),
    );
    for (const agent of [coordinator, distributor]) {
      expect(agent.a2a.stats().rejected.bad_signature).toBe(0);
      expect(agent.a2a.stats().verifiedByKey["agent-key"]).toBeGreaterThan(0);
    }

    // Worker B's key, speaking as worker A: refused before any handler sees it.
    const thief = new A2AClient({
      agentId: ids.wa,
      tokenSecret: "",
      router: null,
      agentKeys: { privateKey: keys[ids.wb]!.privateKey, directory: registry },
    });
    stops.push(() => thief.close());
    const forged = thief.createMessage(
      ids.d,
      { event_type: "task_results", event_data: { results: [] } },
      MessageType.EVENT,
    );
    expect(await distributor.a2a.handleMessage(forged)).toBe(false);
    expect(distributor.a2a.stats().rejected.bad_signature).toBe(1);

    // Worker A's own key, speaking as a distributor: authentic, but not a distributor's key.
    const asA = new A2AClient({
      agentId: ids.wa,
      tokenSecret: "",
      router: null,
      agentKeys: { privateKey: keys[ids.wa]!.privateKey, directory: registry },
    });
    stops.push(() => asA.close());
    const posing = asA.createMessage(
      ids.c,
      { event_type: "register_distributor", event_data: { distributor_id: ids.wa, url: null } },
      MessageType.EVENT,
    );
    expect(await coordinator.a2a.handleMessage(posing)).toBe(true); // authentic: admitted, then refused
    expect(coordinator.a2a.stats().rejected.unauthorized).toBe(1);
    expect(coordinator.core.directory.get(ids.wa)).toBeUndefined();

    // Revoked: refused once the registry has read the store again.
    const asB = new A2AClient({
      agentId: ids.wb,
      tokenSecret: "",
      router: null,
      agentKeys: { privateKey: keys[ids.wb]!.privateKey, directory: registry },
    });
    stops.push(() => asB.close());
    const ping = () => asB.createMessage(ids.d, { event_type: "noop", event_data: {} }, MessageType.EVENT);
    expect(distributor.a2a.verify(ping())).toBe(true);
    expect(await registry.revoke(ids.wb)).toBe(true);
    await registry.refresh();
    expect(distributor.a2a.verify(ping())).toBe(false);
    expect((await registry.list())[ids.wa]?.public_key).toBe(keys[ids.wa]!.publicKey);
  }, 30_000);
});
