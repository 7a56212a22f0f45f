import { createServer, type Server, type Socket } from "node:net";
import { ListTasksRequest } from "@a2a-js/sdk";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CoordinatorAgent, DistributorAgent, type RedisConfig, WorkerAgent } from "../../../src/index.js";
import { TriadTaskStore } from "../../../src/server/a2a-gateway/triad-task-store.js";
import { type RunningServer, startCoordinatorServer } from "../../../src/server/coordinator-server.js";
import { FAST, FaultyRouter } from "../../helpers/cluster.js";
import { testEngines } from "../../helpers/engines.js";
import { until } from "../../helpers/wait.js";

/**
 * GET /tasks and A2A ListTasks with several coordinators (issue #19 item 4): the finished tasks
 * of every live coordinator, whichever is asked; a coordinator that does not answer makes the
 * list partial, never an error.
 */

const TOKEN = "cluster-list-token";
/**
 * FAST's heartbeats with a 5 s timeout: nothing here dies, and with FAST's 400 ms a coordinator's
 * view lived 325 ms (ownershipTiming), so a test process that a loaded 2-core machine stalled
 * longer saw a live peer's view expire, and left it out of the list (or out of `unreached`).
 */
const TIMING = { ...FAST, heartbeatTimeoutMs: 5000 };

type TaskList = {
  tasks: Array<{ task_id: string; status: string }>;
  partial?: boolean;
  unreached?: string[];
};

