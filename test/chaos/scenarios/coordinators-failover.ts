import { expect } from "vitest";
import {
  API_TOKEN,
  type ChaosCluster,
  DEFAULT_TIMING,
  FAST_TIMING,
  sleep,
} from "../../helpers/chaos-cluster.js";
import { FIXTURE_HANDLERS, runScenario, type Scenario, slowTask, spreadMs } from "./common.js";

type Listed = { id: string; tier: string; status?: string; shards?: number[] };

/**
 * Three coordinators on one Redis under a steady load (SPEC "Several coordinators"): kill -9 of
 * one, later SIGSTOP of another past the heartbeat timeout, then SIGCONT. The client and the
 * distributors are given all three URLs. Detection: the fault until the coordinators left no
 * longer list it alive; takeover: until they own all 16 shards between them (each measured by polling
 * GET /agents every 25 ms). Everything accepted ends once.
 */
export const coordinatorsFailover: Scenario = {
  title:
    "kill -9 and SIGSTOP of a coordinator among three under steady load: shards move, nothing lost or doubled",
  name: "kill -9 / SIGSTOP 1 of 3 coordinators",
  timeoutMs: { short: 120_000, long: 600_000 },
  run: (ctx) => {
    const long = ctx.mode === "long";
    const timing = long ? DEFAULT_TIMING : FAST_TIMING;
    const rounds = long ? 3 : 1;
    const detection: number[] = [];
    const takeover: number[] = [];
    let submitted = 0;
    return runScenario(
      {
        ...ctx,
        // The coordinators' own detection and takeover times (the checker's are for distributors and workers).
        report: (row) => ctx.report({ ...row, detectionMs: detection, reassignmentMs: takeover }),
      },
      "kill -9 / SIGSTOP 1 of 3 coordinators",
      {
        timing,
        coordinators: 3,
        handlers: FIXTURE_HANDLERS,
        topology: { d1: [{ id: "w1" }], d2: [{ id: "w2" }] },
      },
      async (cluster) => {
        const faults = async () => {
          for (let round = 0; round < rounds; round++) {
            await sleep(long ? 6000 : 1200);
            await cluster.kill("c1");
            await watchTakeover(cluster, "c1", ["c2", "c3"], detection, takeover);
            await cluster.restart("c1");
            await sharesOf(cluster, ["c1", "c2", "c3"], 30_000);
            await sleep(long ? 4000 : 800);
            cluster.pause("c2");
            await watchTakeover(cluster, "c2", ["c1", "c3"], detection, takeover);
            cluster.resume("c2");
            await sharesOf(cluster, ["c1", "c2", "c3"], 30_000);
          }
          await sleep(long ? 4000 : 800);
        };
        // Below the two workers' capacity (16 slow tasks at once), so a fault's backlog drains.
        submitted = await cluster.loadUntil(faults(), long ? 40 : 30, (i) =>
          slowTask("kc3", i, spreadMs(i, 400)),
        );
        process.stderr.write(
          `coordinators: detection ${detection.map(Math.round).join(", ")} ms; takeover ${takeover.map(Math.round).join(", ")} ms\n`,
        );
        return { faultKinds: `${rounds} × (kill -9 c1, restart; SIGSTOP c2, SIGCONT)` };
      },
      (_cluster, result) => {
        expect(result.stats.accepted).toBe(submitted);
        expect(result.stats.indeterminate).toBe(0);
        expect(detection.length).toBe(2 * rounds);
      },
    );
  },
};

/** Polls GET /agents of a live coordinator until `gone` is no longer listed (detection), then until `left` own all 16 shards (takeover). */
async function watchTakeover(
  cluster: ChaosCluster,
  gone: string,
  left: string[],
  detection: number[],
  takeover: number[],
): Promise<void> {
  const t0 = performance.now();
  let detected = false;
  for (;;) {
    // A coordinator that died stays listed, dead, for the retention: the live ones count.
    const coordinators = live(await listed(cluster, left[0]!));
    if (!detected && !coordinators.some((a) => a.id === gone)) {
      detected = true;
      detection.push(performance.now() - t0);
    }
    const owned = coordinators.filter((a) => left.includes(a.id)).flatMap((a) => a.shards ?? []);
    if (detected && new Set(owned).size === 16) {
      takeover.push(performance.now() - t0);
      return;
    }
    if (performance.now() - t0 > 30_000)
      throw new Error(`no takeover from ${gone}: ${JSON.stringify(coordinators)}`);
    await sleep(25);
  }
}

/** Waits until exactly `ids` are listed and own all 16 shards, none twice. */
async function sharesOf(cluster: ChaosCluster, ids: string[], timeoutMs: number): Promise<void> {
  const t0 = performance.now();
  for (;;) {
    const coordinators = live(await listed(cluster, ids[0]!));
    const owned = coordinators.flatMap((a) => a.shards ?? []);
    const names = coordinators.map((a) => a.id).sort();
    if (names.join() === [...ids].sort().join() && owned.length === 16 && new Set(owned).size === 16) return;
    if (performance.now() - t0 > timeoutMs)
      throw new Error(`shards not settled: ${JSON.stringify(coordinators)}`);
    await sleep(50);
  }
}

function live(agents: Listed[]): Listed[] {
  return agents.filter((a) => a.tier === "coordinator" && a.status !== "dead");
}

async function listed(cluster: ChaosCluster, via: string): Promise<Listed[]> {
  const res = await fetch(`${cluster.agent(via).url}/agents`, {
    headers: { authorization: `Bearer ${API_TOKEN}` },
    signal: AbortSignal.timeout(5000),
  }).catch(() => null);
  if (res === null || !res.ok) return [];
  return ((await res.json()) as { agents: Listed[] }).agents;
}
