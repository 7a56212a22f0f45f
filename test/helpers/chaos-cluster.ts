import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { RedisClient } from "../../src/index.js";
import { API_TOKEN, ChaosClient } from "./chaos-client.js";
import type { HealthFront } from "./chaos-front.js";
import { FaultProxy, type MessageFaults } from "./faults.js";
import { freePort } from "./free-port.js";
import { type Bounds, type CheckResult, checkHistory, type FinalRecord } from "./history/checker.js";
import { now } from "./history/history.js";
import { START_UP_MS, TriadProcess } from "./processes.js";
import { RedisCluster } from "./redis-cluster.js";
import { RedisServer } from "./redis-server.js";

/**
 * A Triad deployment for a chaos scenario: a redis-server of its own, and every agent its own
 * `bin/triad` process recording its history (--history). Around it, a client that submits
 * tasks over the REST API and records what it was told (ChaosClient, chaos-client.ts, with the
 * questions asked of the history as the run goes), and a nemesis that kills, pauses, restarts
 * and disconnects, recording each fault. At the end, `check()` reads every history and the
 * final record of every task from Redis and runs the checker over the whole run.
 */

// What the scenarios take from here, wherever it is defined.
export { API_TOKEN, sleep, type TaskSpec } from "./chaos-client.js";

export const SECRET = "chaos-secret-0123456789";

/** The failure-detection timing every agent runs with (flags of bin/triad). */
export type ChaosTiming = {
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  monitorIntervalMs: number;
  leaseTtlMs: number;
};

/** Triad's defaults: what the long run (and docs/RELIABILITY.md) measures. */
export const DEFAULT_TIMING: ChaosTiming = {
  heartbeatIntervalMs: 1000,
  heartbeatTimeoutMs: 3000,
  monitorIntervalMs: 500,
  leaseTtlMs: 3000,
};

/** Four times faster, so the short runs in CI take seconds per fault. */
export const FAST_TIMING: ChaosTiming = {
  heartbeatIntervalMs: 250,
  heartbeatTimeoutMs: 1000,
  monitorIntervalMs: 125,
  leaseTtlMs: 1000,
};

/**
 * The checker's bounds for a timing. A peer whose last heartbeat left just before it went
 * silent is declared dead at the first monitor tick after heartbeatTimeout, so detection takes
 * at most heartbeatTimeout + monitorInterval; its tasks are moved in that same tick. `slackMs`
 * covers a busy 2-core machine (timers firing late while the test runner, Redis and half a
 * dozen agents share the cores, a GC pause): 1.5 s by default, more than any timer delay we
 * have seen here, yet far below what a missing detection would look like (never).
 */
export function boundsFor(t: ChaosTiming, slackMs = 1500): Bounds {
  return {
    detectionMs: t.heartbeatTimeoutMs + t.monitorIntervalMs + slackMs,
    reassignMs: t.monitorIntervalMs + slackMs,
  };
}

export type Tier = "coordinator" | "distributor" | "worker";

export type AgentProcess = {
  id: string;
  tier: Tier;
  /** Its supervisor: the coordinator for a distributor, its distributor for a worker. */
  parent: string | null;
  port: number;
  /** Its own listener. */
  url: string;
  /** Where its peers reach it: the fault proxy in front of it, or its own URL. */
  peerUrl: string;
  proxy: FaultProxy | undefined;
  proc: TriadProcess;
  incarnation: number;
  args: string[];
  /** Environment of its own, beside the secrets (kept across restarts). */
  env: Record<string, string>;
};

/**
 * Distributor id -> its workers (`handlers`: that worker's --handlers module, instead of
 * options.handlers; `env`: environment of its own, for that module to read).
 */
export type Topology = Record<
  string,
  Array<{ id: string; concurrency?: number; handlers?: string; env?: Record<string, string> }>
>;

