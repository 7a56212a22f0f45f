import { expect } from "vitest";
import {
  API_TOKEN,
  type ChaosCluster,
  DEFAULT_TIMING,
  FAST_TIMING,
  sleep,
  type TaskSpec,
} from "../../helpers/chaos-cluster.js";
import { now } from "../../helpers/history/history.js";
import { FIXTURE_HANDLERS, runScenario, type Scenario, slowTask, spreadMs } from "./common.js";

/** One POST /tasks as the client saw it (history time). */
type Answer = { start: number; end: number; status: number; retryAfter: string | null; error?: string };
/** `pausedAt`: when the master was paused for writes before its kill (the fault begins there). */
type Failover = { pausedAt: number; killedAt: number; promotedAt: number; master: number; replica: number };

/** After the promotion, the first write must be accepted within this long, and none refused after it. */
const BACK_WITHIN_MS = 2000;

/**
 * A Redis Cluster of 3 masters and 3 replicas under a REST load; one master is killed with -9
 * and its replica promoted (cluster-node-timeout 1.5 s). The client sends each batch until it
 * is accepted, the same task ids each time, waiting the Retry-After it is told. Nothing
 * accepted is lost or run twice to completion; the client is told only 2xx or 503 with
 * Retry-After (never 400 or 500); and within 2 s of the promotion, seen from the cluster
 * (the replica's ROLE), writes are accepted again. In the long run the killed node comes back
 * as a replica and another master is killed, three times.
 */
export const clusterFailover: Scenario = {
  title:
    "Redis Cluster master killed -9 under load (3 masters + 3 replicas): nothing lost, clients told 503 + Retry-After, writes accepted within 2 s of the promotion",
  name: "Redis Cluster master kill -9 (failover)",
  timeoutMs: { short: 180_000, long: 900_000 },
  run: (ctx) => {
    const long = ctx.mode === "long";
    const rounds = long ? 3 : 1;
    const answers: Answer[] = [];
    const failovers: Failover[] = [];
    return runScenario(
      ctx,
      "Redis Cluster master kill -9 (failover)",
      {
        timing: long ? DEFAULT_TIMING : FAST_TIMING,
        handlers: FIXTURE_HANDLERS,
        topology: { d1: [{ id: "w1" }], d2: [{ id: "w2" }] },
        redisCluster: { masters: 3, replicas: 1, nodeTimeoutMs: 1500 },
      },
      async (cluster) => {
        const nodes = cluster.redisCluster!;
        const faults = async () => {
          for (let round = 0; round < rounds; round++) {
            await sleep(long ? 5000 : 2000);
            // A different shard's master each round (the task records of shard n carry {t<n>}).
            const master = await nodes.masterOf(`{t${(round * 5) % 16}}`);
            const replica = await nodes.replicaOf(master);
            cluster.record(
              "fault",
              { kind: "redis-master-kill", target: `redis:${master}`, detect: false },
              "nemesis",
            );
            // Redis replicates asynchronously, and this coordinator runs without
            // --redis-wait-replicas (tested in test/integration/store/replica-wait.test.ts): a
            // write the master acknowledged and had not yet sent on is lost in a failover
            // (DESIGN.md, "When the store is unavailable"); two clean-clone CI runs lost a task
            // so. The master is paused for writes and killed once its replica acknowledged its
            // whole stream: this scenario tests the failover, not the replication lag.
            const pausedAt = now();
            await nodes.quiesce(master);
            const killedAt = now();
            await nodes.kill(master);
            const promotedAt = await nodes.waitForPromotion(replica);
            cluster.record("heal", { kind: "redis-promotion", target: `redis:${replica}` }, "nemesis");
            failovers.push({ pausedAt, killedAt, promotedAt, master, replica });
            await sleep(long ? 6000 : 3500);
            if (round < rounds - 1) await nodes.restartNode(master);
          }
        };
        await loadUntil(cluster, answers, faults(), long ? 60 : 40, (i) =>
          slowTask("cf", i, spreadMs(i, 300)),
        );
        const figures = failovers.map((f) => {
          const back = firstAcceptedAfter(answers, f.promotedAt);
          return `promoted ${((f.promotedAt - f.killedAt) / 1000).toFixed(2)} s after the kill, writes accepted ${Math.round(back - f.promotedAt)} ms after`;
        });
        const refused = answers.filter((a) => a.status === 503).length;
        process.stderr.write(
          `cluster failover: ${figures.join("; ")}; ${refused} of ${answers.length} POSTs answered 503\n`,
        );
        return { faultKinds: `${rounds} × kill -9 of a master (${figures.join("; ")})` };
      },
      (cluster) => {
        for (const a of cluster.agents.values()) expect(a.proc.running).toBe(true);
        // Told 2xx, or 503 with Retry-After: nothing else, and no request left without an answer.
        const wrong = answers.filter(
          (a) => !(a.status === 200 || a.status === 202 || (a.status === 503 && a.retryAfter !== null)),
        );
        expect(wrong).toEqual([]);
        // The outage was felt, and told as such.
        expect(answers.some((a) => a.status === 503)).toBe(true);
        failovers.forEach((f, i) => {
          expect(firstAcceptedAfter(answers, f.promotedAt) - f.promotedAt).toBeLessThan(BACK_WITHIN_MS);
          // None refused from then until the next master is paused for its kill (a write sent to
          // it while paused is answered when the kill closes its socket: refused, rightly).
          const until = failovers[i + 1]?.pausedAt ?? Number.POSITIVE_INFINITY;
          const refusedLater = answers.filter(
            (a) => a.status === 503 && a.start >= f.promotedAt + BACK_WITHIN_MS && a.start < until,
          );
          expect(refusedLater).toEqual([]);
        });
      },
    );
  },
};

