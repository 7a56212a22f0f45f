import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { TaskLedger } from "../../../src/agents/ledger/task-ledger.js";
import { MessageType } from "../../../src/core/messaging/index.js";
import {
  CoordinatorAgent,
  DistributorAgent,
  RedisClient,
  type RedisConfig,
  type Timing,
  WorkerAgent,
} from "../../../src/index.js";
import { agentList } from "../../../src/server/coordinator-api.js";
import { coordinatorMetrics } from "../../../src/server/metrics.js";
import { FAST, FaultyRouter } from "../../helpers/cluster.js";
import { testEngines } from "../../helpers/engines.js";
import { PATIENT } from "../../helpers/two-coordinators.js";
import { until } from "../../helpers/wait.js";

/** SPEC "Several coordinators": any accepts and answers, work split by shard leases, failover. */

/** Bound of the waits of the tests that had them too short for a loaded machine (a bound, not a speed check). */
const WAIT_MS = 30_000;
/** Bound of those tests: a few of those waits and the agents' start-ups. */
const TEST_MS = 4 * WAIT_MS;

/** The tasks other coordinators asked `c` to tell them the end of. */
function watchedOn(c: CoordinatorAgent): Map<string, number> {
  return (c.cluster as unknown as { watchedElsewhere: Map<string, number> }).watchedElsewhere;
}

/** Coordinators c1..cN, distributors each homed on one coordinator (knowing all), a worker each; one router. */
class Coordinators {
  readonly router = new FaultyRouter();
  readonly coordinators: CoordinatorAgent[] = [];
  readonly distributors: DistributorAgent[] = [];
  readonly workers: WorkerAgent[] = [];
  readonly commits = new Map<string, number>();
  /** Every agent a heartbeat was sent to, by sender: a distributor that moved (and maybe back) names more than one. */
  readonly heartbeated = new Map<string, Set<string>>();
  private readonly run = Math.random().toString(36).slice(2, 7);
  /** Tasks of type "held" run until release() (then at once): a test decides when they end. */
  private readonly holding: Array<() => void> = [];
  private released = false;

  /**
   * FAST timing unless given: PATIENT for the tests of what is heard while every coordinator
   * lives (a 400 ms stall of a loaded process had the others list it dead and take its work).
   */
  constructor(
    readonly redis: RedisConfig,
    readonly timing: Timing = FAST,
  ) {
    const deliver = this.router.deliver.bind(this.router);
    this.router.deliver = (message, ...rest) => {
      if (message.type === MessageType.HEARTBEAT) {
        const to = this.heartbeated.get(message.sender) ?? new Set<string>();
        this.heartbeated.set(message.sender, to.add(message.recipient));
      }
      return deliver(message, ...rest);
    };
  }

  /** Whether a distributor heartbeated another coordinator than its first at any time (where it ended up may be its first again). */
  anyDistributorMoved(): boolean {
    return this.distributors.some((d) => (this.heartbeated.get(d.agentId)?.size ?? 0) > 1);
  }

  /** Ends every "held" task, running or to come. */
  release(): void {
    this.released = true;
    for (const end of this.holding.splice(0)) end();
  }

  id(name: string): string {
    return `${name}-${this.run}`;
  }

  async start(coordinators: number, distributors: number): Promise<void> {
    for (let i = 1; i <= coordinators; i++) {
      const c = new CoordinatorAgent({
        agentId: this.id(`c${i}`),
        redis: this.redis,
        a2a: { router: this.router },
        timing: this.timing,
        placementTimeoutMs: 20_000,
      });
      this.coordinators.push(c);
    }
    await Promise.all(this.coordinators.map((c) => c.initialize()));
    for (let i = 0; i < distributors; i++) await this.addDistributor();
    await this.sharesSettled(this.coordinators);
  }

