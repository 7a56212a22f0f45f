import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../helpers/free-port.js";
import { runTriad, START_UP_MS, startSideBySide, TriadProcess } from "../helpers/processes.js";
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

type Health = {
  agent_id: string;
  tier: string;
  status: string;
  ready: boolean;
  upstream: string;
  reason?: string;
};

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
    await until("the worker listens", async () => (await health(wUrl)) !== null, START_UP_MS, 100);
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
    await until("the distributor listens", async () => (await health(dUrl)) !== null, START_UP_MS, 100);
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
    await coordinator.waitFor(/^ready coordinator/m, START_UP_MS);
    await distributor.waitFor(/^ready distributor d-early/m, START_UP_MS);
    await worker.waitFor(/^ready worker w-early/m, START_UP_MS);
    expect((await health(dUrl))?.body).toMatchObject({ status: "ready", ready: true });
    expect((await health(wUrl))?.status).toBe(200);

    // Waited for through GET /agents (a `triad status` process every half second cost a node
    // start-up each, seconds of CPU on a loaded host), then said by `triad status` once.
    await until(
      "the coordinator lists the worker",
      async () => {
        const { agents } = (await (await fetch(`${cUrl}/agents`)).json()) as {
          agents: Array<{ id: string }>;
        };
        return agents.some((a) => a.id === "w-early");
      },
      30_000,
      200,
    );
    expect((await runTriad(["status", "--coordinator", cUrl], { env })).stdout).toContain("w-early");
    const submitted = await runTriad(
      ["submit", "--coordinator", cUrl, "--type", "echo", "--payload", '{"order":"wrong"}', "--wait"],
      { env, timeoutMs: 30_000 },
    );
    expect(submitted.code).toBe(0);
    expect(submitted.stdout).toContain('"status":"completed"');
    expect(submitted.stdout).toContain('"assigned_to":"w-early"');

    for (const p of [worker, distributor, coordinator]) p.signal("SIGTERM");
    for (const p of [worker, distributor, coordinator]) expect((await p.exit()).code).toBe(0);
  }, 240_000);

  it("not ready while its upstream refuses it (another secret): /health says why, the log says once what to check", async () => {
    const otherSecret = "upstream-refused-other-secret-0123456789";
    const [wPort, dPort, cPort] = [await freePort(), await freePort(), await freePort()];
    const [wUrl, dUrl, cUrl] = [wPort, dPort, cPort].map((p) => `http://127.0.0.1:${p}`) as [
      string,
      string,
      string,
    ];
    const dArgs = ["distributor", "--id", "d-ok", "--coordinator", cUrl, "--redis", redis.url];
    // The worker signs with another secret: the distributor refuses every message of it. It
    // beats (and retries its join) every 250 ms, not every second: the refusals counted below
    // and its join once the distributor takes its secret come four times sooner. The default
    // interval is not what this test is about. It starts beside its coordinator and distributor
    // (each tier waits for its upstream, as the test above shows): one start-up's wait, not three.
    const worker = new TriadProcess(
      [
        ...["worker", "--id", "w-other", "--distributor", dUrl, "--port", String(wPort)],
        ...["--heartbeat-interval", "250"],
      ],
      {
        ...env,
        TRIAD_SECRET: otherSecret,
      },
    );
    procs.push(worker);
    const [{ proc: coordinator }, { proc: distributor }] = await startSideBySide(
      [
        { args: ["coordinator", "--id", "c-ok", "--redis", redis.url, "--port", String(cPort)] },
        { args: [...dArgs, "--port", String(dPort)], ready: /^ready distributor d-ok/m },
      ],
      { env, into: procs, ready: /^ready coordinator/m },
    );
    const refused = async (url: string) => {
      const h = await health(url);
      return h?.status === 503 && h.body.status === "upstream_refused" ? h : null;
    };
    await until("the worker says it is refused", async () => (await refused(wUrl)) !== null, 60_000, 200);
    expect((await refused(wUrl))?.body).toMatchObject({
      agent_id: "w-other",
      tier: "worker",
      ready: false,
      reason: "upstream_refused: bad_signature",
      upstream: dUrl,
    });
    // Several heartbeats later: still refused, still no ready line, the error said once.
    await until(
      "the distributor refused a few heartbeats",
      async () => (distributor.output.match(/"sender":"w-other"/g) ?? []).length >= 3,
      60_000,
      200,
    );
    expect(worker.running).toBe(true);
    expect(worker.output).not.toMatch(/^ready worker/m);
    const errors = worker.output.split("\n").filter((l) => l.includes('"level":50'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain("refuses this worker's messages (bad_signature)");
    expect(errors[0]).toContain("TRIAD_SECRET");
    expect(worker.output).not.toContain(otherSecret);

    // The distributor restarted with the worker's secret: it takes the worker in (ready at
    // last), and is itself refused by its coordinator, which signs with the first secret.
    distributor.signal("SIGTERM");
    expect((await distributor.exit()).code).toBe(0);
    const redone = new TriadProcess([...dArgs, "--port", String(dPort)], {
      ...env,
      TRIAD_SECRET: otherSecret,
    });
    procs.push(redone);
    await worker.waitFor(/^ready worker w-other/m, 60_000);
    expect((await health(wUrl))?.status).toBe(200);
    await until(
      "the distributor says it is refused",
      async () => (await refused(dUrl)) !== null,
      60_000,
      200,
    );
    expect((await refused(dUrl))?.body).toMatchObject({
      tier: "distributor",
      reason: "upstream_refused: bad_signature",
    });
    expect(redone.output).not.toMatch(/^ready distributor/m);
    expect(redone.output).toContain("refuses this distributor's messages (bad_signature)");
    for (const p of [worker, redone, coordinator]) p.signal("SIGTERM");
    for (const p of [worker, redone, coordinator]) expect((await p.exit()).code).toBe(0);
  }, 240_000);

  it(
    "exits 0 on SIGTERM while it waits",
    async () => {
      const port = await freePort();
      const nobody = `http://127.0.0.1:${await freePort()}`;
      const worker = start(["worker", "--id", "w-waits", "--distributor", nobody, "--port", String(port)]);
      await until(
        "the worker listens",
        async () => (await health(`http://127.0.0.1:${port}`)) !== null,
        START_UP_MS,
        100,
      );
      worker.signal("SIGTERM");
      expect(await worker.exit()).toEqual({ code: 0, signal: null });
    },
    START_UP_MS + 30_000,
  );
});
