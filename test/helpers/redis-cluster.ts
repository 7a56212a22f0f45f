import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createClient } from "redis";
import { freePortWith } from "./free-port.js";
import { reapWithThisProcess } from "./reaper.js";

const run = promisify(execFile);

export type RedisClusterOptions = {
  /** Replicas of each master (`redis-cli --cluster create --cluster-replicas`). Default 0. */
  replicas?: number;
  /** cluster-node-timeout: how long a silent master takes to be failed over. Default 2000 ms. */
  nodeTimeoutMs?: number;
};

/**
 * A Redis Cluster of the test's own on loopback: `masters` redis-servers started with
 * --cluster-enabled on free ports (and `replicas` more per master), joined with
 * `redis-cli --cluster create`, ready once every slot is served and every replica is in sync.
 * The nemesis of a failover: kill(port) a master with -9, waitForPromotion(port) of its
 * replica, restartNode(port) (it rejoins as a replica). With REDIS_CLUSTER_URL set
 * (redis+cluster://host:port,...) the tests use that cluster instead and start nothing.
 */
export class RedisCluster {
  private readonly processes = new Map<number, ChildProcess>();

  private constructor(
    readonly ports: number[],
    private readonly dir: string,
    private readonly options: Required<RedisClusterOptions>,
  ) {}

  /** The Triad URL of the cluster: redis+cluster://127.0.0.1:P1,127.0.0.1:P2,... */
  get url(): string {
    return `redis+cluster://${this.ports.map((p) => `127.0.0.1:${p}`).join(",")}`;
  }

  get pids(): number[] {
    return [...this.processes.values()].map((p) => p.pid!);
  }

  static async start(masters = 3, options: RedisClusterOptions = {}): Promise<RedisCluster> {
    const all = { replicas: options.replicas ?? 0, nodeTimeoutMs: options.nodeTimeoutMs ?? 2000 };
    // Another test may take one of the free ports before its node binds it (six nodes, twelve
    // ports): then start again on other ports rather than fail.
    for (let attempt = 1; ; attempt++) {
      const ports: number[] = [];
      while (ports.length < masters * (1 + all.replicas)) {
        // The cluster bus listens on port + 10000: it must be free too, and out of the ephemeral
        // range, where an outgoing connection could take it before the node binds it.
        const port = await freePortWith(10_000);
        if (port === undefined) throw new Error("no free port pair (port, port + 10000) for a cluster node");
        if (!ports.includes(port)) ports.push(port);
      }
      const cluster = new RedisCluster(ports, mkdtempSync(join(tmpdir(), "triad-cluster-")), all);
      try {
        await cluster.launch();
        return cluster;
      } catch (err) {
        await cluster.destroy();
        if (attempt >= 3) throw err;
      }
    }
  }

  private async launch(): Promise<void> {
    for (const port of this.ports) this.spawnNode(port);
    for (const port of this.ports) await waitFor(() => ping(port), 10_000, `redis-server on port ${port}`);
    await run("redis-cli", [
      "--cluster",
      "create",
      ...this.ports.map((p) => `127.0.0.1:${p}`),
      "--cluster-replicas",
      String(this.options.replicas),
      "--cluster-yes",
    ]);
    // Every node must agree that all slots are served before a client can rely on the map.
    for (const port of this.ports) {
      await waitFor(
        async () => (await cli(port, "CLUSTER", "INFO")).includes("cluster_state:ok"),
        15_000,
        `cluster_state:ok on port ${port}`,
      );
    }
    for (const node of await this.nodes()) {
      if (node.role === "replica") await this.waitInSync(node.port);
    }
  }