  /** A distributor homed on the next coordinator in turn (knowing all), with one worker; known to every coordinator. */
  async addDistributor(): Promise<void> {
    const ids = this.coordinators.map((c) => c.agentId);
    {
      const i = this.distributors.length;
      const home = i % ids.length;
      const order = [...ids.slice(home), ...ids.slice(0, home)];
      const d = new DistributorAgent({
        agentId: this.id(`d${i + 1}`),
        coordinatorId: order[0]!,
        coordinators: order.slice(1).map((id) => ({ id })),
        redis: this.redis,
        a2a: { router: this.router },
        timing: this.timing,
        taskTimeoutMs: 10_000,
        events: {
          committed: (task) => this.commits.set(task.task_id, (this.commits.get(task.task_id) ?? 0) + 1),
        },
      });
      await d.initialize();
      this.distributors.push(d);
      const w = new WorkerAgent({
        agentId: this.id(`w${i + 1}`),
        distributorId: d.agentId,
        a2a: { router: this.router },
        timing: this.timing,
        concurrency: 8,
        handlers: {
          held: () =>
            this.released
              ? Promise.resolve({})
              : new Promise((resolve) => this.holding.push(() => resolve({}))),
        },
      });
      await w.initialize();
      this.workers.push(w);
    }
    // Every coordinator sees every distributor (its own heartbeats or another coordinator's view).
    await until("every coordinator knows every distributor with its workers", () =>
      this.coordinators.every((c) =>
        this.distributors.every((d) => (c.core.directory.get(d.agentId)?.capacity ?? 0) > 0),
      ),
    );
  }

  /** Waits until `alive` own all 16 shards between them, evenly (within one), none twice. */
  async sharesSettled(alive: CoordinatorAgent[], timeoutMs?: number): Promise<void> {
    await until(
      "the shards are spread over the coordinators alive",
      () => {
        const owned = alive.map((c) => c.cluster.leases.owned());
        const all = owned.flat();
        const sizes = owned.map((o) => o.length);
        return all.length === 16 && new Set(all).size === 16 && Math.max(...sizes) - Math.min(...sizes) <= 1;
      },
      timeoutMs,
    );
  }

  /** As kill -9: timers stop, leases are not given back, messages to and from it are lost. */
  async crash(c: CoordinatorAgent): Promise<void> {
    this.router.frozen.add(c.agentId);
    c.core.stop();
    await c.cluster.stop({ release: false });
    (c as unknown as { stopTimers(): void }).stopTimers();
  }

  async stop(): Promise<void> {
    for (const w of this.workers) await w.cleanup().catch(() => {});
    for (const d of this.distributors) await d.cleanup().catch(() => {});
    for (const c of this.coordinators) await c.cleanup().catch(() => {});
  }
}

