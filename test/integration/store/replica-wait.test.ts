import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InputLedger } from "../../../src/agents/input/input-ledger.js";
import { shardTag } from "../../../src/agents/ledger/shards.js";
import { A2ARouter, CoordinatorAgent, RedisClient, TaskLedger } from "../../../src/index.js";
import { RedisCluster } from "../../helpers/redis-cluster.js";
import { RedisServer, uniquePrefix } from "../../helpers/redis-server.js";
import { sleep, until } from "../../helpers/wait.js";

/**
 * RedisConfig.waitReplicas: a submit is answered only once that many replicas hold it (Redis
 * WAIT on a connection of its own), so a master that dies right after answering cannot take an
 * accepted task with it. Proven against a real master and replica: while the replica is frozen
 * (SIGSTOP) nothing can acknowledge, so a submit is refused with ERR_NOT_REPLICATED, the master
 * keeps the task, everything else on the store goes on, and the same id sent again once the
 * replica is back is answered as recorded.
 */

let seq = 0;
const newTask = () => ({
  taskId: `rw-${++seq}`,
  taskType: "echo",
  payload: { n: seq },
  createdAt: new Date().toISOString(),
  maxRetries: 1,
  backoffMs: 0,
});

// Needs a master and a replica of the test's own: never on REDIS_URL.
describe.skipIf(Boolean(process.env.REDIS_URL))("submits that wait for replicas (redis.waitReplicas)", () => {
  let master: RedisServer;
  let replica: RedisServer;
  const clients: RedisClient[] = [];
  const frozen = new Set<number>();

  async function store(extra: { waitReplicas?: number; waitReplicasTimeoutMs?: number } = {}) {
    const client = new RedisClient({ url: master.url, keyPrefix: prefix, ...extra });
    expect(await client.connect()).toBe(true);
    clients.push(client);
    return client;
  }
  const prefix = uniquePrefix("replica-wait");
  const freeze = (on: boolean) => {
    process.kill(replica.pid!, on ? "SIGSTOP" : "SIGCONT");
    if (on) frozen.add(replica.pid!);
    else frozen.delete(replica.pid!);
  };

  beforeAll(async () => {
    master = await RedisServer.start();
    replica = await RedisServer.startReplicaOf(master);
  }, 30_000);
  afterAll(async () => {
    for (const pid of frozen) process.kill(pid, "SIGCONT");
    for (const c of clients) await c.disconnect();
    await replica?.destroy();
    await master?.destroy();
  });

  it("answers a submit once the replica holds it; refuses it with ERR_NOT_REPLICATED while none can acknowledge", async () => {
    const ledger = new TaskLedger(await store({ waitReplicas: 1, waitReplicasTimeoutMs: 300 }));
    const onReplica = new TaskLedger(
      (() => {
        const c = new RedisClient({ url: replica.url, keyPrefix: prefix });
        clients.push(c);
        return c;
      })(),
    );
    expect(await clients.at(-1)!.connect()).toBe(true);

    const a = newTask();
    expect(await ledger.submit(a, "d1")).toBe(true);
    // Answered after WAIT: the replica has it already, read from the replica itself.
    expect((await onReplica.get(a.taskId))?.task.status).toBe("pending");

    freeze(true);
    const b = newTask();
    const refused = ledger.submit(b, "d1");
    // The store's other commands do not queue behind the WAIT (it has a connection of its own).
    const other = ledger.get(a.taskId).then(() => "read answered first");
    const first = await Promise.race([
      other,
      refused.then(
        () => "submit settled first",
        () => "submit settled first",
      ),
    ]);
    expect(first).toBe("read answered first");
    await expect(refused).rejects.toMatchObject({ code: "ERR_NOT_REPLICATED" });
    await expect(refused).rejects.toThrow(/0 of the 1 replica\(s\).*300 ms/);
    // The master holds it all the same.
    expect((await ledger.get(b.taskId))?.task.status).toBe("pending");

    freeze(false);
    // The same id again: already recorded (false), and this time acknowledged.
    expect(await ledger.submit(b, "d1")).toBe(false);
    const deadline = performance.now() + 10_000;
    while ((await onReplica.get(b.taskId)) === null && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect((await onReplica.get(b.taskId))?.task.status).toBe("pending");
  });

  it("waits for the replica before an answer to a task's question is taken, too", async () => {
    const waiting = await store({ waitReplicas: 1, waitReplicasTimeoutMs: 300 });
    const ledger = new TaskLedger(waiting);
    const inputs = new InputLedger(waiting, ledger);
    const asking = async () => {
      const t = newTask();
      await ledger.submit(t, "d1");
      const fence = (await ledger.dispatch(t.taskId, "d1", "w1")) as number;
      const verdict = await ledger.commit({
        taskId: t.taskId,
        fence,
        status: "input_required",
        inputRequest: { question: "ok?" },
      });
      expect(verdict).toBe("input_required");
      return t.taskId;
    };
    const answered = await asking();
    expect(await inputs.provide(answered, { ok: true })).toEqual({ given: true });
    const frozenOut = await asking();
    freeze(true);
    const refused = inputs.provide(frozenOut, { ok: true });
    await expect(refused).rejects.toMatchObject({ code: "ERR_NOT_REPLICATED" });
    freeze(false);
    // The master took it: the task is pending again, and a second answer finds it not waiting.
    expect((await ledger.get(frozenOut))?.task.status).toBe("pending");
    expect(await inputs.provide(frozenOut, { ok: false })).toEqual({ given: false, status: "pending" });
  });

  it("without waitReplicas a submit is answered while the replica cannot acknowledge", async () => {
    const ledger = new TaskLedger(await store());
    freeze(true);
    try {
      expect(await ledger.submit(newTask(), "d1")).toBe(true);
    } finally {
      freeze(false);
    }
  });

  it("a coordinator's submitTask rejects with ERR_NOT_REPLICATED, a 503 with Retry-After, and keeps serving", async () => {
    const router = new A2ARouter();
    const coordinator = new CoordinatorAgent({
      agentId: `c-${prefix}`,
      redis: { url: master.url, keyPrefix: `${prefix}c:`, waitReplicas: 1, waitReplicasTimeoutMs: 200 },
      a2a: { router },
    });
    await coordinator.initialize();
    try {
      expect(await coordinator.submitTask({ task_id: "c-ok", task_type: "echo", payload: {} })).toBe(true);
      freeze(true);
      const err = await coordinator.submitTask({ task_id: "c-frozen", task_type: "echo", payload: {} }).then(
        () => null,
        (e: unknown) => e,
      );
      freeze(false);
      expect(err).toMatchObject({ code: "ERR_NOT_REPLICATED", details: { status: 503, retryAfterS: 1 } });
      expect(await coordinator.submitTask({ task_id: "c-after", task_type: "echo", payload: {} })).toBe(true);
      expect((await coordinator.core.getTask("c-frozen"))?.status).toBe("pending");
    } finally {
      freeze(false);
      await coordinator.cleanup();
    }
  });
});

describe("redis.waitReplicas is checked at construction", () => {
  it.each([
    [{ url: "memory://rw", waitReplicas: 1 }, /memory:\/\/ has none/],
    [
      { url: "redis://127.0.0.1:1", waitReplicas: -1 },
      /waitReplicas must be an integer in 0\.\.64 \(got -1\)/,
    ],
    [{ url: "redis://127.0.0.1:1", waitReplicas: 1.5 }, /waitReplicas must be an integer/],
    [
      { url: "redis://127.0.0.1:1", waitReplicas: 1, waitReplicasTimeoutMs: 0 },
      /waitReplicasTimeoutMs .* in 1\.\.4000 \(got 0\)/,
    ],
    [
      { url: "redis://127.0.0.1:1", waitReplicas: 1, waitReplicasTimeoutMs: 60_000 },
      /in 1\.\.4000 \(got 60000\)/,
    ],
  ])("refuses %o", (config, message) => {
    let caught: unknown;
    try {
      new RedisClient(config);
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ code: "ERR_INVALID_CONFIG" });
    expect(String((caught as Error).message)).toMatch(message);
  });

  it("takes 0 on memory:// (nothing to wait for)", () => {
    expect(() => new RedisClient({ url: "memory://rw0", waitReplicas: 0 })).not.toThrow();
  });
});