  private spawnNode(port: number): void {
    const child = spawn(
      "redis-server",
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        join(this.dir, `nodes-${port}.conf`),
        "--cluster-node-timeout",
        String(this.options.nodeTimeoutMs),
        "--dir",
        this.dir,
        "--dbfilename",
        `dump-${port}.rdb`,
        "--save",
        "",
        "--appendonly",
        "no",
      ],
      { stdio: "ignore" },
    );
    reapWithThisProcess(child);
    this.processes.set(port, child);
    child.once("error", () => {});
  }

  /** Every node as a live node sees the cluster: its port, role, master's id and slot ranges. */
  async nodes(): Promise<ClusterNode[]> {
    let lastError: unknown;
    for (const port of this.ports) {
      if (!this.running(port)) continue;
      try {
        return parseNodes(await cli(port, "CLUSTER", "NODES"));
      } catch (err) {
        lastError = err;
      }
    }
    throw new Error(`no live node answers CLUSTER NODES: ${String(lastError)}`);
  }

  /** Whether the node on `port` is running (not killed by the test). */
  running(port: number): boolean {
    const child = this.processes.get(port);
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /**
   * The replica's port of the master on `masterPort` (the first one, if several), once it is in
   * sync with it. A replica that has not finished its first sync is never promoted: on a loaded
   * machine a node can fail over during launch, its old master rejoining as a replica that is
   * still syncing when a test kills the new master (seen once in CI: the replica stayed
   * "master_link_down_since_seconds:-1, slave_repl_offset:0" and nobody took over).
   */
  async replicaOf(masterPort: number): Promise<number> {
    const nodes = await this.nodes();
    const master = nodes.find((n) => n.port === masterPort);
    const replica = nodes.find((n) => n.masterId === master?.id && !n.failed);
    if (replica === undefined) throw new Error(`the master on port ${masterPort} has no live replica`);
    await this.waitInSync(replica.port);
    return replica.port;
  }

  /**
   * Stops the master on `port` taking writes (CLIENT PAUSE ... WRITE: its clients' writes wait)
   * and waits until every replica has acknowledged its whole replication stream: what it
   * answered before is on its replicas, and nothing is answered after. Redis replicates
   * asynchronously, so without this a master killed under load takes its last acknowledged
   * writes with it. (A WAIT from a connection of the test's own would not do: WAIT counts only
   * the writes of its own connection.) Replicas acknowledge about once a second.
   */
  async quiesce(port: number, timeoutMs = 10_000): Promise<void> {
    await cli(port, "CLIENT", "PAUSE", String(timeoutMs + 5000), "WRITE");
    await waitFor(
      async () => {
        const info = await cli(port, "INFO", "replication");
        const offset = Number(/master_repl_offset:(\d+)/.exec(info)?.[1] ?? -1);
        const acked = [...info.matchAll(/slave\d+:.*offset=(\d+)/g)].map((m) => Number(m[1]));
        return acked.length > 0 && acked.every((a) => a >= offset);
      },
      timeoutMs,
      `the replicas of port ${port} acknowledging its whole stream`,
    );
  }

  /** Runs one command on the node on `port` (through redis-cli) and returns its answer, trimmed. */
  async command(port: number, ...args: string[]): Promise<string> {
    return (await cli(port, ...args)).trim();
  }

  /** kill -9 of the node on `port`: its sockets close at once, its replica takes over after the node timeout. */
  async kill(port: number): Promise<void> {
    const child = this.processes.get(port);
    if (child === undefined || !this.running(port)) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGKILL");
    await exited;
  }

  /**
   * Polls `replicaPort` (ROLE, every `everyMs`) until it says master; resolves with the time
   * it was first seen so (history time: performance.timeOrigin + performance.now()).
   */
  async waitForPromotion(replicaPort: number, timeoutMs = 30_000, everyMs = 20): Promise<number> {
    const client = createClient({ url: `redis://127.0.0.1:${replicaPort}` });
    client.on("error", () => {});
    await client.connect();
    try {
      const deadline = performance.now() + timeoutMs;
      while (performance.now() < deadline) {
        const role = (await client.sendCommand(["ROLE"])) as unknown[];
        if (role[0] === "master") return performance.timeOrigin + performance.now();
        await new Promise((r) => setTimeout(r, everyMs));
      }
      // What the replica thought, for the next reader of a failure.
      const info = await client
        .sendCommand(["INFO", "replication"])
        .then((r) => String(r).replace(/\r\n/g, " "))
        .catch((e: unknown) => String(e));
      const state = await client
        .sendCommand(["CLUSTER", "INFO"])
        .then((r) => String(r).replace(/\r\n/g, " ").slice(0, 400))
        .catch((e: unknown) => String(e));
      throw new Error(
        `the replica on port ${replicaPort} was not promoted within ${timeoutMs} ms (INFO replication: ${info}; CLUSTER INFO: ${state})`,
      );
    } finally {
      client.destroy();
    }
  }

  /** Starts a killed node again from its nodes.conf: it rejoins, as a replica of the one promoted in its place. */
  async restartNode(port: number): Promise<void> {
    if (this.running(port)) throw new Error(`the node on port ${port} is still running`);
    this.spawnNode(port);
    await waitFor(() => ping(port), 10_000, `redis-server on port ${port}`);
    await waitFor(
      async () => (await this.nodes()).some((n) => n.port === port && n.role === "replica" && !n.failed),
      20_000,
      `the node on port ${port} back as a replica`,
    );
    await this.waitInSync(port);
  }

  /** Waits until the replica on `port` has its master link up (synchronised). */
  private async waitInSync(port: number): Promise<void> {
    await waitFor(
      async () => (await cli(port, "INFO", "replication")).includes("master_link_status:up"),
      20_000,
      `the replica on port ${port} in sync with its master`,
    );
  }

  /** The port of the master that serves `key`'s slot. */
  async masterOf(key: string): Promise<number> {
    const live = this.ports.find((p) => this.running(p)) ?? this.ports[0]!;
    const slot = Number((await cli(live, "CLUSTER", "KEYSLOT", key)).trim());
    for (const node of await this.nodes()) {
      if (node.role !== "master" || node.failed) continue;
      for (const range of node.slots) {
        const [from, to] = range.split("-").map(Number);
        if (slot >= from! && slot <= (to ?? from!)) return node.port;
      }
    }
    throw new Error(`no master serves slot ${slot}`);
  }

  /** Stops every node and removes their files. */
  async destroy(): Promise<void> {
    await Promise.all(
      [...this.processes.values()].map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once("exit", () => resolve());
            child.kill("SIGKILL");
          }),
      ),
    );
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export type ClusterNode = {
  id: string;
  port: number;
  role: "master" | "replica";
  /** The id of its master (a replica's), else null. */
  masterId: string | null;
  /** Flagged fail (or pfail) by the node asked. */
  failed: boolean;
  /** Slot ranges it serves, "0-5460". */
  slots: string[];
};

