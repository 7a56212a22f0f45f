import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port.js";
import { reapWithThisProcess } from "./reaper.js";

export type RedisServerOptions = { appendOnly?: boolean; extraArgs?: string[] };

/**
 * A redis-server of the test's own on a free loopback port: start, readiness, stop, restart
 * (same port, same data dir, so AOF data survives) and kill -9. With REDIS_URL set the tests
 * use that server instead and never start, stop or flush anything.
 */
export class RedisServer {
  private process: ChildProcess | undefined;
  private readonly dir: string;
  private stderr = "";

  private constructor(
    readonly port: number,
    private readonly options: RedisServerOptions,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), "triad-redis-"));
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    // Another test file may pick the same free port at the same moment; the loser's server
    // cannot bind it. Try again on another port rather than share (or lose) the winner's.
    for (let attempt = 1; ; attempt++) {
      const server = new RedisServer(await freePort(), options);
      try {
        await server.launch();
        return server;
      } catch (err) {
        await server.destroy();
        if (attempt >= 5) throw err;
      }
    }
  }

  /** A replica of `master` on a free port, once its link to the master is up (synchronised). */
  static async startReplicaOf(master: RedisServer, timeoutMs = 20_000): Promise<RedisServer> {
    const replica = await RedisServer.start({ extraArgs: ["--replicaof", "127.0.0.1", String(master.port)] });
    const deadline = performance.now() + timeoutMs;
    while (!(await infoSection(replica.port, "replication")).includes("master_link_status:up")) {
      if (performance.now() > deadline) {
        await replica.destroy();
        throw new Error(
          `the replica on port ${replica.port} did not link to its master within ${timeoutMs} ms`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return replica;
  }

  private async launch(): Promise<void> {
    const args = [
      "--port",
      String(this.port),
      "--bind",
      "127.0.0.1",
      "--dir",
      this.dir,
      "--save",
      "",
      "--appendonly",
      this.options.appendOnly ? "yes" : "no",
      "--appendfsync",
      "always",
      ...(this.options.extraArgs ?? []),
    ];
    const child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
    reapWithThisProcess(child);
    this.process = child;
    this.stderr = "";
    child.stdout?.on("data", (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    child.stderr?.on("data", (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    const spawnError = new Promise<never>((_, reject) => {
      child.once("error", (err) =>
        reject(
          new Error(`could not start redis-server (is it installed? .ci/run installs it): ${err.message}`),
        ),
      );
      child.once("exit", (code) =>
        reject(new Error(`redis-server exited with ${code} before it was ready:\n${this.stderr}`)),
      );
    });
    await Promise.race([this.waitReady(10_000), spawnError]);
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      const pid = await serverPid(this.port);
      // Ready only when the server answering on the port is the one we started.
      if (pid !== null && pid === this.process?.pid) return;
      if (pid !== null) throw new Error(`port ${this.port} is taken by another redis-server (pid ${pid})`);
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(
      `redis-server on port ${this.port} did not answer PING within ${timeoutMs} ms:\n${this.stderr}`,
    );
  }

  /** SIGTERM and wait for exit (Redis flushes its AOF on the way out). */
  async stop(): Promise<void> {
    await this.signalAndWait("SIGTERM");
  }

  /** SIGKILL: the server dies at once, as in a crash. */
  async kill(): Promise<void> {
    await this.signalAndWait("SIGKILL");
  }

  async restart(options: { downMs?: number; hard?: boolean } = {}): Promise<void> {
    await (options.hard ? this.kill() : this.stop());
    if (options.downMs) await new Promise((r) => setTimeout(r, options.downMs));
    await this.launch();
  }

  /** Starts a stopped or killed server again, on its port with its data dir. */
  async startAgain(): Promise<void> {
    await this.launch();
  }

  /** Stops the server and removes its data dir. */
  async destroy(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async signalAndWait(signal: NodeJS.Signals): Promise<void> {
    const child = this.process;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill(signal);
    await exited;
    this.process = undefined;
  }
}

/** The process id of the redis-server answering on `port`, or null when none answers. */
async function serverPid(port: number): Promise<number | null> {
  const m = /process_id:(\d+)/.exec(await infoSection(port, "server"));
  return m ? Number(m[1]) : null;
}

/** `INFO <section>` of the redis-server on `port`; "" when none answers, or it answers an error (still loading). */
function infoSection(port: number, section: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let reply = "";
    const done = (text: string) => {
      socket.destroy();
      resolve(text);
    };
    socket.setTimeout(500, () => done(""));
    socket.once("error", () => done(""));
    socket.once("connect", () => socket.write(`INFO ${section}\r\n`));
    socket.on("data", (d) => {
      reply += d.toString();
      if (reply.startsWith("-")) return done(""); // loading, or an error: not ready yet
      // A bulk string: $<length>\r\n<text>\r\n (INFO is ASCII: characters are bytes).
      const head = /^\$(\d+)\r\n/.exec(reply);
      if (head && reply.length >= head[0].length + Number(head[1])) done(reply.slice(head[0].length));
    });
  });
}

/** The Redis for a test: REDIS_URL when given, else a server of the test's own. */
export async function testRedis(options: RedisServerOptions = {}): Promise<{
  url: string;
  server: RedisServer | undefined;
  close: () => Promise<void>;
}> {
  const external = process.env.REDIS_URL;
  if (external) return { url: external, server: undefined, close: async () => {} };
  const server = await RedisServer.start(options);
  return { url: server.url, server, close: () => server.destroy() };
}

/** A key prefix no other test uses, so tests can share an external REDIS_URL safely. */
export function uniquePrefix(name: string): string {
  return `test:${name}:${process.pid}:${Math.random().toString(36).slice(2, 8)}:`;
}
