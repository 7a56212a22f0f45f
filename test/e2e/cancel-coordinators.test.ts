import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../helpers/free-port.js";
import { startSideBySide, type TriadProcess } from "../helpers/processes.js";
import { testRedis } from "../helpers/redis-server.js";

/**
 * SPEC "stopping a running task" across coordinator processes: two `triad coordinator`
 * processes (A and B) on one redis-server of the test's own, a distributor that talks to A, a
 * worker whose handler waits on ctx.signal and writes down why it was aborted. The task is
 * submitted through A and canceled over HTTP through B, which neither accepted it nor hears
 * its distributor: the cancel still reaches the running handler ("canceled by client"), and
 * the task ends abandoned as A reports it, the attempt's late result refused.
 */

const env = { TRIAD_SECRET: "e2e-cancel-coordinators", TRIAD_LOG_LEVEL: "warn" };
const FAST = ["--heartbeat-interval", "200", "--heartbeat-timeout", "800", "--monitor-interval", "100"];

/** The worker's handlers module: `hold` says it started, then waits for its signal and records the abort. */
const HANDLERS = `import { writeFileSync } from "node:fs";
export default {
  hold: (task, ctx) =>
    new Promise((resolve) => {
      writeFileSync(task.payload.started, String(ctx.attempt ?? "started"));
      const giveUp = setTimeout(() => resolve({ never: "aborted" }), 120000);
      const onAbort = () => {
        clearTimeout(giveUp);
        const reason = ctx.signal.reason;
        writeFileSync(
          task.payload.aborted,
          JSON.stringify({ aborted: ctx.signal.aborted, reason: reason instanceof Error ? reason.message : String(reason) }),
        );
        resolve({ late: "a result after the cancel" }); // refused by its fence
      };
      if (ctx.signal.aborted) onAbort();
      else ctx.signal.addEventListener("abort", onAbort, { once: true });
    }),
};
`;

/** The JSON in `path`, or undefined while there is none whole (not created, or being written). */
function jsonIn(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return undefined;
  }
}

async function until<T>(what: string, read: () => Promise<T> | T, ok: (v: T) => boolean, timeoutMs = 20_000) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (performance.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("cancel through another coordinator process", () => {
  let redis: Awaited<ReturnType<typeof testRedis>>;
  let dir = "";
  const procs: TriadProcess[] = [];
  let a = "";
  let b = "";

  const getTask = async (url: string, id: string, query = "") =>
    (await (await fetch(`${url}/tasks/${id}${query}`)).json()) as Record<string, unknown>;

  beforeAll(async () => {
    redis = await testRedis();
    dir = mkdtempSync(join(tmpdir(), "triad-cancel-"));
    writeFileSync(join(dir, "handlers.mjs"), HANDLERS);
    const ports = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const coordinator = (id: string, port: number) => [
      "coordinator",
      "--id",
      id,
      "--redis",
      redis.url,
      "--port",
      String(port),
      ...FAST,
    ];
    // All four side by side, each given its upstream's address before that one listens (an agent
    // waits for its upstream): the set-up needs one start-up's bound, not four.
    const dUrl = `http://127.0.0.1:${ports[2]}`;
    const [ca, cb] = await startSideBySide(
      [
        coordinator("ca", ports[0]!),
        coordinator("cb", ports[1]!),
        [
          "distributor",
          "--id",
          "d1",
          "--coordinator",
          `http://127.0.0.1:${ports[0]}`, // it talks to A only while A answers
          ...["--redis", redis.url, "--port", String(ports[2]), ...FAST],
        ],
        [
          ...["worker", "--id", "w1", "--distributor", dUrl, "--port", String(ports[3])],
          ...["--heartbeat-interval", "200", "--handlers", join(dir, "handlers.mjs")],
        ],
      ],
      { env, into: procs },
    );
    a = ca.url;
    b = cb.url;
  });

  afterAll(async () => {
    for (const p of procs) await p.kill();
    await redis?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("submitted through A, canceled through B: the handler's signal aborts with 'canceled by client', the task ends abandoned", async () => {
    const started = join(dir, "started");
    const aborted = join(dir, "aborted.json");
    const submitted = await fetch(`${a}/tasks`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ task_id: "hold-1", task_type: "hold", payload: { started, aborted } }),
    });
    expect(submitted.status).toBe(202);
    await until("the handler started", () => existsSync(started), Boolean);
    await until(
      "hold-1 in progress as A sees it",
      () => getTask(a, "hold-1"),
      (t) => t.status === "in_progress",
    );
    // B did not accept the task, and its distributor does not talk to B.
    const d1AtB = await until(
      "B lists d1",
      async () =>
        (
          (await (await fetch(`${b}/agents`)).json()) as {
            agents: Array<{ id: string; parent: string | null }>;
          }
        ).agents,
      (list) => list.some((x) => x.id === "d1"),
    );
    expect(d1AtB.find((x) => x.id === "d1")?.parent).toBe("ca");
    expect(existsSync(aborted)).toBe(false);

    const canceled = await fetch(`${b}/tasks/hold-1/cancel`, { method: "POST" });
    expect(canceled.status).toBe(200);
    expect(await canceled.json()).toMatchObject({
      task_id: "hold-1",
      status: "abandoned",
      error: "canceled by client",
    });

    // The task as A reports it (A's waiters included).
    expect(await getTask(a, "hold-1", "?wait=10000")).toMatchObject({
      status: "abandoned",
      error: "canceled by client",
    });
    // The cancel crossed to the worker process: its handler saw the abort, with the reason.
    // (Read until whole: the worker process may have created the file and not written it yet.)
    const said = await until(
      "the handler saw the abort",
      () => jsonIn(aborted),
      (v) => v !== undefined,
    );
    expect(said).toEqual({
      aborted: true,
      reason: "canceled by client",
    });
    // The handler then returned a result: refused, the worker's slot free, the task still canceled.
    await until(
      "w1's slot is free",
      async () =>
        (
          (await (await fetch(`${a}/agents`)).json()) as { agents: Array<{ id: string; load: number }> }
        ).agents.find((x) => x.id === "w1")?.load,
      (load) => load === 0,
    );
    for (const url of [a, b]) {
      expect(await getTask(url, "hold-1")).toMatchObject({
        status: "abandoned",
        error: "canceled by client",
        result: null,
      });
    }
    // A second cancel, through A, is refused: it is finished.
    expect((await fetch(`${a}/tasks/hold-1/cancel`, { method: "POST" })).status).toBe(409);
  });
});
