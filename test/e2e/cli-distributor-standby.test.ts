import { randomBytes } from "node:crypto";
import { type AddressInfo, connect, createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../helpers/free-port.js";
import { START_UP_MS, startSideBySide, TriadProcess } from "../helpers/processes.js";
import { parsePrometheusText, sumOf } from "../helpers/prometheus-text.js";
import { testRedis } from "../helpers/redis-server.js";
import { until } from "../helpers/wait.js";

/**
 * A second `triad distributor --id d1` while the first lives (a copied command, a standby kept
 * on purpose) waits for the lease the first holds. It printed `ready` as if it served, and sent
 * `recovering` heartbeats under d1 all the while. It now says `standby distributor d1 <url>`,
 * answers GET /health 503 `standby`, sends nothing under d1 (the bytes it sends are counted by a
 * TCP proxy in front of the coordinator, for it alone), and once the first stops and gives the lease
 * back it takes over: `ready`, and the coordinator lists d1 at its address.
 */

const FAST = ["--heartbeat-interval", "200", "--heartbeat-timeout", "800", "--monitor-interval", "100"];

/**
 * A TCP proxy to `target` that counts the bytes sent through it towards `target` (its A2A
 * messages, on plain requests or on an upgraded stream alike).
 */
async function countingProxy(target: string): Promise<{ url: string; sent: () => number; server: Server }> {
  const to = new URL(target);
  let sent = 0;
  const server = createServer((client) => {
    const upstream = connect(Number(to.port), to.hostname);
    client.on("data", (d: Buffer) => {
      sent += d.length;
    });
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, sent: () => sent, server };
}

type AgentRow = { id: string; tier: string; url?: string | null; status: string };

describe("a second distributor process under a live one's id", () => {
  let redis: Awaited<ReturnType<typeof testRedis>>;
  const procs: TriadProcess[] = [];
  let proxy: Awaited<ReturnType<typeof countingProxy>> | undefined;
  const env = { TRIAD_SECRET: randomBytes(32).toString("hex"), TRIAD_LOG_LEVEL: "warn" };

  const spawn = (args: string[]) => {
    const p = new TriadProcess(args, env);
    procs.push(p);
    return p;
  };

  beforeAll(async () => {
    redis = await testRedis();
  }, 60_000);

  afterAll(async () => {
    for (const p of procs.reverse()) await p.kill();
    proxy?.server.close();
    await redis?.close();
  });

  it("says it is a standby, not ready, sends nothing under the id, and takes over once the first stops", async () => {
    const [cp, d1p, d2p] = await Promise.all([freePort(), freePort(), freePort()]);
    // The coordinator and the first distributor side by side (the distributor waits for its
    // coordinator): one start-up's wait, not two. The second must come once the first holds d1.
    const [{ url: cUrl }, { proc: first, url: firstUrl }] = await startSideBySide(
      [
        {
          args: ["coordinator", "--id", "c1", "--redis", redis.url, "--port", String(cp), ...FAST],
          ready: /ready coordinator c1 (\S+)/,
        },
        {
          args: [
            "distributor",
            ...["--id", "d1", "--coordinator", `http://127.0.0.1:${cp}`, "--redis", redis.url],
            ...["--port", String(d1p), ...FAST],
          ],
          ready: /ready distributor d1 (\S+)/,
        },
      ],
      { env, into: procs },
    );
    expect(cUrl).toBe(`http://127.0.0.1:${cp}`);
    proxy = await countingProxy(cUrl);
    const second = spawn([
      "distributor",
      ...["--id", "d1", "--coordinator", proxy.url, "--redis", redis.url, "--port", String(d2p)],
      ...FAST,
    ]);
    const secondUrl = (await second.waitFor(/standby distributor d1 (\S+)/, START_UP_MS))[1]!;
    expect(second.output).not.toMatch(/^ready /m);
    const health = await fetch(`${secondUrl}/health`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ agent_id: "d1", status: "standby", ready: false });

    // While the first heartbeats ten more times (the distributor heartbeats c1 took: the first's
    // alone), the standby sends nothing under d1.
    const sent = proxy.sent();
    const firstBeats = async () =>
      sumOf(parsePrometheusText(await (await fetch(`${cUrl}/metrics`)).text()), "triad_heartbeats_total", {
        tier: "distributor",
        agent: "c1",
      });
    const beatsThen = await firstBeats();
    await until(
      "the first distributor has heartbeat ten more times",
      async () => (await firstBeats()) >= beatsThen + 10,
      START_UP_MS,
    );
    expect(proxy.sent()).toBe(sent);
    expect(second.output).not.toMatch(/^ready /m);
    const agents = async () =>
      ((await (await fetch(`${cUrl}/agents`)).json()) as { agents: AgentRow[] }).agents;
    expect((await agents()).filter((a) => a.id === "d1")).toMatchObject([{ url: firstUrl }]);

    // The first stops (its lease given back): the standby takes over.
    first.signal("SIGTERM");
    expect(await first.exit(START_UP_MS)).toEqual({ code: 0, signal: null });
    await second.waitFor(/ready distributor d1 /, START_UP_MS);
    // Its coordinator took it in before it knew itself a standby (that registration counts for
    // `ready`), so the line may come just before its first heartbeat under d1 goes.
    await until("the standby sends under d1 now", () => proxy!.sent() > sent, START_UP_MS);
    await until(
      "the coordinator lists d1 at the standby's address",
      async () => (await agents()).some((a) => a.id === "d1" && a.url === secondUrl && a.status !== "dead"),
      START_UP_MS,
    );
    expect(second.running).toBe(true);
  }, 240_000);
});