export type ChaosOptions = {
  name: string;
  timing: ChaosTiming;
  /** Distributor id -> its workers. */
  topology: Topology;
  /** Coordinators c1..cN on the one store (default 1); distributors and the client are given them all. */
  coordinators?: number;
  appendOnly?: boolean;
  /** Run on a Redis Cluster of its own (masters, replicas per master, cluster-node-timeout) instead of one redis-server. */
  redisCluster?: { masters: number; replicas: number; nodeTimeoutMs: number };
  /** Put a fault proxy in front of every agent's A2A listener, with these faults (may be {}). */
  proxies?: MessageFaults;
  /** --handlers module for the workers. */
  handlers?: string;
  /** Distributor id -> the front its workers are given instead of its URL (a standby's setup). */
  fronts?: Record<string, HealthFront>;
  taskTimeoutMs?: number;
  maxRetries?: number;
  retryBackoffMs?: number;
};

const READY = /ready \w+ \S+ (http:\/\/\S+)/;

/**
 * Clusters not closed yet: if the test process exits first (process.exit), their processes go
 * with it. Not on a signal (vitest stops its workers with SIGTERM, which runs no exit handler):
 * that is the reaper's (reaper.ts), as a scenario's failure or timeout is stoppedWithTest's.
 */
const live = new Set<ChaosCluster>();
process.once("exit", () => {
  for (const cluster of live) cluster.killNow();
});
const execFileAsync = promisify(execFile);

export class ChaosCluster extends ChaosClient {
  readonly agents = new Map<string, AgentProcess>();
  /** The store's URL the agents are given: the redis-server's, or the Redis Cluster's. */
  readonly storeUrl: string;
  /** With options.redisCluster: the cluster, its nodes to kill and restart. */
  readonly redisCluster: RedisCluster | undefined;
  private readonly single: RedisServer | undefined;
  /** SIGSTOPped agents: the client does not wait on a frozen coordinator while another answers. */
  private readonly paused = new Set<string>();

  private constructor(
    readonly options: ChaosOptions,
    redis: RedisServer | RedisCluster,
  ) {
    super(mkdtempSync(join(tmpdir(), `triad-chaos-${options.name}-`)), new RedisClient({ url: redis.url }));
    this.single = redis instanceof RedisServer ? redis : undefined;
    this.redisCluster = redis instanceof RedisCluster ? redis : undefined;
    this.storeUrl = redis.url;
  }

  static async start(options: ChaosOptions): Promise<ChaosCluster> {
    const c = options.redisCluster;
    const redis = c
      ? await RedisCluster.start(c.masters, { replicas: c.replicas, nodeTimeoutMs: c.nodeTimeoutMs })
      : await RedisServer.start({ appendOnly: options.appendOnly ?? false });
    const cluster = new ChaosCluster(options, redis);
    live.add(cluster);
    try {
      await cluster.store.connect();
      await cluster.boot();
    } catch (err) {
      // What each process said is the clue to why it did not come up.
      const outputs = (() => {
        try {
          return cluster.outputs();
        } catch {
          return "";
        }
      })();
      await cluster.close();
      throw Object.assign(err as Error, { message: `${(err as Error).message}\n${outputs}` });
    }
    return cluster;
  }

  /** The one redis-server of the run (not with options.redisCluster). */
  get redis(): RedisServer {
    if (this.single === undefined) throw new Error("this run is on a Redis Cluster: use redisCluster");
    return this.single;
  }

  get bounds(): Bounds {
    return boundsFor(this.options.timing);
  }

  get coordinator(): AgentProcess {
    return [...this.agents.values()].find((a) => a.tier === "coordinator")!;
  }

  agent(id: string): AgentProcess {
    const a = this.agents.get(id);
    if (a === undefined) throw new Error(`no agent ${id} in this cluster`);
    return a;
  }

  workersOf(distributorId: string): AgentProcess[] {
    return [...this.agents.values()].filter((a) => a.parent === distributorId);
  }

  // --- starting agents ------------------------------------------------------------------------

  private async boot(): Promise<void> {
    // Ports and proxies first (a peer's URL is known before it is up), then every process at
    // once: each waits for its peer to answer before it registers.
    const n = this.options.coordinators ?? 1;
    const all: AgentProcess[] = [];
    for (let k = 1; k <= n; k++) all.push(await this.plan(`c${k}`, "coordinator", null));
    for (const [k, d] of Object.keys(this.options.topology).entries())
      all.push(await this.plan(d, "distributor", `c${(k % n) + 1}`));
    for (const [d, workers] of Object.entries(this.options.topology))
      for (const w of workers) all.push(await this.plan(w.id, "worker", d, w.concurrency, w.handlers, w.env));
    await Promise.all(all.map((a) => this.launch(a)));
    // Every worker registered and every distributor holds its lease: the cluster is ready for work.
    await this.waitForAgents(20_000);
  }

