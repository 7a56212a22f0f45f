import { describe, expect, it } from "vitest";
import { resolveSecret } from "../../../src/agents/agent-base.js";
import {
  DistributorRoster,
  stoppedDistributors,
} from "../../../src/agents/coordinator/distributor-roster.js";
import type { TaskLedger } from "../../../src/agents/ledger/task-ledger.js";
import { A2AClient, MessageType } from "../../../src/core/messaging/index.js";
import type { DistributorAgent } from "../../../src/index.js";
import { agentList } from "../../../src/server/coordinator-api.js";
import { coordinatorMetrics } from "../../../src/server/metrics.js";
import { FAST, type TestCluster } from "../../helpers/cluster.js";
import { clusterPerTest, testEngines } from "../../helpers/engines.js";
import { sleep, until } from "../../helpers/wait.js";

/** Dead agents stay listed this long (timing.deadRetentionMs), then are forgotten. */
const RETENTION_MS = 500;

/** What GET /agents says of agent `name` of the cluster; undefined: not listed. */
function listed(c: TestCluster, name: string): { status: string; stopped?: boolean } | undefined {
  return agentList(c.coordinator).find((a) => a.id === c.id(name)) as
    | { status: string; stopped?: boolean }
    | undefined;
}

/** d1 with its w1 and d2 with its w2, ready, w2 listed idle by the coordinator: d2. */
async function twoDistributors(c: TestCluster): Promise<DistributorAgent> {
  await c.startOne();
  const d2 = await c.startDistributor("d2");
  await c.startWorker("w2", "d2");
  await c.ready();
  await until("w2 is listed", () => listed(c, "w2")?.status === "idle");
  return d2;
}

/**
 * A dead agent is listed as dead for the retention, then forgotten (rolling restarts under new
 * ids, scaling down: the listing does not grow for ever); one that comes back is listed again.
 * A dead distributor is forgotten only once no task is recorded on it any more.
 */
