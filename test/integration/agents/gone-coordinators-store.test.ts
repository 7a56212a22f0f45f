import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { GoneRecord } from "../../../src/agents/coordinator/gone-coordinators.js";
import { CoordinatorAgent, RedisClient } from "../../../src/index.js";
import { agentList } from "../../../src/server/coordinator-api.js";
import { FaultyRouter } from "../../helpers/cluster.js";
import { testEngines } from "../../helpers/engines.js";
import { PATIENT, twoCoordinators } from "../../helpers/two-coordinators.js";
import { until } from "../../helpers/wait.js";

/**
 * Several coordinators (SPEC "Several coordinators"): the coordinators seen gone are kept in the
 * store (gone-coordinators-1.lua and its twin), so a coordinator that joins after one went, or
 * restarts, lists the same dead coordinators — crashed or stopped — as those that saw them go.
 * Before, each kept them in memory only, and the newcomer's GET /agents listed none of them.
 */

/** The coordinators `c` lists: `<id> <status>[ stopped]`, sorted. */
function coordinators(c: CoordinatorAgent): string[] {
  return agentList(c)
    .filter((a) => a.tier === "coordinator")
    .map((a) => `${a.id} ${a.status}${a.stopped === true ? " stopped" : ""}`)
    .sort();
}

/**
 * `c`'s GET /agents rows of the dead coordinators, by id, with the last view each is listed
 * from (what of it a dead coordinator's listing keeps). Without the last heartbeat: a
 * coordinator stalled longer than a view's life keeps the view before the last one.
 */
function deadRows(c: CoordinatorAgent): Record<string, unknown> {
  const views = new Map(c.cluster.peers.dead().map((g) => [g.view.id, g.view]));
  const out: Record<string, unknown> = {};
  for (const { last_heartbeat: _, ...row } of agentList(c)) {
    if (row.tier !== "coordinator" || row.status !== "dead") continue;
    const view = views.get(String(row.id));
    out[String(row.id)] = {
      row,
      view: {
        id: view?.id,
        url: view?.url,
        api_url: view?.api_url,
        started_at: view?.started_at,
        stats: view?.stats,
      },
    };
  }
  return out;
}

/** As kill -9: its timers stop, its view and leases are left to expire. */
async function crash(c: CoordinatorAgent, frozen: Set<string>): Promise<void> {
  frozen.add(c.agentId);
  c.core.stop();
  await c.cluster.stop({ release: false });
  (c as unknown as { stopTimers(): void }).stopTimers();
}

