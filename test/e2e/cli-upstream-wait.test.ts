import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../helpers/free-port.js";
import { runTriad, TriadProcess } from "../helpers/processes.js";
import { testRedis } from "../helpers/redis-server.js";
import { until } from "../helpers/wait.js";

/**
 * Tiers started in the wrong order — the worker first, then its distributor, its coordinator
 * last — each open their port at once: `GET /health` answers 503 `waiting_for_upstream` (and
 * `GET /a2a` the agent id) while the upstream does not answer, 200 `ready` once the agent has
 * joined, and a task then runs through all three. They did not listen at all until their
 * upstream answered: a probe of a worker started before its distributor was refused.
 */

const env = {
  TRIAD_SECRET: "upstream-wait-secret-0123456789abcdef",
  TRIAD_LOG_LEVEL: "warn",
  TRIAD_LOG_FORMAT: "json",
};

type Health = { agent_id: string; tier: string; status: string; ready: boolean; upstream: string };

async function health(url: string): Promise<{ status: number; body: Health } | null> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
    return { status: res.status, body: (await res.json()) as Health };
  } catch {
    return null; // not listening
  }
}

describe("tiers started before their upstream", () => {
  let redis: Awaited<ReturnType<typeof testRedis>>;
  const procs: TriadProcess[] = [];

  beforeAll(async () => {
    redis = await testRedis();
  }, 30_000);

  afterAll(async () => {
    for (const p of procs) await p.kill();
    await redis.close();
  });

  const start = (args: string[]) => {
    const p = new TriadProcess(args, env);
    procs.push(p);
    return p;
  };

  it("listen at once, say they wait on /health, and join when the upstream appears", async () => {
    const [wPort, dPort, cPort] = [await freePort(), await freePort(), await freePort()];
    const [wUrl, dUrl, cUrl] = [wPort, dPort, cPort].map((p) => `http://127.0.0.1:${p}`) as [
      string,
      string,
      string,
    ];
    const worker = start(["worker", "--id", "w-early", "--distributor", dUrl, "--port", String(wPort)]);
    await until("the worker listens", async () => (await health(wUrl)) !== null, 20_000, 100);
    const waiting = await health(wUrl);
    expect(waiting?.status).toBe(503);
    expect(waiting?.body).toMatchObject({
      agent_id: "w-early",
      tier: "worker",
      status: "waiting_for_upstream",
      ready: false,
      upstream: dUrl,
    });
    const who = await fetch(`${wUrl}/a2a`).then((r) => r.json());
    expect(who).toEqual({ agent_id: "w-early", protocol: "triad-a2a" });

    const distributor = start([
      "distributor",
      "--id",
      "d-early",
      "--coordinator",
      cUrl,
      "--redis",
      redis.url,
      "--port",
      String(dPort),
    ]);
    await until("the distributor listens", async () => (await health(dUrl)) !== null, 20_000, 100);
    const dWaiting = await health(dUrl);
    expect(dWaiting?.status).toBe(503);
    expect(dWaiting?.body).toMatchObject({
      agent_id: "d-early",
      tier: "distributor",
      status: "waiting_for_upstream",
    });

    const coordinator = start([
      "coordinator",
      "--id",
      "c-late",
      "--redis",
      redis.url,
      "--port",
      String(cPort),
    ]);
    await coordinator.waitFor(/^ready coordinator/m, 30_000);
    await distributor.waitFor(/^ready distributor d-early/m, 30_000);
    await worker.waitFor(/^ready worker w-early/m, 30_000);
    expect((await health(dUrl))?.body).toMatchObject({ status: "ready", ready: true });
    expect((await health(wUrl))?.status).toBe(200);

    await until(
      "the worker has joined its distributor",
      async () => (await runTriad(["status", "--coordinator", cUrl], { env })).stdout.includes("w-early"),
      30_000,
      500,
    );
    const submitted = await runTriad(
      ["submit", "--coordinator", cUrl, "--type", "echo", "--payload", '{"order":"wrong"}', "--wait"],
      { env, timeoutMs: 30_000 },
    );
    expect(submitted.code).toBe(0);
    expect(submitted.stdout).toContain('"status":"completed"');
    expect(submitted.stdout).toContain('"assigned_to":"w-early"');

    for (const p of [worker, distributor, coordinator]) p.signal("SIGTERM");
    for (const p of [worker, distributor, coordinator]) expect((await p.exit()).code).toBe(0);
  }, 120_000);

  it("exits 0 on SIGTERM while it waits", async () => {
    const port = await freePort();
    const nobody = `http://127.0.0.1:${await freePort()}`;
    const worker = start(["worker", "--id", "w-waits", "--distributor", nobody, "--port", String(port)]);
    await until(
      "the worker listens",
      async () => (await health(`http://127.0.0.1:${port}`)) !== null,
      20_000,
      100,
    );
    worker.signal("SIGTERM");
    expect(await worker.exit()).toEqual({ code: 0, signal: null });
  }, 60_000);
});