/**
 * The same on Redis Cluster, where it matters: a master killed -9 right after answering loses
 * what it had not sent to its replica yet. With waitReplicas 1 every submit answered true is on
 * the promoted replica; a shard whose master has no replica left refuses submits as not
 * replicated (it could not keep the promise) until the killed node is back as its replica.
 */
describe.skipIf(Boolean(process.env.REDIS_CLUSTER_URL))(
  "submits that wait for replicas on Redis Cluster, a master killed -9",
  () => {
    let nodes: RedisCluster;
    const clients: RedisClient[] = [];
    beforeAll(async () => {
      nodes = await RedisCluster.start(3, { replicas: 1, nodeTimeoutMs: 1000 });
    }, 90_000);
    afterAll(async () => {
      for (const c of clients) await c.disconnect();
      await nodes?.destroy();
    });

    it("loses no answered submit; refuses as not replicated while a shard has no replica", async () => {
      const prefix = uniquePrefix("replica-wait-cluster");
      const store = new RedisClient({
        url: nodes.url,
        keyPrefix: prefix,
        waitReplicas: 1,
        // On this test cluster a WAIT often lasts until the replicas' once-a-second ack.
        waitReplicasTimeoutMs: 2000,
      });
      expect(await store.connect()).toBe(true);
      clients.push(store);
      const ledger = new TaskLedger(store);
      const answered: string[] = [];
      const codes = new Set<string>();
      let stop = false;
      const submitter = (async () => {
        for (let i = 0; !stop; i++) {
          // 16 at a time: every shard, so every master, in each round.
          const batch = Array.from({ length: 16 }, (_, k) => ({ ...newTask(), taskId: `cw-${i}-${k}` }));
          const outcomes = await Promise.allSettled(batch.map((t) => ledger.submit(t, "d1")));
          outcomes.forEach((o, k) => {
            if (o.status === "fulfilled" && o.value) answered.push(batch[k]!.taskId);
            else if (o.status === "rejected")
              codes.add((o.reason as { code?: string }).code ?? String(o.reason));
          });
          await sleep(5); // the submitter's pace between rounds
        }
      })();
      await until("submits are answered before the kill", () => answered.length >= 16, 30_000);
      const master = await nodes.masterOf(store.key(`${shardTag(0)}open`));
      const replica = await nodes.replicaOf(master);
      await nodes.kill(master);
      await nodes.waitForPromotion(replica);
      // The promoted master has no replica: its shards' submits are refused as not replicated.
      const before = codes.size;
      const deadline = performance.now() + 15_000;
      while (!codes.has("ERR_NOT_REPLICATED") && performance.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(codes.has("ERR_NOT_REPLICATED"), `codes seen: ${[...codes]} (${before} before)`).toBe(true);
      await nodes.restartNode(master);
      // Submits are answered again once the old master is back as a replica (a round may first
      // wait out a command sent to the dead node).
      const answeredBefore = answered.length;
      const answerDeadline = performance.now() + 20_000;
      while (answered.length < answeredBefore + 32 && performance.now() < answerDeadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      stop = true;
      await submitter;
      expect(
        answered.length,
        `${answeredBefore} answered before the old master was back`,
      ).toBeGreaterThanOrEqual(answeredBefore + 32);
      // Refused only as unavailable or not replicated, never otherwise.
      expect(
        [...codes].filter((c) => !/^ERR_(STORE_UNAVAILABLE|STORE_TIMEOUT|NOT_REPLICATED)$/.test(c)),
      ).toEqual([]);
      // Every submit answered true is in the cluster after the failover.
      const missing: string[] = [];
      for (const id of answered) if ((await ledger.get(id)) === null) missing.push(id);
      expect(missing).toEqual([]);
      process.stderr.write(
        `replica wait on Cluster: ${answered.length} answered, none lost; refused as ${[...codes]}\n`,
      );
    }, 90_000);
  },
);
