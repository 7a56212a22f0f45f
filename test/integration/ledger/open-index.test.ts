import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InputLedger } from "../../../src/agents/input/input-ledger.js";
import { OPEN_BUCKET_IDS, openBucketOf } from "../../../src/agents/ledger/open-index.js";
import { DEFAULT_SHARDS, shardOf, shardTag } from "../../../src/agents/ledger/shards.js";
import { TaskLedger } from "../../../src/agents/ledger/task-ledger.js";
import { DueSweeper } from "../../../src/agents/schedule-controls/due-sweeper.js";
import { RedisClient, type StoreScript } from "../../../src/index.js";
import { testEngines } from "../../helpers/engines.js";

/**
 * The index of a shard's open tasks (issue 22): ids in small listpack hashes (buckets) rather
 * than one set per shard, a full bucket sending ids to the next level; ids too long for a
 * listpack, and every id an earlier version put in the shard's one `open` set, are still found
 * there and cleaned by every step that ends a task.
 */

/** One raw command on one key, so that the test can write and read keys as they are. */
const LUA = "return redis.call(ARGV[1], KEYS[1], unpack(ARGV, 2))";
const raw: StoreScript = {
  name: "raw",
  numKeys: 1,
  lua: LUA,
  sha1: createHash("sha1").update(LUA).digest("hex"),
  memory: (db, [key], [command, ...rest]) => {
    const k = key!;
    if (command === "SADD") return rest.reduce((n, m) => n + db.sadd(k, m), 0);
    if (command === "SMEMBERS") return db.smembers(k);
    if (command === "HLEN") return db.hlen(k);
    if (command === "GET") return db.get(k);
    if (command === "EXISTS") return db.exists(k) ? 1 : 0;
    if (command === "ZADD") return db.zadd(k, Number(rest[0]), rest[1]!);
    const fields: Record<string, string> = {};
    for (let i = 0; i < rest.length; i += 2) fields[rest[i]!] = rest[i + 1]!;
    db.hset(k, fields);
    return rest.length / 2;
  },
};
/** A key's encoding (OBJECT ENCODING); the embedded engine has none to tell. */
const ENCODING = "return redis.call('OBJECT', 'ENCODING', KEYS[1])";
const encoding: StoreScript = {
  name: "encoding",
  numKeys: 1,
  lua: ENCODING,
  sha1: createHash("sha1").update(ENCODING).digest("hex"),
  memory: () => "listpack",
};
const tagOf = (taskId: string) => shardTag(shardOf(taskId, DEFAULT_SHARDS));

/** `count` ids in shard 0 that all take bucket 0 at level 0. */
function sameBucket(count: number, tag: string): string[] {
  const ids: string[] = [];
  for (let n = 0; ids.length < count; n++) {
    const id = `${tag}-${n}`;
    if (shardOf(id, DEFAULT_SHARDS) === 0 && openBucketOf(id, 0) === 0) ids.push(id);
  }
  return ids;
}

const task = (taskId: string) => ({
  taskId,
  taskType: "echo",
  payload: { i: 1 },
  createdAt: new Date().toISOString(),
  maxRetries: 0,
  backoffMs: 200,
});