  private timingArgs(tier: Tier): string[] {
    const t = this.options.timing;
    const args = ["--heartbeat-interval", String(t.heartbeatIntervalMs)];
    if (tier === "worker") return args;
    args.push("--heartbeat-timeout", String(t.heartbeatTimeoutMs));
    args.push("--monitor-interval", String(t.monitorIntervalMs));
    if (tier === "distributor") args.push("--lease-ttl", String(t.leaseTtlMs));
    return args;
  }

  private async plan(
    id: string,
    tier: Tier,
    parent: string | null,
    concurrency = 8,
    handlers = this.options.handlers,
    env: Record<string, string> = {},
  ): Promise<AgentProcess> {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const proxy = this.options.proxies ? await FaultProxy.start(url, this.options.proxies) : undefined;
    const peerUrl = proxy?.url ?? url;
    const args = [tier, "--id", id, "--port", String(port), "--log-level", "warn", ...this.timingArgs(tier)];
    if (tier === "coordinator") {
      args.push("--redis", this.storeUrl);
      args.push("--max-retries", String(this.options.maxRetries ?? 2));
      args.push("--retry-backoff", String(this.options.retryBackoffMs ?? 100));
    } else if (tier === "distributor") {
      // Its own coordinator first, then the others in turn (several coordinators).
      const all = this.coordinators();
      const first = all.findIndex((c) => c.id === parent);
      const order = [...all.slice(first), ...all.slice(0, first)].map((c) => c.peerUrl);
      args.push("--coordinator", order.join(","), "--redis", this.storeUrl);
      args.push("--task-timeout", String(this.options.taskTimeoutMs ?? 10_000));
      this.options.fronts?.[id]?.add(url);
    } else {
      const front = this.options.fronts?.[parent!];
      args.push("--distributor", front?.url ?? this.agent(parent!).peerUrl);
      args.push("--concurrency", String(concurrency));
      if (handlers) args.push("--handlers", handlers);
    }
    if (proxy && tier !== "coordinator") args.push("--advertise-url", peerUrl);
    const agent: AgentProcess = {
      id,
      tier,
      parent,
      port,
      url,
      peerUrl,
      proxy,
      proc: undefined as unknown as TriadProcess,
      incarnation: 0,
      args,
      env,
    };
    this.agents.set(id, agent);
    return agent;
  }

  private async launch(agent: AgentProcess): Promise<void> {
    agent.incarnation++;
    const history = join(this.dir, `${agent.id}.${agent.incarnation}.jsonl`);
    agent.proc = new TriadProcess([...agent.args, "--history", history], {
      ...agent.env,
      TRIAD_SECRET: SECRET,
      TRIAD_API_TOKEN: API_TOKEN,
    });
    await agent.proc.waitFor(READY, START_UP_MS);
  }

  /** Waits until the coordinator lists every distributor and worker alive. */
  async waitForAgents(timeoutMs = 20_000): Promise<void> {
    const want = [...this.agents.values()].filter((a) => a.tier !== "coordinator" && a.proc.running);
    await this.waitUntil(
      async () => {
        const listed = await this.api<{ agents: Array<{ id: string; status: string }> }>(
          "GET",
          "/agents",
        ).catch(() => null);
        if (listed === null) return false;
        const alive = new Set(
          listed.agents.filter((a) => a.status !== "dead" && a.status !== "recovering").map((a) => a.id),
        );
        return want.every((a) => alive.has(a.id));
      },
      timeoutMs,
      `every agent alive (${want.map((a) => a.id).join(", ")})`,
    );
  }

  /**
   * Sets a task type's limit (PUT /limits) and waits until every running distributor knows it:
   * the latest "limits" line of its history (the types its gate read as limited) names the type.
   */
  async setLimit(taskType: string, limit: { concurrency?: number; rate_per_s?: number }): Promise<void> {
    await this.api("PUT", `/limits/${encodeURIComponent(taskType)}`, limit);
    const distributors = [...this.agents.values()].filter((a) => a.tier === "distributor" && a.proc.running);
    await this.waitUntil(
      () => {
        const latest = new Map<string, unknown>();
        for (const e of this.history()) if (e.op === "limits") latest.set(e.agent, e.types);
        return distributors.every((d) => (latest.get(d.id) as string[] | undefined)?.includes(taskType));
      },
      30_000,
      `every distributor has read the limit of ${taskType}`,
    );
  }

