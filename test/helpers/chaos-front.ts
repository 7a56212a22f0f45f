import { type AddressInfo, connect, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import type { AgentProcess, ChaosCluster } from "./chaos-cluster.js";
import { API_TOKEN, SECRET } from "./chaos-cluster.js";
import { freePort } from "./free-port.js";
import { START_UP_MS, TriadProcess } from "./processes.js";

/**
 * What a deployment with a standby distributor puts in front of it: one address for its
 * workers, routed (like a load balancer's health check) to whichever process under the id
 * answers GET /health 200 — the one holding the lease. A process that answers anything else or
 * nothing (a standby's 503, a frozen process) is not sent new connections; once another takes
 * over, the connections to the old one are cut, so a worker's message stream reconnects to the
 * new holder. The current holder is kept while it answers 200 (a woken process that has not
 * yet seen its lease gone may answer 200 for a moment).
 */
export class HealthFront {
  private readonly candidates: string[] = [];
  private current: string | undefined;
  private readonly open = new Map<Socket, string>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  /** Every switch of target, in order: [ms since epoch, url]. */
  readonly switches: Array<[number, string]> = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<HealthFront> {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const { port } = server.address() as AddressInfo;
    const front = new HealthFront(server, `http://127.0.0.1:${port}`);
    server.on("connection", (client) => front.accept(client));
    front.timer = setInterval(() => void front.poll(), 100);
    return front;
  }

  /** A process under the id, by its own URL. */
  add(url: string): void {
    if (!this.candidates.includes(url)) this.candidates.push(url);
    void this.poll();
  }

  get target(): string | undefined {
    return this.current;
  }

  private accept(client: Socket): void {
    const target = this.current;
    if (target === undefined) {
      client.destroy(); // a refused connection: senders retry
      return;
    }
    const to = new URL(target);
    const upstream = connect(Number(to.port), to.hostname);
    this.open.set(client, target);
    client.pipe(upstream).pipe(client);
    const end = () => {
      this.open.delete(client);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const healthy = await Promise.all(
        this.candidates.map(async (url) => {
          try {
            const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
            await res.arrayBuffer();
            return res.status === 200;
          } catch {
            return false;
          }
        }),
      );
      const ok = this.candidates.filter((_, k) => healthy[k]);
      if (ok.length === 0 || (this.current !== undefined && ok.includes(this.current))) return;
      this.current = ok[0]!;
      this.switches.push([Date.now(), this.current]);
      for (const [socket, target] of this.open) if (target !== this.current) socket.destroy();
    } finally {
      this.polling = false;
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    for (const socket of this.open.keys()) socket.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/**
 * A second `triad distributor` process under `agent`'s id, on a port of its own, recording its
 * history beside the others' (`<id>.standby<n>.jsonl`, read by the checker with the rest).
 * Resolves once it says it is a standby, with the process and its URL.
 */
export async function startStandby(
  cluster: ChaosCluster,
  agent: AgentProcess,
  n = 1,
): Promise<{ proc: TriadProcess; url: string; history: string }> {
  const port = await freePort();
  const args = [...agent.args];
  args[args.indexOf("--port") + 1] = String(port);
  const history = join(cluster.dir, `${agent.id}.standby${n}.jsonl`);
  const proc = new TriadProcess([...args, "--history", history], {
    TRIAD_SECRET: SECRET,
    TRIAD_API_TOKEN: API_TOKEN,
  });
  // Not one of the cluster's agents, and not the caller's yet: one that does not say it is a
  // standby is stopped here (else it ran on, with no one to stop it, once the scenario failed).
  // One the caller holds goes with the test (TriadProcess: the test's end, the test process's).
  try {
    const url = (await proc.waitFor(/standby distributor \S+ (http:\/\/\S+)/, START_UP_MS))[1]!;
    return { proc, url, history };
  } catch (err) {
    await proc.kill();
    throw err;
  }
}
