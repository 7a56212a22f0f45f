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
    const [c1, c2] = set.coordinators as [CoordinatorAgent, CoordinatorAgent];
    const [s1, s2] = set.servers as [RunningServer, RunningServer];
    // No distributor yet: the task waits unplaced, and its cancel through c1 ends it there.
    expect(await c1.submitTask({ task_id: "gone", task_type: "echo", payload: {} })).toBe(true);
    expect(await c1.core.cancel("gone", "test")).toMatchObject({ canceled: true });
    const ended = c1.core.recentTasks().find((t) => t.task_id === "gone");
    expect(ended?.status).toBeDefined();
    const status = ended!.status;
    expect(c2.core.recentTasks().some((t) => t.task_id === "gone")).toBe(false);

    // c2's own window lacks it; the cluster's list (asked of c2, with c2's token sent to c1) has it.
    expect((await list(s2, `?status=${status}&scope=local`)).tasks).toEqual([]);
    const byStatus = await list(s2, `?status=${status}`);
    expect(byStatus.partial).toBeUndefined();
    expect(byStatus.tasks.map((t) => t.task_id)).toEqual(["gone"]);
    expect((await list(s2, "")).tasks.map((t) => t.task_id)).toContain("gone");

    // Tasks completed through either coordinator: every one listed once by each, newest end first.
    await set.worker(c1);
    const ids = Array.from({ length: 20 }, (_, i) => `t${i}`);
    for (const [i, id] of ids.entries())
      await set.coordinators[i % 2]!.submitTask({ task_id: id, task_type: "echo", payload: { i } });
    for (const id of ids) expect((await c2.waitForTask(id, 8000))?.status).toBe("completed");
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

    // A2A ListTasks answers from the same cluster-wide list (c1's finished tasks asked of c2).
    const a2a = await new TriadTaskStore(c2, TOKEN).list(ListTasksRequest.fromJSON({ pageSize: 100 }));
    expect(a2a.tasks.map((t) => t.id).sort()).toEqual(["gone", ...ids].sort());
    // Without the token c1 refuses c2's question: only c2's own window is listed then.
    const alone = await new TriadTaskStore(c2).list(ListTasksRequest.fromJSON({ pageSize: 100 }));
    expect(alone.tasks.map((t) => t.id)).not.toContain("gone");
  });

  it("a coordinator that does not answer makes the list partial, not an error", async () => {
    set = new Set3(engine.config());
    await set.start(3, 300);
    const [c1, c2, c3] = set.coordinators as [CoordinatorAgent, CoordinatorAgent, CoordinatorAgent];
    const [s1] = set.servers as [RunningServer];
    expect(await c2.submitTask({ task_id: "via-c2", task_type: "echo", payload: {} })).toBe(true);
    await c2.core.cancel("via-c2", "test");
    const status = (await c2.core.getTask("via-c2"))!.status;

    // c3's API stops answering at all (a frozen process: the connection opens, nothing comes back),
    // while c3 itself stays alive in the views; c2's API is down (connection refused).
    const held = new Set<Socket>();
    const silent: Server = createServer((socket) => held.add(socket));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", () => r()));
    set.others.push({
      stop: () =>
        new Promise<void>((r) => {
          for (const socket of held) socket.destroy();
          silent.close(() => r());
        }),
    });
    const port = (silent.address() as { port: number }).port;
    c3.apiUrl = `http://127.0.0.1:${port}`;
    await until("c1 sees c3's new address", () =>
      c1.cluster.peers.others().some((p) => p.id === c3.agentId && p.api_url === c3.apiUrl),
    );
    const s2 = set.servers[1]!;
    await s2.close();
    set.servers.splice(1, 1);

    const answer = await list(s1, `?status=${status}`);
    expect(answer.partial).toBe(true);
    expect(answer.unreached).toEqual([c2.agentId, c3.agentId].sort());
    // c1's own window still answers (empty here: the task ended through c2).
    expect(answer.tasks).toEqual([]);
    const all = await list(s1, "");
    expect(all.partial).toBe(true);
  });

  it("a coordinator with another token is not read: the list says so", async () => {
    set = new Set3(engine.config());
    await set.start(2);
    const [c1, c2] = set.coordinators as [CoordinatorAgent, CoordinatorAgent];
    await c2.submitTask({ task_id: "other-token", task_type: "echo", payload: {} });
    await c2.core.cancel("other-token", "test");
    const status = (await c2.core.getTask("other-token"))!.status;
    // c2 now wants another token: c1's (forwarded) is refused there.
    const s2 = set.servers[1]!;
    await s2.close();
    const again = await startCoordinatorServer(c2, { port: 0, apiToken: "another" });
    set.servers[1] = again;
    await until("c1 sees c2's new address", () =>
      c1.cluster.peers.others().some((p) => p.id === c2.agentId && p.api_url === again.url),
    );
    const answer = await list(set.servers[0]!, `?status=${status}`);
    expect(answer).toMatchObject({ partial: true, unreached: [c2.agentId], tasks: [] });
    // Asked directly with its own token, c2 lists it.
    expect((await list(again, `?status=${status}`, "another")).tasks.map((t) => t.task_id)).toContain(
      "other-token",
    );
  });
});