  /** The coordinators, c1 first. */
  coordinators(): AgentProcess[] {
    return [...this.agents.values()].filter((a) => a.tier === "coordinator");
  }

  /** Those the client asks, in turn: running and not frozen, c1 first (any one serves; a restarted one may not listen yet). */
  protected apiTargets(): AgentProcess[] {
    const live = this.coordinators().filter((c) => c.proc?.running !== false && !this.paused.has(c.id));
    return live.length > 0 ? live : [this.coordinator];
  }

  // --- the nemesis --------------------------------------------------------------------------

  private fault(kind: string, target: string, detect: boolean, extra: Record<string, unknown> = {}): void {
    this.record("fault", { kind, target, detect, ...extra }, "nemesis");
  }

  private heal(kind: string, target: string): void {
    this.record("heal", { kind, target }, "nemesis");
  }

  /** kill -9. A worker or distributor must then be declared dead by its supervisor (unless restarted first). */
  async kill(id: string, options: { detect?: boolean } = {}): Promise<void> {
    const a = this.agent(id);
    this.fault("kill", id, options.detect ?? a.tier !== "coordinator");
    a.proc.signal("SIGKILL");
    await a.proc.exit(10_000);
  }

  /** SIGSTOP: frozen, sockets open, timers stopped. */
  pause(id: string, options: { detect?: boolean } = {}): void {
    this.fault("pause", id, options.detect ?? this.agent(id).tier !== "coordinator");
    this.paused.add(id);
    this.agent(id).proc.signal("SIGSTOP");
  }

  /** SIGCONT. */
  resume(id: string): void {
    this.agent(id).proc.signal("SIGCONT");
    this.paused.delete(id);
    this.heal("resume", id);
  }

  /** Cuts the network between two agents, both ways (their proxies drop what the other sends). */
  partition(a: string, b: string): void {
    this.fault("partition", b, this.agent(b).tier !== "coordinator", { from: a });
    this.isolate(a, b, true);
  }

  /** Ends a partition. */
  reconnect(a: string, b: string): void {
    this.isolate(a, b, false);
    this.record("heal", { kind: "partition", target: b }, "nemesis");
  }

  private isolate(a: string, b: string, cut: boolean): void {
    for (const [at, from] of [
      [a, b],
      [b, a],
    ] as const) {
      const proxy = this.agent(at).proxy;
      if (proxy === undefined)
        throw new Error(`${at} has no proxy in front of it: start the cluster with proxies`);
      const others = (proxy.faults.isolate ?? []).filter((id) => id !== from);
      proxy.faults = { ...proxy.faults, isolate: cut ? [...others, from] : others };
    }
  }

  /**
   * Starts the agent (or agents, side by side) again with the same id and flags (a
   * supervisor's restart), on the same port, or with `freshPort` on a new free one: the old one
   * may be taken meanwhile (a restart found EADDRINUSE there). A worker restarted is pointed at
   * its distributor's URL as it is now (one restarted with it on a fresh port: the new one), and
   * with `freshPort` registers its new address. A fresh port is not for an agent behind a fault
   * proxy, a front or a coordinator (their peers keep the old URL).
   */
  async restart(ids: string | string[], options: { freshPort?: boolean } = {}): Promise<void> {
    const agents = (typeof ids === "string" ? [ids] : ids).map((id) => this.agent(id));
    for (const a of agents) if (a.proc.running) throw new Error(`${a.id} is still running`);
    // Every address first (a worker needs its distributor's), then every process at once.
    if (options.freshPort) {
      for (const a of agents) {
        if (a.proxy !== undefined || a.tier === "coordinator" || this.options.fronts?.[a.id] !== undefined)
          throw new Error(`${a.id}: a fresh port is for a worker or distributor its peers reach directly`);
        a.port = await freePort();
        a.url = `http://127.0.0.1:${a.port}`;
        a.peerUrl = a.url;
        setFlag(a.args, "--port", String(a.port));
      }
    }
    for (const a of agents) {
      if (a.tier === "worker" && this.options.fronts?.[a.parent!] === undefined)
        setFlag(a.args, "--distributor", this.agent(a.parent!).peerUrl);
      this.heal("restart", a.id);
    }
    await Promise.all(agents.map((a) => this.launch(a)));
  }

