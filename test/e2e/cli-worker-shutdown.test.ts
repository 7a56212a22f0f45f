import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../helpers/free-port.js";
import { postTasks } from "../helpers/post-tasks.js";
import { startSideBySide, type TriadProcess } from "../helpers/processes.js";
import { RedisServer } from "../helpers/redis-server.js";
import { sleep, until } from "../helpers/wait.js";

/**
 * A `triad worker` told to stop (SPEC: SIGTERM / SIGINT) while it runs tasks: it finishes them
 * and delivers their results to its distributor before it exits 0, whatever else reaches it
 * meanwhile; results for a distributor that died are given up, not waited on. Each test has a
 * cluster of its own (redis-server, coordinator, distributor, worker).
 */

const env = {
  TRIAD_SECRET: "worker-shutdown-secret-0123",
  TRIAD_API_TOKEN: "",
  TRIAD_LOG_LEVEL: "info",
  TRIAD_LOG_FORMAT: "json",
};

type TaskRecord = {
  task_id: string;
  status: string;
  assigned_to: string | null;
  attempts: number;
  progress?: unknown;
};

describe("triad worker shutting down", () => {
  const procs: TriadProcess[] = [];
  const servers: RedisServer[] = [];
  afterAll(async () => {
    for (const p of procs) await p.kill();
    for (const s of servers) await s.destroy();
  });

  /** A cluster named `name` whose worker waits up to 60 s on SIGTERM. */
  const cluster = async (name: string) => {
    const redis = await RedisServer.start();
    servers.push(redis);
    const [cp, dp, wp] = await Promise.all([freePort(), freePort(), freePort()]);
    // The three start at once (each waits for its upstream to answer): one after the other they
    // took 30 s of the test's 90 on a loaded machine, before anything was tested.
    const [c, d, w] = await startSideBySide(
      [
        ["coordinator", "--id", `c-${name}`, "--redis", redis.url, "--port", String(cp)],
        [
          ...["distributor", "--id", `d-${name}`, "--coordinator", `http://127.0.0.1:${cp}`],
          ...["--redis", redis.url, "--port", String(dp)],
        ],
        [
          ...["worker", "--id", `w-${name}`, "--distributor", `http://127.0.0.1:${dp}`, "--port", String(wp)],
          ...["--shutdown-timeout", "60000"],
        ],
      ],
      { env, into: procs, ready: /^ready \w+ \S+ (http:\/\/\S+)/m },
    );
    expect([c.url, d.url]).toEqual([`http://127.0.0.1:${cp}`, `http://127.0.0.1:${dp}`]);
    const task = async (id: string, wait = 0): Promise<TaskRecord> =>
      (await (await fetch(`${c.url}/tasks/${id}${wait ? `?wait=${wait}` : ""}`)).json()) as TaskRecord;
    /**
     * Submits `n` sleep tasks and resolves once every one runs on the worker: its handler has
     * reported progress (a sleep does after a second), so the worker holds the attempt.
     */
    const running = async (n: number, ms: number): Promise<string[]> => {
      const ids = Array.from({ length: n }, (_, i) => `${name}-${i}`);
      const posted = await postTasks(
        c.url,
        ids.map((task_id) => ({ task_id, task_type: "sleep", payload: { ms } })),
      );
      expect(posted.status).toBe(202);
      await until(
        `${n} tasks run on w-${name}`,
        async () =>
          (await Promise.all(ids.map((id) => task(id)))).every(
            (t) => t.status === "in_progress" && t.assigned_to === `w-${name}` && t.progress !== undefined,
          ),
        20_000,
        100,
      );
      return ids;
    };
    return { c, d, w, task, running };
  };

  it("a second SIGTERM within a second of the first is the same request: the worker still finishes and delivers, and exits 0", async () => {
    const { w, task, running } = await cluster("twice");
    const ids = await running(4, 5000);
    // What a wrapper forwarding the signal plus a kill of its process group deliver: two at once.
    // (The second used to follow the test's reading of the first's log line: on a loaded machine
    // that came more than the second later, and the worker rightly exited 130.)
    w.proc.signalTwice("SIGTERM");
    const { code } = await w.proc.exit(60_000);
    expect(w.proc.output).toMatch(/SIGTERM: shutting down/);
    expect(w.proc.output).toMatch(/SIGTERM again at once: the same request to stop/);
    expect(w.proc.output).not.toMatch(/exiting now/);
    expect(code).toBe(0);
    // It said what it waited for: the attempts still running as the stop came (on a loaded
    // machine one may have ended between the test's look and the signal), and no result.
    const waited = w.proc.output.match(
      /shutting down: waiting for (\d) running tasks? and (\d) results? distributor d-twice has not acknowledged/,
    );
    expect(waited, w.proc.output.slice(-3000)).not.toBeNull();
    expect(Number(waited![1])).toBeGreaterThanOrEqual(1);
    expect(Number(waited![1]) + Number(waited![2])).toBeLessThanOrEqual(4);
    // Delivered by this worker before it left: completed on their first attempt, not run again.
    for (const id of ids) {
      expect(await task(id, 20_000)).toMatchObject({
        status: "completed",
        assigned_to: "w-twice",
        attempts: 1,
      });
    }
  }, 90_000);

  it("with its distributor dead (kill -9), it gives up the results nobody can take once its tasks are done, says so, and exits 0 well before its 60 s timeout", async () => {
    const { d, w, running } = await cluster("dead");
    await running(8, 2000);
    await d.proc.kill();
    w.proc.signal("SIGTERM");
    // It used to wait out the whole --shutdown-timeout (60 s here), resending to nobody.
    const { code } = await w.proc.exit(30_000);
    expect(code).toBe(0);
    expect(w.proc.output).toMatch(
      /shutting down: giving up 8 results distributor d-dead has not acknowledged: it has not answered for \d+ ms/,
    );
  }, 90_000);

  it("a second SIGTERM a second or more after the first exits at once (130)", async () => {
    const { w, running } = await cluster("forced");
    await running(1, 60_000);
    w.proc.signal("SIGTERM");
    await w.proc.waitFor(/SIGTERM: shutting down/);
    await sleep(1500);
    w.proc.signal("SIGTERM");
    expect((await w.proc.exit(20_000)).code).toBe(130);
    expect(w.proc.output).toMatch(/SIGTERM again: exiting now/);
  }, 90_000);
});