async function list(server: RunningServer, query: string, token = TOKEN): Promise<TaskList> {
  const res = await fetch(`${server.url}/tasks${query}`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as TaskList;
}

/**
 * Where in `set` the coordinator is whose window holds `taskId`, once the task ended. A task
 * canceled through one coordinator is not always in that one's window: the cancel marks it
 * first, and another coordinator's tick can sweep the mark and end the task before the cancel's
 * own abandon does (CoordinatorCore.cancel). The later the cancel's abandon comes (a loaded
 * machine), the likelier.
 */
async function holderOf(set: Set3, taskId: string): Promise<number> {
  let at = -1;
  await until(`a coordinator's window holds ${taskId}`, () => {
    at = set.coordinators.findIndex((c) => c.core.recentTasks().some((t) => t.task_id === taskId));
    return at >= 0;
  });
  return at;
}

class Set3 {
  readonly router = new FaultyRouter();
  readonly coordinators: CoordinatorAgent[] = [];
  readonly servers: RunningServer[] = [];
  readonly others: Array<{ stop(): Promise<void> }> = [];
  private readonly run = Math.random().toString(36).slice(2, 7);

  constructor(readonly redis: RedisConfig) {}

  /**
   * `peerTimeoutMs`: how long a coordinator waits for each other one's window. Ten seconds by
   * default, not the product's one: these coordinators share one process, which a loaded 2-core
   * machine can leave without the CPU for over a second, and the lists here must not be partial
   * for that. A test of a peer that does not answer makes one not answer, and passes less.
   */
  async start(n: number, peerTimeoutMs = 10_000): Promise<void> {
    for (let i = 1; i <= n; i++) {
      const c = new CoordinatorAgent({
        agentId: `c${i}-${this.run}`,
        redis: this.redis,
        a2a: { router: this.router },
        timing: TIMING,
        placementTimeoutMs: 20_000,
      });
      this.coordinators.push(c);
    }
    await Promise.all(this.coordinators.map((c) => c.initialize()));
    for (const c of this.coordinators)
      this.servers.push(await startCoordinatorServer(c, { port: 0, apiToken: TOKEN, peerTimeoutMs }));
    await this.viewsCarryUrls();
  }

  /** Every coordinator sees every other one's REST address in its view. */
  async viewsCarryUrls(): Promise<void> {
    await until("every view carries its coordinator's REST address", () =>
      this.coordinators.every((c) => {
        const others = c.cluster.peers.others();
        return (
          others.length === this.coordinators.length - 1 &&
          others.every((p) => p.api_url === this.coordinators.find((x) => x.agentId === p.id)?.apiUrl)
        );
      }),
    );
  }

  async worker(home: CoordinatorAgent): Promise<void> {
    const d = new DistributorAgent({
      agentId: `d-${this.run}`,
      coordinatorId: home.agentId,
      redis: this.redis,
      a2a: { router: this.router },
      timing: TIMING,
    });
    await d.initialize();
    const w = new WorkerAgent({
      agentId: `w-${this.run}`,
      distributorId: d.agentId,
      a2a: { router: this.router },
      timing: TIMING,
      concurrency: 8,
    });
    await w.initialize();
    this.others.push({ stop: () => w.cleanup() }, { stop: () => d.cleanup() });
    await until("every coordinator knows the distributor with its worker", () =>
      this.coordinators.every((c) => (c.core.directory.get(d.agentId)?.capacity ?? 0) > 0),
    );
  }

  async stop(): Promise<void> {
    for (const o of this.others) await o.stop().catch(() => {});
    for (const s of this.servers) await s.close().catch(() => {});
    for (const c of this.coordinators) await c.cleanup().catch(() => {});
  }
}

describe.each(testEngines("cluster-task-list"))("cluster-wide task lists on $name", (engine) => {
  let set: Set3 | undefined;
  beforeAll(() => engine.setup());
  afterEach(async () => {
    await set?.stop();
    set = undefined;
  });
  afterAll(() => engine.teardown());

  it("GET /agents gives each other coordinator's last heartbeat (when it last wrote its view)", async () => {
    set = new Set3(engine.config());
    await set.start(2);
    const [, c2] = set.coordinators as [CoordinatorAgent, CoordinatorAgent];
    const [s1] = set.servers as [RunningServer, RunningServer];
    const asked = Date.now();
    const res = await fetch(`${s1.url}/agents`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const { agents } = (await res.json()) as {
      agents: Array<{ id: string; tier: string; last_heartbeat: string }>;
    };
    const peer = agents.find((a) => a.id === c2.agentId);
    expect(peer?.tier).toBe("coordinator");
    // Written every tick (FAST: ~100 ms apart), so within a few seconds of the question either way.
    expect(Math.abs(Date.parse(peer!.last_heartbeat) - asked)).toBeLessThan(5_000);
  });

  it("GET /agents gives the whole cluster's task counts beside the asked coordinator's own", async () => {
    set = new Set3(engine.config());
    await set.start(2);
    const [c1, c2] = set.coordinators as [CoordinatorAgent, CoordinatorAgent];
    const [, s2] = set.servers as [RunningServer, RunningServer];
    await set.worker(c1);
    const ids = Array.from({ length: 10 }, (_, i) => `n${i}`);
    for (const id of ids) await c1.submitTask({ task_id: id, task_type: "echo", payload: {} });
    for (const id of ids) expect((await c2.waitForTask(id, 8000))?.status).toBe("completed");
    type Counts = Record<string, number>;
    const agentsOf = async () =>
      (await (await fetch(`${s2.url}/agents`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as {
        tasks: Counts;
        cluster_tasks: Counts;
      };
    // c1's counts reach c2 with c1's next view.
    await until("c2's answer counts c1's tasks", async () => {
      const body = await agentsOf();
      return body.cluster_tasks?.completed === 10;
    });
    const body = await agentsOf();
    expect(body.tasks.submitted).toBe(0); // c2's own: it accepted nothing
    expect(body.cluster_tasks).toMatchObject({ submitted: 10, completed: 10, failed: 0, waiting: 0 });
  });

  it("a task that ended through one coordinator is listed by another, with the token forwarded", async () => {
    set = new Set3(engine.config());
    await set.start(2);
    const [c1] = set.coordinators as [CoordinatorAgent, CoordinatorAgent];
    const [s1, s2] = set.servers as [RunningServer, RunningServer];
    // No distributor yet: the task waits unplaced, and its cancel through c1 ends it.
    expect(await c1.submitTask({ task_id: "gone", task_type: "echo", payload: {} })).toBe(true);
    expect(await c1.core.cancel("gone", "test")).toMatchObject({ canceled: true });
    // It is in one window (c1's, or c2's when c2's tick ended it first: holderOf); the other is asked.
    const held = await holderOf(set, "gone");
    const holder = set.coordinators[held]!;
    const asker = set.coordinators[1 - held]!;
    const asked = set.servers[1 - held]!;
    const status = holder.core.recentTasks().find((t) => t.task_id === "gone")!.status;
    expect(asker.core.recentTasks().some((t) => t.task_id === "gone")).toBe(false);

    // The asked one's own window lacks it; the cluster's list (with its token sent on) has it.
    expect((await list(asked, `?status=${status}&scope=local`)).tasks).toEqual([]);
    const byStatus = await list(asked, `?status=${status}`);
    expect(byStatus.partial).toBeUndefined();
    expect(byStatus.tasks.map((t) => t.task_id)).toEqual(["gone"]);
    expect((await list(asked, "")).tasks.map((t) => t.task_id)).toContain("gone");

    // Tasks completed through either coordinator: every one listed once by each, newest end first.
    await set.worker(c1);
    const ids = Array.from({ length: 20 }, (_, i) => `t${i}`);
    for (const [i, id] of ids.entries())
      await set.coordinators[i % 2]!.submitTask({ task_id: id, task_type: "echo", payload: { i } });
    for (const id of ids) expect((await asker.waitForTask(id, 8000))?.status).toBe("completed");
    for (const s of [s1, s2]) {
      const done = await list(s, "?status=completed");
      expect(done.partial).toBeUndefined();
      expect(done.tasks.map((t) => t.task_id).sort()).toEqual([...ids].sort());
      const ends = done.tasks.map((t) => (t as unknown as { completed_at: string }).completed_at);
      expect(ends).toEqual([...ends].sort().reverse());
      // The limit applies after the merge.
      expect((await list(s, "?status=completed&limit=5")).tasks).toEqual(done.tasks.slice(0, 5));
    }
    // Each task is in exactly one window: the windows of both, asked locally, add up to the 20.
    const local = [
      ...(await list(s1, "?status=completed&scope=local")).tasks,
      ...(await list(s2, "?status=completed&scope=local")).tasks,
    ].map((t) => t.task_id);
    expect(local.sort()).toEqual([...ids].sort());

    // A2A ListTasks answers from the same cluster-wide list (the holder's finished tasks asked of the other).
    const a2a = await new TriadTaskStore(asker, TOKEN).list(ListTasksRequest.fromJSON({ pageSize: 100 }));
    expect(a2a.tasks.map((t) => t.id).sort()).toEqual(["gone", ...ids].sort());
    // Without the token the holder refuses the question: only the asked one's own window is listed then.
    const alone = await new TriadTaskStore(asker).list(ListTasksRequest.fromJSON({ pageSize: 100 }));
    expect(alone.tasks.map((t) => t.id)).not.toContain("gone");
  });

  it("a coordinator that does not answer makes the list partial, not an error", async () => {
    set = new Set3(engine.config());
    await set.start(3, 300);
    const c2 = set.coordinators[1]!;
    expect(await c2.submitTask({ task_id: "canceled", task_type: "echo", payload: {} })).toBe(true);
    await c2.core.cancel("canceled", "test");
    // Asked: a coordinator whose window lacks the task (it ended in one of the three: holderOf).
    const held = await holderOf(set, "canceled");
    const status = set.coordinators[held]!.core.recentTasks().find((t) => t.task_id === "canceled")!.status;
    const at = held === 0 ? 1 : 0;
    const [frozenAt, downAt] = [0, 1, 2].filter((i) => i !== at) as [number, number];
    const asker = set.coordinators[at]!;
    const frozen = set.coordinators[frozenAt]!;
    const down = set.coordinators[downAt]!;
    const asked = set.servers[at]!;

    // One API stops answering at all (a frozen process: the connection opens, nothing comes back),
    // while its coordinator stays alive in the views; another's API is down (connection refused).
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => sockets.add(socket));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", () => r()));
    set.others.push({
      stop: () =>
        new Promise<void>((r) => {
          for (const socket of sockets) socket.destroy();
          silent.close(() => r());
        }),
    });
    const port = (silent.address() as { port: number }).port;
    frozen.apiUrl = `http://127.0.0.1:${port}`;
    await until("the asked coordinator sees the frozen one's new address", () =>
      asker.cluster.peers.others().some((p) => p.id === frozen.agentId && p.api_url === frozen.apiUrl),
    );
    const downServer = set.servers[downAt]!;
    await downServer.close();
    set.servers.splice(downAt, 1);

    const answer = await list(asked, `?status=${status}`);
    expect(answer.partial).toBe(true);
    expect(answer.unreached).toEqual([down.agentId, frozen.agentId].sort());
    // The asked one's own window still answers (empty here: the task is in another's).
    expect(answer.tasks).toEqual([]);
    const all = await list(asked, "");
    expect(all.partial).toBe(true);
  });

  it("a coordinator with another token is not read: the list says so", async () => {
    set = new Set3(engine.config());
    await set.start(2);
    const c2 = set.coordinators[1]!;
    await c2.submitTask({ task_id: "other-token", task_type: "echo", payload: {} });
    await c2.core.cancel("other-token", "test");
    // The coordinator whose window holds it (c2's, or c1's when c1's tick ended it first:
    // holderOf) now wants another token: the other's (forwarded) is refused there.
    const held = await holderOf(set, "other-token");
    const holder = set.coordinators[held]!;
    const asker = set.coordinators[1 - held]!;
    const status = holder.core.recentTasks().find((t) => t.task_id === "other-token")!.status;
    await set.servers[held]!.close();
    const again = await startCoordinatorServer(holder, { port: 0, apiToken: "another" });
    set.servers[held] = again;
    await until("the other coordinator sees the holder's new address", () =>
      asker.cluster.peers.others().some((p) => p.id === holder.agentId && p.api_url === again.url),
    );
    const answer = await list(set.servers[1 - held]!, `?status=${status}`);
    expect(answer).toMatchObject({ partial: true, unreached: [holder.agentId], tasks: [] });
    // Asked directly with its own token, the holder lists it.
    expect((await list(again, `?status=${status}`, "another")).tasks.map((t) => t.task_id)).toContain(
      "other-token",
    );
  });
});