describe.each(testEngines("several-coordinators", { cluster: true }))(
  "several coordinators on $name",
  (engine) => {
    let set: Coordinators | undefined;
    beforeAll(() => engine.setup());
    afterEach(async () => {
      await set?.stop();
      set = undefined;
    });
    afterAll(() => engine.teardown());

    it("three coordinators split the 16 shards, each accepts tasks, and any one answers for a task submitted through another", async () => {
      set = new Coordinators(engine.config());
      await set.start(3, 2);
      const [c1, c2, c3] = set.coordinators as [CoordinatorAgent, CoordinatorAgent, CoordinatorAgent];
      expect(c1.cluster.peers.members()).toEqual([c1.agentId, c2.agentId, c3.agentId].sort());

      const ids: string[] = [];
      for (let i = 0; i < 60; i++) {
        const via = set.coordinators[i % 3]!;
        const id = `t${i}`;
        ids.push(id);
        expect(await via.submitTask({ task_id: id, task_type: "echo", payload: { i } })).toBe(true);
      }
      // Submitting an id again through another coordinator records nothing.
      expect(await c2.submitTask({ task_id: "t0", task_type: "echo", payload: {} })).toBe(false);
      // Each task awaited through a coordinator it was not submitted through.
      const done = await Promise.all(
        ids.map((id, i) => set!.coordinators[(i + 1) % 3]!.waitForTask(id, 8000)),
      );
      expect(done.map((t) => t?.status)).toEqual(ids.map(() => "completed"));
      expect(done[7]).toMatchObject({ task_id: "t7", result: { i: 7 } });
      await until("every commit is in", () => ids.every((id) => set!.commits.has(id)));
      expect(ids.filter((id) => set!.commits.get(id) !== 1)).toEqual([]);
      // Counters add up across coordinators: each end is counted once, where it was reported
      // (a distributor that moved coordinators mid-run — a starved machine — may report one twice).
      // A report is on its way after the waiters are answered (a waiter that waited long reads the
      // ledger; the distributor's report to the placing coordinator may still be queued on a
      // loaded machine): the count is waited for, then checked.
      const completed = () => set!.coordinators.reduce((n, c) => n + c.core.stats.completed, 0);
      const submitted = set.coordinators.reduce((n, c) => n + c.core.stats.submitted, 0);
      expect(submitted).toBe(60);
      await until("every end is counted", () => completed() >= 60);
      if (set.anyDistributorMoved()) expect(completed()).toBeGreaterThanOrEqual(60);
      else expect(completed()).toBe(60);
      expect(await c3.core.getTask("t1")).toMatchObject({ status: "completed" });
      // GET /agents of any coordinator lists the whole cluster: every coordinator with its shards, every
      // distributor (from the views the others keep fresh: waited for, a loaded machine may delay one).
      const wanted = [c1.agentId, c2.agentId, c3.agentId].sort().join();
      await until("c2 lists every coordinator, the 16 shards and both distributors", () => {
        const listed = agentList(c2);
        const coordinators = listed.filter((a) => a.tier === "coordinator");
        const shards = new Set(coordinators.flatMap((a) => a.shards as number[]));
        const distributors = listed.filter((a) => a.tier === "distributor").map((a) => a.id);
        return (
          coordinators
            .map((a) => a.id)
            .sort()
            .join() === wanted &&
          shards.size === 16 &&
          set!.distributors.every((d) => distributors.includes(d.agentId))
        );
      });
      // The shards c3 owns may move between two reads on a loaded machine: polled until the metric
      // and owned() are read at a moment they agree.
      let metrics = "";
      await until("triad_shards_owned says what c3 owns", async () => {
        metrics = await coordinatorMetrics(c3).metrics();
        return metrics.includes(`triad_shards_owned ${c3.cluster.leases.owned().length}\n`);
      });
      const alive = c3.cluster.peers.members().length;
      expect(metrics).toContain(`triad_agents{tier="coordinator",status="idle"} ${alive}`);
    });

    it(
      "a coordinator killed among three: its shards and its distributor move to the others within the timeout, nothing is lost or committed twice",
      async () => {
        // PATIENT: a live coordinator stalled 400 ms on a loaded machine is not taken for dead too.
        set = new Coordinators(engine.config(), PATIENT);
        await set.start(3, 3);
        const [c1, c2, c3] = set.coordinators as [CoordinatorAgent, CoordinatorAgent, CoordinatorAgent];
        const d1 = set.distributors[0]!;
        expect(d1.coordinatorId).toBe(c1.agentId);
        // Tasks of every shard (c1's too), some still running when c1 dies.
        const before: string[] = [];
        for (let i = 0; i < 40; i++) {
          before.push(`a${i}`);
          await set.coordinators[i % 3]!.submitTask({
            task_id: `a${i}`,
            task_type: "sleep",
            payload: { ms: 30 },
          });
        }
        await set.crash(c1);
        const after: string[] = [];
        for (let i = 0; i < 40; i++) {
          after.push(`b${i}`);
          await (i % 2 ? c2 : c3).submitTask({ task_id: `b${i}`, task_type: "echo", payload: { i } });
        }
        await set.sharesSettled([c2, c3], WAIT_MS);
        await until("d1 reports to another coordinator", () => d1.coordinatorId !== c1.agentId, WAIT_MS);
        const all = [...before, ...after];
        const done = await Promise.all(all.map((id, i) => (i % 2 ? c2 : c3).waitForTask(id, WAIT_MS)));
        expect(done.map((t) => t?.status)).toEqual(all.map(() => "completed"));
        await until("every commit is in", () => all.every((id) => set!.commits.has(id)), WAIT_MS);
        expect(all.filter((id) => set!.commits.get(id) !== 1)).toEqual([]);
        // c1 is struck off once silent for the heartbeat timeout (its leases may expire first).
        const alive = [c2.agentId, c3.agentId].sort().join();
        await until("c2 lists c2 and c3 alone", () => c2.cluster.peers.members().join() === alive, WAIT_MS);
      },
      TEST_MS,
    );

    it("a task accepted with no distributor by a coordinator that does not own its shard is placed by the owner once one comes", async () => {
      set = new Coordinators(engine.config());
      await set.start(2, 0);
      const [c1, c2] = set.coordinators as [CoordinatorAgent, CoordinatorAgent];
      const ids: string[] = [];
      for (let i = 0; ids.length < 10; i++) {
        if (c1.cluster.ownerValue(`h${i}`) !== null) ids.push(`h${i}`);
      }
      for (const id of ids)
        expect(await c2.submitTask({ task_id: id, task_type: "echo", payload: {} })).toBe(true);
      // c2 hands them to their shard's owner, which holds them until a distributor comes.
      await until("the owner holds them unplaced", () => c1.core.unplacedCount === 10);
      expect(c2.core.unplacedCount).toBe(0);
      await set.addDistributor();
      const done = await Promise.all(ids.map((id) => c2.waitForTask(id, 8000)));
      expect(done.map((t) => t?.status)).toEqual(ids.map(() => "completed"));
    });

    it("a task's end is reported to the coordinator that placed it, or to the distributor's own once that one does not answer", async () => {
      // PATIENT: a live coordinator stalled 400 ms on a loaded machine is not taken for dead (d2
      // would heartbeat c1 instead, and c1's reports would have no one else to fall back on).
      set = new Coordinators(engine.config(), PATIENT);
      await set.start(2, 2);
      const [c1, c2] = set.coordinators as [CoordinatorAgent, CoordinatorAgent];
      const d2 = set.distributors[1]!;
      expect(d2.coordinatorId).toBe(c2.agentId);
      const reports = new Map<string, number>();
      const deliver = set.router.deliver.bind(set.router);
      set.router.deliver = (message, ...rest) => {
        if (message.payload.event_type === "task_terminal" && message.sender === d2.agentId)
          reports.set(message.recipient, (reports.get(message.recipient) ?? 0) + 1);
        return deliver(message, ...rest);
      };
      // c1 places a task on d2, which heartbeats c2: the end comes back to c1 alone.
      const task = { task_id: "placed-by-c1", task_type: "echo", payload: { n: 1 } };
      const waiting = c1.waitForTask(task.task_id, 8000);
      expect(await c1.assignTaskToDistributor(task, d2.agentId)).toBe(true);
      expect(await waiting).toMatchObject({ status: "completed", result: { n: 1 } });
      // The waiter may be answered first by c1's catch-up read of the ledger (a loaded machine;
      // not alone, c1 does not count what it read): the report, and its count, come after.
      await until("d2 reports the end to c1", () => reports.get(c1.agentId) !== undefined);
      await until("c1 counts the end", () => c1.core.stats.completed >= 1);
      expect(reports.get(c1.agentId)).toBe(1);
      expect(reports.get(c2.agentId)).toBeUndefined();
      expect(c1.core.stats.completed).toBe(1);
      expect(c2.core.stats.completed).toBe(0);
      // Once c1 is gone, the end of what it placed goes to d2's own coordinator.
      // It runs until c1 is gone: a fixed run time could end first on a loaded machine (c1's
      // cleanup slower than it), its report then taken by c1.
      const slow = { task_id: "placer-gone", task_type: "held", payload: {} };
      expect(await c1.assignTaskToDistributor(slow, d2.agentId)).toBe(true);
      await until("d2 runs it", () => d2.core.stats.dispatched >= 2);
      await c1.cleanup();
      set.release();
      expect(await c2.waitForTask(slow.task_id, 8000)).toMatchObject({ status: "completed" });
      // The waiter may be answered first by c2's own catch-up read of the ledger (a loaded
      // machine): the report itself comes once d2 has given up on c1.
      await until("d2 reports the end to c2", () => reports.get(c2.agentId) !== undefined);
      expect(reports.get(c2.agentId)).toBe(1);
      // c2 did not place it: it reads the record before it takes the report (terminalFromLedger),
      // a store round trip after the delivery; or its catch-up counted it already (alone by then).
      await until("c2 counts the end", () => c2.core.stats.completed >= 1);
      expect(c2.core.stats.completed).toBe(1);
      expect(set.commits.get(slow.task_id)).toBe(1);
    });

    it(
      "a waiter on another coordinator is answered by polling the ledger when the news of the end is lost",
      async () => {
        set = new Coordinators(engine.config(), PATIENT);
        await set.start(2, 2);
        const [c1, c2] = set.coordinators as [CoordinatorAgent, CoordinatorAgent];
        await until("each sees the other", () => c1.cluster.peers.hasOthers && c2.cluster.peers.hasOthers);
        let lost = 0;
        // Every piece of news c2 hears is lost.
        c2.core.endedElsewhere = async (ids: string[]) => {
          lost += ids.length;
        };
        // Held until c1 knows c2 watches it (and the ledger was read while it runs): its end is
        // then news for c2, lost, however slow the machine.
        expect(await c1.submitTask({ task_id: "unheard", task_type: "held", payload: {} })).toBe(true);
        const waiting = c2.waitForTask("unheard", WAIT_MS);
        const store = new RedisClient(set.redis);
        await store.connect();
        try {
          const ledger = new TaskLedger(store);
          expect(await ledger.status("unheard")).toMatch(/^(pending|in_progress)$/);
          expect(await ledger.status("no-such-task")).toBeNull();
          await until("c1 knows c2 watches it", () => watchedOn(c1).has("unheard"), WAIT_MS);
          set.release();
          expect(await waiting).toMatchObject({ task_id: "unheard", status: "completed" });
          expect(await ledger.status("unheard")).toBe("completed");
        } finally {
          await store.disconnect();
        }
        // The news was sent, and lost. Waited for: on a loaded machine c2's read of the ledger
        // can answer the waiter before the distributor's report has even reached c1, which then
        // tells the others (a check at once found nothing lost yet).
        await until("c2 hears the end's news, and loses it", () => lost > 0, WAIT_MS);
      },
      TEST_MS,
    );

    it(
      "a task's end is news only where it may be awaited: a coordinator that watches it, or one that accepted it",
      async () => {
        set = new Coordinators(engine.config(), PATIENT);
        await set.start(2, 2);
        const [c1, c2] = set.coordinators as [CoordinatorAgent, CoordinatorAgent];
        await until("each sees the other", () => c1.cluster.peers.hasOthers && c2.cluster.peers.hasOthers);
        const news: Array<{ from: string; ended?: string[]; watch?: string[] }> = [];
        const listener = new RedisClient(set.redis);
        await listener.connect();
        await listener.subscribe("coordinators:news", (_c, data) => {
          news.push(data as (typeof news)[number]);
        });
        const told = (key: "ended" | "watch", from: string) =>
          new Set(news.filter((n) => n.from === from).flatMap((n) => n[key] ?? []));
        try {
          // Accepted and awaited through c1: their ends are not published.
          const local = Array.from({ length: 20 }, (_, i) => `local-${i}`);
          for (const id of local) await c1.submitTask({ task_id: id, task_type: "echo", payload: {} });
          const localDone = await Promise.all(local.map((id) => c1.waitForTask(id, 8000)));
          expect(localDone.map((t) => t?.status)).toEqual(local.map(() => "completed"));
          // Accepted through c1, awaited through c2 while running: c2 asks, c1 tells. (Held until c1
          // has heard every ask, on a loaded machine too: a task that ended before the ask is
          // answered by c2's own read, with no news.)
          const remote = Array.from({ length: 20 }, (_, i) => `remote-${i}`);
          await Promise.all(
            remote.map((id) => c1.submitTask({ task_id: id, task_type: "held", payload: {} })),
          );
          const remoteWaits = remote.map((id) => c2.waitForTask(id, WAIT_MS));
          await until("c1 knows c2 watches them", () => remote.every((id) => watchedOn(c1).has(id)), WAIT_MS);
          set.release();
          const remoteDone = await Promise.all(remoteWaits);
          expect(remoteDone.map((t) => t?.status)).toEqual(remote.map(() => "completed"));
          // Accepted through c1, canceled through c2. The cancel marks it first, and c2's abandon
          // ends it, or c1's tick sweeps the mark first (CoordinatorCore.cancel; likelier under
          // load). Ended by c2, which did not accept it, it is told; by c1, which did, it is not.
          await c1.submitTask({ task_id: "canceled-elsewhere", task_type: "sleep", payload: { ms: 5000 } });
          expect(await c2.cancelTask("canceled-elsewhere", "test")).toBe(true);
          const endedOn = (c: CoordinatorAgent) =>
            c.core.recentTasks().some((t) => t.task_id === "canceled-elsewhere");
          await until("a coordinator heard its end first-hand", () => endedOn(c1) || endedOn(c2), WAIT_MS);
          if (endedOn(c2))
            await until("the news is in", () => told("ended", c2.agentId).has("canceled-elsewhere"), WAIT_MS);
          await until(
            "the news is in",
            () => remote.every((id) => told("ended", c1.agentId).has(id)),
            WAIT_MS,
          );
          expect(remote.filter((id) => !told("watch", c2.agentId).has(id))).toEqual([]);
          const endedNews = new Set([...told("ended", c1.agentId), ...told("ended", c2.agentId)]);
          expect(local.filter((id) => endedNews.has(id))).toEqual([]);
        } finally {
          await listener.disconnect();
        }
      },
      TEST_MS,
    );

    it("a task's end read from the ledger by a waiter before its distributor's report is still no news where it was accepted", async () => {
      set = new Coordinators(engine.config());
      await set.start(2, 2);
      const [c1, c2] = set.coordinators as [CoordinatorAgent, CoordinatorAgent];
      await until("each sees the other", () => c1.cluster.peers.hasOthers && c2.cluster.peers.hasOthers);
      // The ends reported to c1 are held (a loaded machine: the report queued behind other work),
      // so its waiter, having waited long, reads them from the ledger first.
      const held: Array<() => void> = [];
      const deliver = set.router.deliver.bind(set.router);
      set.router.deliver = (message, ...rest) => {
        if (message.payload.event_type !== "task_terminal" || message.recipient !== c1.agentId)
          return deliver(message, ...rest);
        held.push(() => void deliver(message, ...rest));
        return { accepted: true, duplicate: false };
      };
      const announced: string[] = [];
      const peers = (c1.cluster as unknown as { peers: { announceEnded(id: string): void } }).peers;
      const announce = peers.announceEnded.bind(peers);
      peers.announceEnded = (id) => {
        announced.push(id);
        announce(id);
      };
      const ids = Array.from({ length: 5 }, (_, i) => `late-report-${i}`);
      for (const id of ids) await c1.submitTask({ task_id: id, task_type: "echo", payload: {} });
      const done = await Promise.all(ids.map((id) => c1.waitForTask(id, 8000)));
      expect(done.map((t) => t?.status)).toEqual(ids.map(() => "completed"));
      expect(c1.core.stats.completed).toBe(0); // read from the ledger: no report in yet
      set.router.deliver = deliver;
      for (const release of held.splice(0)) release();
      // The reports come in: counted here (first-hand), and told to no one (accepted here, watched nowhere else).
      await until("the reports are counted", () => c1.core.stats.completed === ids.length);
      expect(announced.filter((id) => ids.includes(id))).toEqual([]);
    });

    it("a coordinator whose shard lease expired has its placement and abandon refused by the fence", async () => {
      const config = engine.config();
      const store = new RedisClient(config);
      await store.connect();
      const ledger = new TaskLedger(store);
      try {
        const c1 = new CoordinatorAgent({ agentId: "frozen-c1", redis: config, timing: FAST });
        await c1.initialize();
        const shard = ledger.shardOf("fenced");
        const stale = c1.cluster.leases.ownerValue(shard)!;
        expect(stale).toMatch(/^frozen-c1#\d+$/);
        await ledger.submit({
          taskId: "fenced",
          taskType: "echo",
          payload: {},
          createdAt: new Date().toISOString(),
          maxRetries: 0,
          backoffMs: 0,
        });
        // Frozen: it stops renewing; its leases expire and another coordinator takes every shard.
        await c1.cluster.stop({ release: false });
        c1.core.stop();
        const c2 = new CoordinatorAgent({ agentId: "waking-c2", redis: config, timing: FAST });
        await c2.initialize();
        await until("c2 owns the shard", () => c2.cluster.leases.ownerValue(shard) !== null, 5000);
        // c1 wakes with the old value in hand: the ledger refuses what only an owner may do.
        expect(c1.cluster.leases.ownerValue(shard)).toBeNull(); // and it knows it is no longer the owner
        expect(await ledger.assign("fenced", "some-distributor", stale)).toBe(false);
        expect(await ledger.abandon("fenced", "timed out", stale)).toBe(false);
        expect((await ledger.get("fenced"))?.task.status).toBe("pending");
        expect((await ledger.get("fenced"))?.distributor).toBeNull();
        // The current owner's value is taken.
        const current = c2.cluster.leases.ownerValue(shard)!;
        expect(await ledger.assign("fenced", "some-distributor", current)).toBe(true);
        await c2.cleanup();
        await c1.cleanup();
      } finally {
        await store.disconnect();
      }
    });
  },
);
