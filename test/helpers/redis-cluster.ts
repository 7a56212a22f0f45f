import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePortWith } from "./free-port.js";

const run = promisify(execFile);

/**
 * A Redis Cluster of the test's own on loopback: `masters` redis-servers started with
 * --cluster-enabled on free ports, joined with `redis-cli --cluster create`, no replicas,
 * ready once every slot is served. With REDIS_CLUSTER_URL set (redis+cluster://host:port,...)
 * the tests use that cluster instead and start nothing.
 */
export class RedisCluster {
  private readonly processes: ChildProcess[] = [];

  private constructor(
    readonly ports: number[],
    private readonly dir: string,
  ) {}

  /** The Triad URL of the cluster: redis+cluster://127.0.0.1:P1,127.0.0.1:P2,... */
  get url(): string {
    return `redis+cluster://${this.ports.map((p) => `127.0.0.1:${p}`).join(",")}`;
  }

  get pids(): number[] {
    return this.processes.map((p) => p.pid!);
  }

  static async start(masters = 3): Promise<RedisCluster> {
    const ports: number[] = [];
    while (ports.length < masters) {
      // The cluster bus listens on port + 10000: it must be free too, and out of the ephemeral
      // range, where an outgoing connection could take it before the node binds it.
      const port = await freePortWith(10_000);
      if (port === undefined) throw new Error("no free port pair (port, port + 10000) for a cluster node");
      if (!ports.includes(port)) ports.push(port);
    }
    const cluster = new RedisCluster(ports, mkdtempSync(join(tmpdir(), "triad-cluster-")));
    try {
      await cluster.launch();
    } catch (err) {
      await cluster.destroy();
      throw err;
    }
    return cluster;
  }

  private async launch(): Promise<void> {
    for (const port of this.ports) {
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
          "2000",
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
      this.processes.push(child);
      child.once("error", () => {});
    }
    for (const port of this.ports) await waitFor(() => ping(port), 10_000, `redis-server on port ${port}`);
    await run("redis-cli", [
      "--cluster",
      "create",
      ...this.ports.map((p) => `127.0.0.1:${p}`),
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
  }

  /** The port of the master that serves `key`'s slot. */
  async masterOf(key: string): Promise<number> {
    const slot = Number((await cli(this.ports[0]!, "CLUSTER", "KEYSLOT", key)).trim());
    const nodes = (await cli(this.ports[0]!, "CLUSTER", "NODES")).trim().split("\n");
    for (const line of nodes) {
      const parts = line.split(" ");
      const port = Number(/:(\d+)@/.exec(parts[1]!)?.[1]);
      for (const range of parts.slice(8)) {
        const [from, to] = range.split("-").map(Number);
        if (slot >= from! && slot <= (to ?? from!)) return port;
      }
    }
    throw new Error(`no master serves slot ${slot}`);
  }

  /** Stops every node and removes their files. */
  async destroy(): Promise<void> {
    await Promise.all(
      this.processes.map(
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