  /** Redis goes down (kill -9 when `hard`, else a clean shutdown) and comes back after `downMs`, from its AOF. */
  async restartRedis(options: { hard?: boolean; downMs?: number } = {}): Promise<void> {
    this.fault(options.hard ? "redis-kill" : "redis-restart", "redis", false);
    await this.redis.restart({ hard: options.hard ?? false, downMs: options.downMs ?? 500 });
    this.heal("restart", "redis");
  }

  /** Drops every client connection to Redis (CLIENT KILL TYPE normal, through redis-cli). */
  async dropRedisConnections(): Promise<number> {
    this.fault("client-kill", "redis", false);
    const { stdout } = await execFileAsync("redis-cli", [
      "-p",
      String(this.redis.port),
      "CLIENT",
      "KILL",
      "TYPE",
      "normal",
    ]);
    return Number(stdout.trim()) || 0;
  }

  // --- the verdict --------------------------------------------------------------------------

  /** Runs the checker over the whole history and the final records of every task in Redis. */
  async check(bounds: Bounds = this.bounds): Promise<CheckResult> {
    const history = this.history();
    const ids = new Set<string>();
    for (const e of history) if (e.task_id !== undefined) ids.add(e.task_id);
    for (const id of await this.ledger.openTaskIds()) ids.add(id);
    const final = new Map<string, FinalRecord | null>();
    const list = [...ids];
    const records = await Promise.all(list.map((id) => this.ledger.get(id)));
    list.forEach((id, i) => {
      const r = records[i];
      final.set(
        id,
        r
          ? {
              status: r.task.status,
              fence: r.fence,
              attempts: r.task.attempts,
              result: r.task.result,
              error: r.task.error,
            }
          : null,
      );
    });
    return checkHistory({ history, final, bounds, endedAt: now() });
  }

  /** The final record of one task, from Redis. */
  finalRecord(taskId: string) {
    return this.ledger.get(taskId);
  }

  /** The last output of every process, for a failure message. */
  outputs(lines = 15): string {
    return [...this.agents.values()]
      .map(
        (a) =>
          `--- ${a.id} (${a.proc.running ? "running" : "exited"}):\n${a.proc.output.trim().split("\n").slice(-lines).join("\n")}`,
      )
      .join("\n");
  }

  /** SIGCONT and SIGKILL to every process of the cluster, synchronously (for process exit). */
  killNow(): void {
    for (const a of this.agents.values()) {
      if (!a.proc?.running) continue;
      a.proc.child.kill("SIGCONT");
      a.proc.child.kill("SIGKILL");
    }
    for (const pid of this.single ? [this.single.pid] : (this.redisCluster?.pids ?? [])) {
      if (pid === undefined) continue;
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }

  /** Kills every process (SIGCONT first, for the paused), closes the proxies, removes Redis and the history. */
  async close(options: { keep?: boolean } = {}): Promise<void> {
    this.closed = true;
    live.delete(this);
    await Promise.all(
      [...this.agents.values()].map(async (a) => {
        await a.proc?.kill();
        await a.proxy?.close();
      }),
    );
    await this.store.disconnect().catch(() => {});
    await (this.single ?? this.redisCluster)?.destroy();
    if (!options.keep && !process.env.CHAOS_KEEP) rmSync(this.dir, { recursive: true, force: true });
    // Kept for a post-mortem: the client's and the nemesis's lines beside the agents'.
    else writeFileSync(join(this.dir, "client.jsonl"), this.own.map((e) => JSON.stringify(e)).join("\n"));
  }
}

/** Sets the value of `flag` in `args` (it is there, followed by its value). */
function setFlag(args: string[], flag: string, value: string): void {
  const at = args.indexOf(flag);
  if (at < 0 || at + 1 >= args.length) throw new Error(`no ${flag} in ${args.join(" ")}`);
  args[at + 1] = value;
}