/** When the first POST sent at or after `t` was accepted (its answer's time); Infinity if none was. */
function firstAcceptedAfter(answers: Answer[], t: number): number {
  let first = Number.POSITIVE_INFINITY;
  for (const a of answers)
    if (a.start >= t && a.status >= 200 && a.status < 300) first = Math.min(first, a.end);
  return first;
}

/**
 * A load of `perSecond` tasks in batches of 5 until `until` settles; each batch sent until it
 * is accepted (same ids: each task recorded once), every answer kept in `answers`.
 */
async function loadUntil(
  cluster: ChaosCluster,
  answers: Answer[],
  until: Promise<unknown>,
  perSecond: number,
  make: (i: number) => TaskSpec,
): Promise<void> {
  const batch = 5;
  let done = false;
  const finished = until.finally(() => {
    done = true;
  });
  const started = performance.now();
  const all: Promise<void>[] = [];
  for (let i = 0; !done; i += batch) {
    all.push(
      submitUntilAccepted(
        cluster,
        answers,
        Array.from({ length: batch }, (_, k) => make(i + k)),
      ),
    );
    const wait = started + ((i + batch) / perSecond) * 1000 - performance.now();
    if (wait > 0) await Promise.race([sleep(wait), finished.catch(() => {})]);
  }
  await Promise.all([finished, ...all]);
}

async function submitUntilAccepted(
  cluster: ChaosCluster,
  answers: Answer[],
  tasks: TaskSpec[],
  giveUpMs = 60_000,
): Promise<void> {
  for (const t of tasks) cluster.record("submitted", { task_id: t.task_id });
  const deadline = performance.now() + giveUpMs;
  for (;;) {
    const answer: Answer = { start: now(), end: 0, status: 0, retryAfter: null };
    try {
      const res = await fetch(`${cluster.coordinator.url}/tasks`, {
        method: "POST",
        headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify(tasks),
        signal: AbortSignal.timeout(15_000),
      });
      answer.status = res.status;
      answer.retryAfter = res.headers.get("retry-after");
      if (res.status >= 300) answer.error = (await res.text()).slice(0, 300);
      else await res.arrayBuffer();
    } catch (err) {
      answer.error = String(err);
    }
    answer.end = now();
    answers.push(answer);
    if (answer.status === 200 || answer.status === 202) {
      for (const t of tasks) cluster.record("accepted", { task_id: t.task_id });
      return;
    }
    const reason = `HTTP ${answer.status} ${answer.error ?? ""}`.slice(0, 120);
    for (const t of tasks) cluster.record("submit_failed", { task_id: t.task_id, reason });
    if (performance.now() > deadline) return;
    await sleep(answer.retryAfter !== null ? Number(answer.retryAfter) * 1000 : 250);
  }
}
