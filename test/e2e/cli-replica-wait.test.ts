import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../helpers/free-port.js";
import { postTasks } from "../helpers/post-tasks.js";
import { runTriad, startSideBySide, type TriadProcess } from "../helpers/processes.js";
import { RedisServer } from "../helpers/redis-server.js";

/**
 * `triad coordinator --redis-wait-replicas 1` against a real master and replica: POST /tasks is
 * answered 202 once the replica holds the task; with the replica frozen (SIGSTOP), 503 with
 * Retry-After and ERR_NOT_REPLICATED, the process still serving; the same body sent again once
 * the replica is back is answered 200 (already recorded), and the task runs to its end all the
 * same (its distributor adopts it from Redis). `triad up` on memory:// with the flag: exit 2.
 */
describe.skipIf(Boolean(process.env.REDIS_URL))("triad coordinator --redis-wait-replicas", () => {
  const env = { TRIAD_SECRET: "replica-wait-secret", TRIAD_API_TOKEN: "", TRIAD_LOG_LEVEL: "warn" };
  let master: RedisServer;
  let replica: RedisServer;
  const procs: TriadProcess[] = [];
  let url = "";
  let frozen = false;
  const freeze = (on: boolean) => {
    process.kill(replica.pid!, on ? "SIGSTOP" : "SIGCONT");
    frozen = on;
  };
  const post = (body: unknown) => postTasks<never>(url, body);

  /**
   * The three processes start side by side, each given its upstream's address before that one
   * listens (an agent waits for its upstream), and beside the replica's first sync: the set-up
   * needs one start-up (START_UP_MS, within the file's hook budget), not three one after another.
   * It started them one after the other within a 60 s hook: less than three start-ups' bound, and
   * a loaded 2-core machine has taken 30 s for one.
   */
  beforeAll(async () => {
    master = await RedisServer.start();
    const [port, dp, wp] = await Promise.all([freePort(), freePort(), freePort()]);
    const [cUrl, dUrl] = [port, dp].map((p) => `http://127.0.0.1:${p}`) as [string, string];
    const [, [c]] = await Promise.all([
      RedisServer.startReplicaOf(master).then((r) => {
        replica = r;
      }),
      startSideBySide(
        [
          [
            ...["coordinator", "--id", "c1", "--redis", master.url, "--port", String(port)],
            ...["--redis-wait-replicas", "1", "--redis-wait-timeout", "300"],
          ],
          // Heartbeats every 200 ms: the distributor reconciles with Redis every second.
          [
            ...["distributor", "--id", "d1", "--coordinator", cUrl, "--redis", master.url],
            ...["--port", String(dp), "--heartbeat-interval", "200"],
          ],
          [
            ...["worker", "--id", "w1", "--distributor", dUrl, "--port", String(wp)],
            ...["--handlers", "examples/handlers.mjs"],
          ],
        ],
        { env, into: procs },
      ),
    ]);
    url = c.url;
  });
  afterAll(async () => {
    if (frozen) freeze(false);
    for (const p of procs.reverse()) await p.kill();
    await replica?.destroy();
    await master?.destroy();
  });

  it("answers 202 once replicated, 503 ERR_NOT_REPLICATED while the replica is frozen (the same id sent again too), 200 for the same id after; both run", async () => {
    const task = (id: string) => ({
      task_id: id,
      task_type: "word_count",
      payload: { text: "one two three" },
    });
    expect((await post(task("r-1"))).status).toBe(202);
    freeze(true);
    const refused = await post(task("r-2"));
    // Sent again while the replica still has not acknowledged it: refused the same way (README).
    const refusedAgain = await post(task("r-2"));
    freeze(false);
    expect(refused.status).toBe(503);
    expect(refused.retryAfter).not.toBeNull();
    expect(refused.body).toMatchObject({ error: { code: "ERR_NOT_REPLICATED" } });
    expect(refusedAgain.status).toBe(503);
    expect(refusedAgain.body).toMatchObject({ error: { code: "ERR_NOT_REPLICATED" } });
    const again = await post(task("r-2"));
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ task_id: "r-2" });
    for (const id of ["r-1", "r-2"]) {
      const res = await fetch(`${url}/tasks/${id}?wait=20000`);
      expect(await res.json()).toMatchObject({ task_id: id, status: "completed", result: { words: 3 } });
    }
  }, 40_000);

  it("refuses the flag on memory:// (triad up's embedded store): exit 2 naming it", async () => {
    const bad = await runTriad(
      ["up", "--redis", "memory://", "--tasks", "0", "--port", "0", "--redis-wait-replicas", "1"],
      { env },
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--redis-wait-replicas 1 needs a Redis with replicas");
  });
});