describe.each(testEngines("gone-coordinators-store", { cluster: true }))(
  "coordinators seen gone, in the store ($name)",
  (engine) => {
    const stops: Array<() => Promise<unknown>> = [];
    beforeAll(() => engine.setup(), 60_000);
    afterEach(async () => {
      for (const stop of stops.splice(0).reverse()) await stop().catch(() => {});
    });
    afterAll(() => engine.teardown());

    it("a coordinator that joins later, or restarts, lists the dead coordinators as the others do", async () => {
      const { c1, c2, router, coordinator } = await twoCoordinators(engine.config(), stops);
      const c3 = coordinator("c3");
      // Published in its view only (nothing listens there): others keep it in the view they list dead.
      c3.apiUrl = "http://127.0.0.1:7101";
      await c3.initialize();
      stops.push(() => c3.cleanup());
      await until(
        "c1 and c2 list c3 alive",
        () => [c1, c2].every((c) => coordinators(c).includes(`${c3.agentId} idle`)),
        30_000,
      );

      await crash(c3, router.frozen);
      await until(
        "c1 and c2 list c3 dead",
        () => [c1, c2].every((c) => coordinators(c).includes(`${c3.agentId} dead`)),
        30_000,
      );
      await c2.cleanup();
      await until(
        "c1 lists c2 stopped",
        () => coordinators(c1).includes(`${c2.agentId} dead stopped`),
        30_000,
      );

      // Started after both went: it never saw them, and lists them as c1 does from its first tick.
      const c4 = coordinator("c4");
      await c4.initialize();
      stops.push(() => c4.cleanup());
      const expected = [
        `${c1.agentId} idle`,
        `${c2.agentId} dead stopped`,
        `${c3.agentId} dead`,
        `${c4.agentId} idle`,
      ];
      await until("c4 lists c1 alive", () => coordinators(c4).includes(`${c1.agentId} idle`), 30_000);
      expect(coordinators(c4)).toEqual(expected);
      await until("c1 lists c4 alive", () => coordinators(c1).includes(`${c4.agentId} idle`), 30_000);
      expect(coordinators(c1)).toEqual(expected);
      // c4 learnt of c2 and c3 from the store only: the same rows, from views with the same API address.
      expect(deadRows(c4)).toEqual(deadRows(c1));
      expect(c4.cluster.peers.dead().find((g) => g.view.id === c3.agentId)?.view).toHaveProperty(
        "api_url",
        c3.apiUrl,
      );
      expect(c4.cluster.peers.dead().find((g) => g.view.id === c2.agentId)?.view).toHaveProperty(
        "api_url",
        null,
      );

      // c1 restarts under its id: it lists the same dead, and is alive again for c4.
      await c1.cleanup();
      const again = coordinator("c1");
      await again.initialize();
      stops.push(() => again.cleanup());
      await until(
        "the restarted c1 lists c4 alive",
        () => coordinators(again).includes(`${c4.agentId} idle`),
        30_000,
      );
      expect(coordinators(again)).toEqual(expected);
      await until("c4 lists c1 alive again", () => coordinators(c4).includes(`${c1.agentId} idle`), 30_000);
      expect(coordinators(c4)).toEqual(expected);
      expect(
        again.cluster.peers
          .dead()
          .map((g) => g.view.id)
          .sort(),
      ).toEqual([c2.agentId, c3.agentId]);
    }, 180_000);

    it("a coordinator listed crashed whose graceful stop is recorded after is listed stopped (the store's record wins)", async () => {
      const { c1, router, coordinator } = await twoCoordinators(engine.config(), stops);
      const c3 = coordinator("c3");
      await c3.initialize();
      stops.push(() => c3.cleanup());
      await until("c1 lists c3 alive", () => coordinators(c1).includes(`${c3.agentId} idle`), 30_000);

      // The bad order, made certain: c1 sees c3 go as a crash (its view expired, its registry
      // entry there: a tick held up past its view's life) and only then is c3 recorded stopped,
      // as its leave does (GoneRecord.went, after its last view and its registry entry).
      await crash(c3, router.frozen);
      await until("c1 lists c3 crashed", () => coordinators(c1).includes(`${c3.agentId} dead`), 30_000);
      const view = c1.cluster.peers.dead().find((g) => g.view.id === c3.agentId)?.view;
      expect(view).toBeDefined();
      await new GoneRecord(c1.store, () => PATIENT.deadRetentionMs).went(view!, true);
      await until(
        "c1 lists c3 stopped",
        () => coordinators(c1).includes(`${c3.agentId} dead stopped`),
        30_000,
      );
    }, 120_000);

    it("a lone coordinator that stops cleanly is listed stopped by one started later; restarted, it is alive", async () => {
      const run = Math.random().toString(36).slice(2, 7);
      const redis = engine.config();
      const router = new FaultyRouter();
      const coordinator = (name: string) =>
        new CoordinatorAgent({ agentId: `${name}-${run}`, redis, a2a: { router }, timing: PATIENT });
      const c1 = coordinator("c1");
      await c1.initialize();
      stops.push(() => c1.cleanup());
      expect(coordinators(c1)).toEqual([`${c1.agentId} idle`]);
      await c1.cleanup(); // alone: nobody sees it go

      const c2 = coordinator("c2");
      await c2.initialize();
      stops.push(() => c2.cleanup());
      // Read from the store as it starts: listed from its first tick.
      expect(coordinators(c2)).toEqual([`${c1.agentId} dead stopped`, `${c2.agentId} idle`]);

      // c1 back under its id: its entry leaves the record, and it is alive for c2.
      const again = coordinator("c1");
      await again.initialize();
      stops.push(() => again.cleanup());
      await until("c2 lists c1 alive again", () => coordinators(c2).includes(`${c1.agentId} idle`), 30_000);
      const store = new RedisClient(redis);
      expect(await store.connect()).toBe(true);
      stops.push(() => store.disconnect());
      expect((await new GoneRecord(store, () => 600_000).read()).map((g) => g.view.id)).toEqual([]);
    }, 120_000);

    it("a lone coordinator killed is listed crashed by one started after its view expired; restarted, it is alive", async () => {
      const run = Math.random().toString(36).slice(2, 7);
      const redis = engine.config();
      const router = new FaultyRouter();
      const coordinator = (name: string) =>
        new CoordinatorAgent({ agentId: `${name}-${run}`, redis, a2a: { router }, timing: PATIENT });
      const store = new RedisClient(redis);
      expect(await store.connect()).toBe(true);
      stops.push(() => store.disconnect());
      const c1 = coordinator("c1");
      await c1.initialize();
      stops.push(() => c1.cleanup());
      expect(coordinators(c1)).toEqual([`${c1.agentId} idle`]);
      await crash(c1, router.frozen); // alone: nobody sees it go, and it records nothing itself
      await until(
        "c1's view and shard leases lapse",
        async () => !(await store.exists(`coordinator-view:${c1.agentId}`)),
        30_000,
      );
      expect(await new GoneRecord(store, () => 600_000).read()).toEqual([]);

      // Still in the registry, its view expired, on no record: gone unseen, recorded as of now.
      const c2 = coordinator("c2");
      await c2.initialize();
      stops.push(() => c2.cleanup());
      expect(coordinators(c2)).toEqual([`${c1.agentId} dead`, `${c2.agentId} idle`]);
      const [recorded, ...more] = await new GoneRecord(store, () => 600_000).read();
      expect(more).toEqual([]);
      expect(recorded).toMatchObject({ view: { id: c1.agentId, shards: [] }, stopped: false });
      expect(recorded!.ageMs).toBeLessThan(600_000);
      // One started later lists it from the record, the same.
      const c3 = coordinator("c3");
      await c3.initialize();
      stops.push(() => c3.cleanup());
      expect(coordinators(c3)).toContain(`${c1.agentId} dead`);

      // c1 back under its id: alive again, off the record.
      const again = coordinator("c1");
      await again.initialize();
      stops.push(() => again.cleanup());
      await until("c2 lists c1 alive again", () => coordinators(c2).includes(`${c1.agentId} idle`), 30_000);
      expect((await new GoneRecord(store, () => 600_000).read()).map((g) => g.view.id)).toEqual([]);
    }, 120_000);

    it("the record is bounded: an entry is read as the first sighting said, dropped after the retention, and the key expires unread", async () => {
      const store = new RedisClient(engine.config());
      expect(await store.connect()).toBe(true);
      stops.push(() => store.disconnect());
      let retentionMs = 600_000;
      const record = new GoneRecord(store, () => retentionMs);
      const view = (id: string) => ({
        id,
        url: null,
        api_url: `http://${id}.example:8080`,
        started_at: "2026-01-01T00:00:00.000Z",
        shards: [3],
        stats: { completed: 2 },
        distributors: [],
      });
      await record.went(view("a"), false);
      await record.went(view("a"), true);
      await record.went(view("b"), false);
      await record.alive(["b"]);
      const [a, ...rest] = await record.read();
      expect(rest).toEqual([]);
      expect(a).toMatchObject({
        view: { id: "a", api_url: "http://a.example:8080", shards: [], stats: { completed: 2 } },
        stopped: true,
      });
      retentionMs = 50;
      await until("the entries outlive no retention", async () => (await record.read()).length === 0);
      // Nobody reads: the key itself expires a retention after its last write.
      const other = new RedisClient(engine.config());
      expect(await other.connect()).toBe(true);
      stops.push(() => other.disconnect());
      await new GoneRecord(other, () => 50).went(view("c"), false);
      await until("the key expires", async () => !(await other.exists("coordinators:gone")));

      // At most maxEntries: the oldest sightings go first.
      const third = new RedisClient(engine.config());
      expect(await third.connect()).toBe(true);
      stops.push(() => third.disconnect());
      const bounded = new GoneRecord(third, () => 600_000, 2);
      const seen: string[] = [];
      for (const id of ["p", "q", "r", "s"]) {
        await bounded.went(view(id), false);
        seen.push(id);
        // A new sighting is stamped no earlier than the one before (the store's clock, ms).
        await until("the store's clock moves on", async () => {
          const ages = (await bounded.read()).map((g) => g.ageMs);
          return ages.every((age) => age > 0);
        });
      }
      expect((await bounded.read()).map((g) => g.view.id).sort()).toEqual(seen.slice(-2).sort());
    });
  },
);