describe.each(testEngines("dead-retention"))("dead agents ($name)", (engine) => {
  const cluster = clusterPerTest(engine);

  it("a dead distributor is listed as dead while it holds tasks, forgotten once they moved, listed again when back", async () => {
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const c = cluster({
      concurrency: 2,
      timing: { ...FAST, deadRetentionMs: RETENTION_MS },
      handlers: {
        gated: async () => {
          await gate;
          return { ok: true };
        },
      },
    });
    const d1 = await c.startOne();
    const w1 = c.workers.get("w1")!;
    const ids = ["a", "b", "c"].map((n) => c.id(n));
    for (const id of ids) await c.coordinator.submitTask({ task_id: id, task_type: "gated", payload: {} });
    await until("d1 holds the tasks", () => d1.core.heartbeat(null).load === ids.length);

    await c.crash(w1);
    await c.crash(d1);
    await until("d1 is listed dead", () => listed(c, "d1")?.status === "dead");
    // d1 crashed before it could report w1 gone: the coordinator cannot know, so it says so.
    expect(listed(c, "w1")?.status).toBe("unknown");
    // Past the retention, its tasks still recorded on it (no distributor to move them to): kept.
    await sleep(3 * RETENTION_MS);
    expect(listed(c, "d1")?.status).toBe("dead");

    release();
    await c.startDistributor("d2");
    await c.startWorker("w2", "d2");
    for (const id of ids)
      expect(await c.coordinator.waitForTask(id, 10_000), id).toMatchObject({ status: "completed" });
    await until("d1 is forgotten", () => listed(c, "d1") === undefined);
    expect(listed(c, "w1")).toBeUndefined();
    // Gone from the store's registry too: a coordinator that restarts does not list it again.
    const registry = (await c.coordinator.store.get("agents:distributors")) as Record<string, unknown>;
    expect(Object.keys(registry)).not.toContain(c.id("d1"));

    await c.startDistributor("d1");
    await c.startWorker("w1", "d1");
    await until("d1 is listed alive again", () => ["idle", "busy"].includes(listed(c, "d1")?.status ?? ""));
    await until("w1 is listed alive again", () => ["idle", "busy"].includes(listed(c, "w1")?.status ?? ""));
    await until("d1 is registered again", async () => {
      const again = (await c.coordinator.store.get("agents:distributors")) as Record<string, unknown>;
      return Object.keys(again).includes(c.id("d1"));
    });
  }, 60_000);

  it("reads a long-dead distributor's tasks once per retention, not on every monitor tick", async () => {
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const c = cluster({
      timing: { ...FAST, deadRetentionMs: RETENTION_MS },
      handlers: {
        gated: async () => {
          await gate;
          return { ok: true };
        },
      },
    });
    const d1 = await c.startOne();
    const w1 = c.workers.get("w1")!;
    await c.coordinator.submitTask({ task_id: c.id("kept"), task_type: "gated", payload: {} });
    await until("d1 holds the task", () => d1.core.heartbeat(null).load === 1);
    await c.crash(w1);
    await c.crash(d1);
    const directory = c.coordinator.core.directory;
    // A longer retention for the roster below: its five calls take far less.
    const retention = 4 * RETENTION_MS;
    await until(
      "d1 is long dead",
      () => directory.longDead(retention).some((d) => d.id === d1.agentId),
      10_000,
    );
    // A roster of its own over the coordinator's directory and ledger, its reads of d1 counted.
    const ledger = c.coordinator.ledger;
    let reads = 0;
    const counted = Object.create(ledger) as TaskLedger;
    counted.distributorTaskIds = (id: string) => {
      if (id === d1.agentId) reads++;
      return ledger.distributorTaskIds(id);
    };
    const roster = new DistributorRoster({
      store: c.coordinator.store,
      ledger: counted,
      directory,
      timing: { deadRetentionMs: retention },
    });
    for (let i = 0; i < 5; i++) expect(await roster.forgetLongDead()).toEqual([]);
    expect(reads).toBe(1); // its task is still recorded on it: not read again before a retention passed

    release();
    await c.startDistributor("d2");
    await c.startWorker("w2", "d2");
    expect(await c.coordinator.waitForTask(c.id("kept"), 10_000)).toMatchObject({ status: "completed" });
    // Read again once a retention has passed: nothing left on it, it is forgotten.
    await until(
      "d1 is forgotten",
      async () => (await roster.forgetLongDead()).length > 0 || !directory.get(d1.agentId),
    );
  }, 60_000);

  it("a coordinator that restarts moves a task recorded on a distributor the registry no longer names", async () => {
    // Forgotten by one coordinator while another placed a task on it: the task names it, the
    // store's registry does not. A coordinator restoring the shard gives it a timeout to speak.
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const c = cluster({
      timing: { ...FAST, deadRetentionMs: RETENTION_MS },
      handlers: {
        gated: async () => {
          await gate;
          return { ok: true };
        },
      },
    });
    const d1 = await c.startOne();
    const w1 = c.workers.get("w1")!;
    const id = c.id("orphan");
    await c.coordinator.submitTask({ task_id: id, task_type: "gated", payload: {} });
    await until("d1 holds the task", () => d1.core.heartbeat(null).load === 1);
    await c.crash(w1);
    await c.crash(d1);
    await c.coordinator.cleanup();
    await c.coordinator.store.connect();
    await c.coordinator.store.transaction<Record<string, string | null>>("agents:distributors", (cur) => {
      const next = { ...(cur ?? {}) };
      delete next[c.id("d1")];
      return next;
    });
    await c.coordinator.store.disconnect();

    await c.startCoordinator();
    release();
    await c.startDistributor("d2");
    await c.startWorker("w2", "d2");
    expect(await c.coordinator.waitForTask(id, 40_000)).toMatchObject({ status: "completed" });
  }, 60_000);

  it("a dead distributor's shared state leaves the store after the retention", async () => {
    const c = cluster({ timing: { ...FAST, deadRetentionMs: RETENTION_MS } });
    const d1 = await c.startOne();
    await until(
      "d1's state is written",
      async () => (await c.coordinator.getDistributorState(d1.agentId)) !== null,
    );
    await c.crash(d1);
    expect(await c.coordinator.getDistributorState(d1.agentId)).not.toBeNull();
    await until(
      "d1's state is gone",
      async () => (await c.coordinator.getDistributorState(d1.agentId)) === null,
    );
  }, 60_000);

  it("an agent that stopped gracefully is listed dead with stopped: true, a crashed one without", async () => {
    const c = cluster({ timing: FAST });
    await c.startCoordinator();
    await c.startDistributor("d1");
    await c.startWorker("w1", "d1");
    const w2 = await c.startWorker("w2", "d1");
    const w3 = await c.startWorker("w3", "d1");
    const d2 = await c.startDistributor("d2");
    await c.startWorker("w4", "d2");
    await c.ready();
    await until("w2, w3, w4 are listed", () =>
      ["w2", "w3", "w4"].every((w) => listed(c, w)?.status === "idle"),
    );

    await w2.shutdown(5_000);
    await c.crash(w3);
    await until("w2 and w3 are listed dead", () =>
      ["w2", "w3"].every((w) => listed(c, w)?.status === "dead"),
    );
    expect(listed(c, "w2")).toMatchObject({ status: "dead", stopped: true });
    expect(listed(c, "w3")).not.toHaveProperty("stopped");
    expect(listed(c, "w1")).not.toHaveProperty("stopped");
    expect(listed(c, "d1")).not.toHaveProperty("stopped");

    // A distributor stopped gracefully: it, and the worker still alive under it, are stopped.
    await d2.shutdown(5_000);
    await until("d2 is listed dead", () => listed(c, "d2")?.status === "dead");
    expect(listed(c, "d2")).toMatchObject({ status: "dead", stopped: true });
    expect(listed(c, "w4")).toMatchObject({ status: "dead", stopped: true });
    // /metrics counts them apart too: stopped (w2, w4, d2) is not dead (w3, crashed).
    const m = await coordinatorMetrics(c.coordinator).metrics();
    expect(m).toContain(`triad_agents{tier="distributor",status="stopped"} 1`);
    expect(m).toContain(`triad_agents{tier="distributor",status="idle"} 1`);
    expect(m).not.toContain(`triad_agents{tier="distributor",status="dead"}`);
    expect(m).toContain(`triad_agents{tier="worker",status="stopped"} 2`);
    expect(m).toContain(`triad_agents{tier="worker",status="dead"} 1`);
    expect(m).toContain(`triad_agents{tier="worker",status="idle"} 1`);
  }, 60_000);

  it("a distributor's heartbeat tick that runs on after its stop's last heartbeat does not undo the stop", async () => {
    const c = cluster({ timing: FAST });
    const d2 = await twoDistributors(c);

    // The bad order, made certain: the heartbeat timer fires again once the stop's last
    // heartbeat (`stopping`) is out, before cleanup() stops the timers (under load, a tick that
    // waited on the store while the lease was given back did so).
    const agent = d2 as unknown as { heartbeat(): Promise<void> };
    const client = d2.a2a as unknown as {
      sendHeartbeat(to: string, status: unknown, options?: unknown): Promise<unknown>;
    };
    const send = client.sendHeartbeat.bind(client);
    let lateTicks = 0;
    client.sendHeartbeat = async (to, status, options) => {
      const sent = await send(to, status, options);
      if ((status as { stopping?: unknown }).stopping === true) {
        lateTicks++;
        await agent.heartbeat();
      }
      return sent;
    };
    await d2.shutdown(5_000);
    expect(lateTicks).toBe(1);
    await until("d2 is listed dead", () => listed(c, "d2")?.status === "dead");
    expect(listed(c, "d2")).toMatchObject({ status: "dead", stopped: true });
    expect(listed(c, "w2")).toMatchObject({ status: "dead", stopped: true });
  }, 60_000);

  it("a heartbeat without the lease, from a distributor listed stopped, does not undo the stop", async () => {
    const c = cluster({ timing: FAST });
    await c.startCoordinator();
    await c.startDistributor("d1");
    await c.startWorker("w1", "d1");
    const d2 = await c.startDistributor("d2");
    await c.startWorker("w2", "d2");
    await c.ready();
    await until("w2 is listed", () => listed(c, "w2")?.status === "idle");
    // A plain heartbeat of d2's, as its lease was given back (owns_lease false, `recovering`).
    const late = { ...d2.core.heartbeat(null), status: "recovering", owns_lease: false };
    await d2.shutdown(5_000);
    // Stopped, as its last heartbeat said (under load, maybe only once the store's mark is read).
    await until(
      "d2 is listed stopped",
      () => listed(c, "d2")?.status === "dead" && listed(c, "d2")?.stopped === true,
    );
    await until("d2's stop is marked in the store", async () =>
      (await stoppedDistributors(c.coordinator.store)).has(d2.agentId),
    );

    // It arrives late (held up on the way), sent after the stop's last word by d2's clock.
    const sender = new A2AClient({
      agentId: d2.agentId,
      tokenSecret: resolveSecret(undefined),
      router: null,
    });
    const message = sender.createMessage(c.coordinator.agentId, { status: late }, MessageType.HEARTBEAT);
    expect(await c.coordinator.a2a.handleMessage(message)).toBe(true);
    await sender.close();
    expect(listed(c, "d2")).toMatchObject({ status: "dead", stopped: true });
    await c.coordinator.monitorDistributors();
    expect(listed(c, "d2")).toMatchObject({ status: "dead", stopped: true });
    expect(listed(c, "w2")).toMatchObject({ status: "dead", stopped: true });
    expect(await stoppedDistributors(c.coordinator.store)).toContain(d2.agentId);
  }, 60_000);

  it("a dead distributor's stopped mark written in the store after it was seen dead is taken (the store's record wins)", async () => {
    const c = cluster({ timing: FAST });
    const d2 = await twoDistributors(c);
    // The coordinator's reads of the stopped marks, counted from here (none while none is dead).
    const store = c.coordinator.store;
    const run = store.runScript.bind(store);
    let marksRead = 0;
    store.runScript = (async (...args: Parameters<typeof run>) => {
      const reply = await run(...args);
      if (args[2]?.[0] === "read" && String(args[1]?.[0]) === "agents:distributors") marksRead++;
      return reply;
    }) as typeof store.runScript;

    // The bad order, made certain: d2 falls silent and is declared dead (crashed) here, its
    // marks read; only then does a stop heard by another coordinator get its mark written.
    await c.crash(d2);
    await until("d2 is listed dead", () => listed(c, "d2")?.status === "dead");
    await until("the marks were read since d2 died", () => marksRead > 0);
    expect(listed(c, "d2")).not.toHaveProperty("stopped");
    const roster = new DistributorRoster({
      store,
      ledger: c.coordinator.ledger,
      directory: c.coordinator.core.directory,
      timing: { deadRetentionMs: FAST.deadRetentionMs },
    });
    await roster.stopped(d2.agentId, null);
    await until("d2 is listed stopped", () => listed(c, "d2")?.stopped === true);
    expect(listed(c, "d2")).toMatchObject({ status: "dead", stopped: true });
    expect(listed(c, "w2")).toMatchObject({ status: "dead", stopped: true });
  }, 60_000);

  it("a distributor stopped with cleanup() (the seed's stop), and its workers, are listed stopped, not as a crash", async () => {
    const c = cluster({ timing: FAST });
    await c.startCoordinator();
    const d1 = await c.startDistributor("d1");
    const w1 = await c.startWorker("w1", "d1");
    await c.startWorker("w2", "d1"); // alive under d1 when it stops
    await c.startDistributor("d2");
    await c.startWorker("w3", "d2");
    await c.ready();
    await until("w1 and w2 are listed", () => ["w1", "w2"].every((w) => listed(c, w)?.status === "idle"));

    // The seed's order: a worker's cleanup() first, and once d1 has declared it dead, d1's own.
    await w1.cleanup();
    await until("d1 declares w1 dead", () => d1.core.registry.get(w1.agentId)?.status === "dead");
    await d1.cleanup();
    await until("d1 is listed dead", () => listed(c, "d1")?.status === "dead");
    expect(listed(c, "d1")).toMatchObject({ status: "dead", stopped: true });
    expect(listed(c, "w1")).toMatchObject({ status: "dead", stopped: true });
    expect(listed(c, "w2")).toMatchObject({ status: "dead", stopped: true });
    expect(listed(c, "w2")).not.toHaveProperty("reason");
    const m = await coordinatorMetrics(c.coordinator).metrics();
    expect(m).toContain(`triad_agents{tier="distributor",status="stopped"} 1`);
    expect(m).toContain(`triad_agents{tier="worker",status="stopped"} 2`);
    expect(m).not.toContain(`triad_agents{tier="worker",status="dead"}`);
    expect(m).not.toContain(`triad_agents{tier="worker",status="unknown"}`);
  }, 60_000);

  it("a crashed distributor's workers, still running, are listed unknown (reason distributor_dead), not dead", async () => {
    const c = cluster({ timing: FAST });
    await c.startCoordinator();
    const d1 = await c.startDistributor("d1");
    await c.startWorker("w1", "d1"); // never stopped: it runs on, unheard
    await c.startDistributor("d2");
    await c.startWorker("w2", "d2");
    await c.ready();
    await until("w1 is listed idle", () => listed(c, "w1")?.status === "idle");

    await c.crash(d1);
    await until("d1 is listed dead", () => listed(c, "d1")?.status === "dead");
    expect(listed(c, "w1")).toMatchObject({ status: "unknown", reason: "distributor_dead" });
    expect(listed(c, "w1")).not.toHaveProperty("stopped");
    expect(listed(c, "w2")).not.toHaveProperty("reason");
    const m = await coordinatorMetrics(c.coordinator).metrics();
    expect(m).toContain(`triad_agents{tier="worker",status="unknown"} 1`);
    expect(m).not.toContain(`triad_agents{tier="worker",status="dead"}`);
  }, 60_000);

  it("a dead worker is listed as dead, then forgotten, and listed again when it comes back", async () => {
    const c = cluster({ timing: { ...FAST, deadRetentionMs: RETENTION_MS } });
    await c.startCoordinator();
    await c.startDistributor("d1");
    await c.startWorker("w1", "d1");
    const w2 = await c.startWorker("w2", "d1");
    await c.ready();
    await until("w2 is listed", () => listed(c, "w2")?.status === "idle");

    await c.crash(w2);
    await until("w2 is listed dead", () => listed(c, "w2")?.status === "dead");
    await until("w2 is forgotten", () => listed(c, "w2") === undefined);
    expect(listed(c, "w1")?.status).toBe("idle");
    expect(listed(c, "d1")?.status).not.toBe("dead");

    await c.startWorker("w2", "d1");
    await until("w2 is listed alive again", () => listed(c, "w2")?.status === "idle");
  }, 60_000);
});