function parseNodes(text: string): ClusterNode[] {
  return text
    .trim()
    .split("\n")
    .map((line) => {
      const [id, address, flags, master, , , , , ...slots] = line.split(" ");
      const flagSet = new Set(flags!.split(","));
      return {
        id: id!,
        port: Number(/:(\d+)@/.exec(address!)?.[1]),
        role: flagSet.has("master") ? "master" : "replica",
        masterId: master === "-" ? null : master!,
        failed: flagSet.has("fail") || flagSet.has("fail?"),
        slots: slots.filter((s) => !s.startsWith("[")),
      };
    });
}

async function cli(port: number, ...args: string[]): Promise<string> {
  return (await run("redis-cli", ["-p", String(port), ...args])).stdout;
}

async function ping(port: number): Promise<boolean> {
  try {
    return (await cli(port, "PING")).trim() === "PONG";
  } catch {
    return false;
  }
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** The cluster for a test: REDIS_CLUSTER_URL when given, else one of the test's own. */
export async function testRedisCluster(): Promise<{
  url: string;
  cluster: RedisCluster | undefined;
  close: () => Promise<void>;
}> {
  const external = process.env.REDIS_CLUSTER_URL;
  if (external) return { url: external, cluster: undefined, close: async () => {} };
  const cluster = await RedisCluster.start();
  return { url: cluster.url, cluster, close: () => cluster.destroy() };
}
