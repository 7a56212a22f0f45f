import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../helpers/free-port.js";
import { runTriad, START_UP_MS, startSideBySide, TriadProcess } from "../helpers/processes.js";
import { testRedis } from "../helpers/redis-server.js";

/**
 * SPEC "Several coordinators", as a user runs it: three `triad coordinator` processes on one
 * Redis, a distributor and the CLI given all three URLs. The first is killed -9 under load: the
 * tasks all complete and the others take every shard. (SIGSTOP, and the history checker's count
 * of commits, are the chaos suite's: test/chaos/scenarios/coordinators-failover.ts.)
 */

const env = { TRIAD_SECRET: "e2e-coordinators", TRIAD_LOG_LEVEL: "warn" };
const FAST = ["--heartbeat-interval", "200", "--heartbeat-timeout", "800", "--monitor-interval", "100"];

/** The worker's handlers module: `gate` runs until the file its payload names exists. */
const HANDLERS = `import { existsSync } from "node:fs";
export default {
  gate: (task) =>
    new Promise((resolve) => {
      const poll = setInterval(() => {
        if (!existsSync(task.payload.open)) return;
        clearInterval(poll);
        resolve({ opened: true });
      }, 50);
    }),
};
`;

type Agent = { id: string; tier: string; status: string; parent: string | null; shards?: number[] };