describe.each(testEngines("open-index", { cluster: true }))("open-task index on $name", (engine) => {
  const clients: RedisClient[] = [];
  async function open() {
    const store = new RedisClient(engine.config());
    expect(await store.connect()).toBe(true);
    clients.push(store);
    const ledger = new TaskLedger(store, { retentionSeconds: 60 });
    const cmd = (key: string, ...args: string[]) =>
      args[0] === "ENCODING" ? store.runScript(encoding, [key], []) : store.runScript(raw, [key], args);
    return { store, ledger, cmd };
  }
  beforeAll(() => engine.setup(), 60_000);
  afterAll(async () => {
    for (const c of clients) await c.disconnect();
    await engine.teardown();
  });

  it("keeps ids in small listpack buckets, the next level when one is full, and drops them as tasks end", async () => {
    const { ledger, cmd } = await open();
    const ids = sameBucket(OPEN_BUCKET_IDS + 40, "b");
    const results = await Promise.all(ids.map((id) => ledger.submit(task(id))));
    expect(results.every(Boolean)).toBe(true);

    expect(await cmd("{t0}:open:0:0", "HLEN")).toBe(OPEN_BUCKET_IDS);
    expect(await cmd("{t0}:open:0:0", "ENCODING")).toBe("listpack");
    expect(await cmd("{t0}:open:depth", "GET")).toBe("1");
    expect(await cmd("{t0}:open", "EXISTS")).toBe(0);
    expect((await ledger.openTaskIds([0])).sort()).toEqual([...ids].sort());
    expect((await ledger.openTaskIds()).sort()).toEqual([...ids].sort());

    // Half end through a commit, half abandoned: ids of both levels go.
    const half = ids.length / 2;
    for (const id of ids.slice(0, half)) expect(await ledger.assign(id, "d1")).toBe(true);
    const fences = await Promise.all(ids.slice(0, half).map((id) => ledger.dispatch(id, "d1", "w1")));
    const verdicts = await Promise.all(
      ids
        .slice(0, half)
        .map((id, k) => ledger.commit({ taskId: id, fence: fences[k] as number, status: "completed" })),
    );
    expect(verdicts.every((v) => v === "completed")).toBe(true);
    expect((await ledger.openTaskIds([0])).sort()).toEqual(ids.slice(half).sort());
    const abandoned = await Promise.all(ids.slice(half).map((id) => ledger.abandon(id, "test")));
    expect(abandoned.every(Boolean)).toBe(true);

    expect(await ledger.openTaskIds()).toEqual([]);
    expect(await cmd("{t0}:open:0:0", "EXISTS")).toBe(0);
    for (const id of ids) expect(await cmd(`{t0}:open:1:${openBucketOf(id, 1)}`, "EXISTS")).toBe(0);
  });

  it("keeps an id longer than 64 bytes in the shard's open set", async () => {
    const { ledger, cmd } = await open();
    const id = `long-${"x".repeat(70)}`;
    expect(await ledger.submit(task(id))).toBe(true);
    expect(await cmd(`${tagOf(id)}open`, "SMEMBERS")).toEqual([id]);
    expect(await ledger.openTaskIds()).toEqual([id]);
    expect(await ledger.abandon(id, "test")).toBe(true);
    expect(await ledger.openTaskIds()).toEqual([]);
    expect(await cmd(`${tagOf(id)}open`, "EXISTS")).toBe(0);
  });

  it("finds the open tasks an earlier version recorded in the shard's one set, and every end cleans them", async () => {
    const { store, ledger, cmd } = await open();
    const created = String(Date.now());
    /** A record as versions before the index wrote it: every field, its id in <prefix>open. */
    const writeOld = async (id: string, status: string, more: string[] = []) => {
      await cmd(
        `${tagOf(id)}task:${id}`,
        "HSET",
        ...["task_id", id, "task_type", "echo", "payload", "{}", "status", status],
        ...["attempts", "0", "failures", "0", "fence", "0", "created_at", created],
        ...["max_retries", "0", "backoff_ms", "200", ...more],
      );
      await cmd(`${tagOf(id)}open`, "SADD", id);
    };
    const ids = {
      committed: "old-committed",
      failed: "old-failed",
      abandoned: "old-abandoned",
      dependent: "old-dependent",
      expired: "old-expired",
      unanswered: "old-unanswered",
    };
    for (const id of [ids.committed, ids.failed, ids.abandoned, ids.expired]) await writeOld(id, "pending");
    await writeOld(ids.dependent, "pending", ["depends_on", '["gone"]']);
    await cmd(`${tagOf(ids.dependent)}wait:${ids.dependent}`, "SADD", "gone");
    await cmd(`${tagOf(ids.expired)}expiring`, "ZADD", String(Date.now() - 1000), ids.expired);
    await writeOld(ids.unanswered, "input_required", ["input_request", "{}", "input_key", ""]);
    await cmd(`${tagOf(ids.unanswered)}input_due`, "ZADD", String(Date.now() - 1000), ids.unanswered);

    const all = Object.values(ids);
    expect((await ledger.openTaskIds()).sort()).toEqual([...all].sort());
    expect((await ledger.get(ids.committed))?.task).toMatchObject({ task_type: "echo", status: "pending" });

    for (const id of [ids.committed, ids.failed]) {
      expect(await ledger.assign(id, "d1")).toBe(true);
      const fence = (await ledger.dispatch(id, "d1", "w1")) as number;
      const outcome = id === ids.committed ? "completed" : "failed";
      expect(await ledger.commit({ taskId: id, fence, status: outcome, error: "no" })).toBe(outcome);
    }
    expect(await ledger.abandon(ids.abandoned, "test")).toBe(true);
    expect((await ledger.notifyDependencyEnded(ids.dependent, "gone", "failed")).verdict).toBe("abandoned");
    const expired: string[] = [];
    const sweeper = new DueSweeper({
      store,
      shards: ledger.shards,
      retentionMs: ledger.retentionMs,
      released: () => {},
      expired: (found) => expired.push(...found),
    });
    await sweeper.sweep();
    expect(expired).toEqual([ids.expired]);
    expect((await new InputLedger(store, ledger).expire()).expired).toEqual([ids.unanswered]);

    expect(await ledger.openTaskIds()).toEqual([]);
    for (const id of all) {
      expect(await cmd(`${tagOf(id)}open`, "EXISTS")).toBe(0);
      expect((await ledger.get(id))?.task.status).not.toMatch(/pending|in_progress|input_required/);
    }
  });
});