describe("three coordinator processes on one Redis", () => {
  let redis: Awaited<ReturnType<typeof testRedis>>;
  const procs: TriadProcess[] = [];
  const coordinators: Array<{ proc: TriadProcess; url: string }> = [];
  let dir = "";

  const agents = async (url: string): Promise<Agent[]> =>
    ((await (await fetch(`${url}/agents`)).json()) as { agents: Agent[] }).agents;
  const submit = (urls: string[], count: number, type = "echo") =>
    runTriad(
      [
        "submit",
        "--coordinator",
        urls.join(","),
        "--type",
        type,
        "--payload",
        '{"ms":20}',
        "--count",
        String(count),
        "--wait",
      ],
      { env, timeoutMs: 60_000 },
    );
  const statuses = (stdout: string) =>
    stdout
      .trim()
      .split("\n")
      .map((l) => (JSON.parse(l) as { status: string }).status);

  beforeAll(async () => {
    redis = await testRedis();
    dir = mkdtempSync(join(tmpdir(), "triad-coordinators-"));
    writeFileSync(join(dir, "handlers.mjs"), HANDLERS);
    const ports = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
    // The three coordinators side by side, then the distributor and the worker side by side (the
    // worker given the distributor's address before that one listens: an agent waits for its
    // upstream). The distributor starts once all three coordinators listen, so the first URL
    // it is given is the one it uses.
    coordinators.push(
      ...(await startSideBySide(
        [0, 1, 2].map((i) => [
          ...["coordinator", "--id", `c${i + 1}`, "--redis", redis.url, "--port", String(ports[i]), ...FAST],
        ]),
        { env, into: procs },
      )),
    );
    await startSideBySide(
      [
        [
          "distributor",
          "--id",
          "d1",
          "--coordinator",
          coordinators.map((c) => c.url).join(","),
          "--redis",
          redis.url,
          "--port",
          String(ports[3]),
          ...FAST,
          // A gate task runs until the test opens it, after a follower's start-up (START_UP_MS at most).
          "--task-timeout",
          String(2 * START_UP_MS),
        ],
        [
          ...["worker", "--id", "w1", "--distributor", `http://127.0.0.1:${ports[3]}`],
          ...["--port", String(ports[4]), "--heartbeat-interval", "200"],
          ...["--handlers", join(dir, "handlers.mjs")],
        ],
      ],
      { env, into: procs },
    );
  }, 3 * START_UP_MS); // two rounds of start-ups, each bounded at START_UP_MS

  afterAll(async () => {
    for (const p of procs) await p.kill();
    await redis.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const settledShares = async (urls: string[], timeoutMs = 15_000): Promise<Agent[]> => {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      // The live ones (one that died stays listed as dead for the retention).
      const list = (await agents(urls[0]!)).filter((a) => a.tier === "coordinator" && a.status !== "dead");
      const owned = list.flatMap((a) => a.shards ?? []);
      if (list.length === urls.length && owned.length === 16 && new Set(owned).size === 16) return list;
      if (performance.now() > deadline) throw new Error(`shards not settled: ${JSON.stringify(list)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  it("every coordinator lists the whole cluster, and the three split the 16 shards", async () => {
    const list = await settledShares(coordinators.map((c) => c.url));
    expect(list.map((a) => a.id).sort()).toEqual(["c1", "c2", "c3"]);
    for (const c of coordinators) {
      // A worker shows once its distributor's heartbeat carried it to the coordinator that hears it.
      let seen = await agents(c.url);
      for (let i = 0; i < 100 && !seen.some((a) => a.id === "w1"); i++) {
        await new Promise((r) => setTimeout(r, 100));
        seen = await agents(c.url);
      }
      expect(
        seen
          .filter((a) => a.tier !== "coordinator")
          .map((a) => a.id)
          .sort(),
      ).toEqual(["d1", "w1"]);
    }
  });

  it("kill -9 of the coordinator the distributor and the CLI use first: nothing is lost, the others take over", async () => {
    const urls = coordinators.map((c) => c.url);
    const before = await submit(urls, 20);
    expect(before.code).toBe(0);
    expect(statuses(before.stdout)).toEqual(Array(20).fill("completed"));
    // Each coordinator lists every finished task, whichever coordinator it ended through (it asks
    // the others for their recent-task windows): all three answer, nothing is partial.
    const ids = before.stdout
      .trim()
      .split("\n")
      .map((l) => (JSON.parse(l) as { task_id: string }).task_id)
      .sort();
    // A peer has a second to answer (PEER_LIST_TIMEOUT_MS), and a process of a loaded 2-core
    // machine can go that long without the CPU: that list is partial, rightly. Asked again, all answer.
    type Listed = { tasks: Array<{ task_id: string }>; partial?: boolean; unreached?: string[] };
    // And a task the CLI saw completed (its wait reads the store) is listed once its distributor's
    // report reached the coordinator that placed it: a loaded machine took seconds for the 20.
    const completedList = async (url: string): Promise<Listed> => {
      const deadline = performance.now() + 15_000;
      for (;;) {
        const listed = (await (await fetch(`${url}/tasks?status=completed&limit=1000`)).json()) as Listed;
        const all = ids.every((id) => listed.tasks.some((t) => t.task_id === id));
        if ((!listed.partial && all) || performance.now() > deadline) return listed;
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    for (const url of urls) {
      const listed = await completedList(url);
      expect(listed.unreached).toBeUndefined();
      expect(listed.partial).toBeUndefined();
      expect(
        listed.tasks
          .map((t) => t.task_id)
          .filter((id) => ids.includes(id))
          .sort(),
      ).toEqual(ids);
    }
    const running = submit(urls.slice(1), 30, "sleep");
    coordinators[0]!.proc.signal("SIGKILL");
    const after = await submit(urls, 20); // the first URL does not answer: the CLI moves on
    expect(after.code).toBe(0);
    expect(statuses(after.stdout)).toEqual(Array(20).fill("completed"));
    expect(statuses((await running).stdout)).toEqual(Array(30).fill("completed"));
    const list = await settledShares(urls.slice(1));
    expect(list.map((a) => a.id).sort()).toEqual(["c2", "c3"]);
    // c1 is listed as dead, a crash (not stopped), with no shards.
    const c1 = (await agents(urls[1]!)).find((a) => a.id === "c1");
    expect(c1).toMatchObject({ tier: "coordinator", status: "dead", shards: [] });
    expect(c1).not.toHaveProperty("stopped");
    // The distributor moved to a live coordinator.
    const d1 = (await agents(urls[1]!)).find((a) => a.id === "d1");
    expect(d1?.status).not.toBe("dead");
    // A budget above its bounded waits (three CLI runs of up to 60 s, two at once; the lists; the
    // shares' 15 s): on a loaded machine it ran out of the 30 s default with every step in bounds.
  }, 180_000);

  it(
    "triad status --follow survives kill -9 of the coordinator it streams from: resumed on the next by Last-Event-ID",
    async () => {
      const urls = coordinators.slice(1).map((c) => c.url);
      // The task runs until the follower has seen it run and c2 is killed: a follower that started
      // late (a loaded machine: a process start-up can take many seconds) still sees it run. (An
      // 8 s sleep had ended before the follower's first event.)
      const open = join(dir, "open");
      const submitted = await runTriad(
        ["submit", "--coordinator", urls.join(","), "--type", "gate", "--payload", JSON.stringify({ open })],
        { env },
      );
      const id = (JSON.parse(submitted.stdout) as { task_id: string }).task_id;
      const follow = new TriadProcess(
        ["status", "--coordinator", urls.join(","), "--task", id, "--follow", "--json"],
        env,
      );
      procs.push(follow);
      // Streaming from c2, the task running (its first event, the snapshot, may already say so).
      await follow.waitFor(/"status":"in_progress"/, START_UP_MS);
      coordinators[1]!.proc.signal("SIGKILL");
      writeFileSync(open, "");
      expect((await follow.exit(30_000)).code).toBe(0);
      const events = follow.output
        .trim()
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as { id: string; type: string; task: { status: string } });
      expect(events.at(-1)).toMatchObject({ type: "terminal", task: { status: "completed" } });
      expect(new Set(events.map((e) => e.id)).size).toBe(events.length); // nothing said twice
    },
    2 * START_UP_MS + 30_000,
  ); // two start-ups (the submit's, the follower's), the follower's 30 s to exit
});
