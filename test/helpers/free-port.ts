import { readFileSync } from "node:fs";
import { createServer } from "node:net";

/**
 * A TCP port on 127.0.0.1 that nothing listens on right now, chosen below the kernel's
 * ephemeral range. A port from that range (what listen(0) hands out) can be taken, once its
 * listener is gone, as the local port of any outgoing connection — a Redis client's, an HTTP
 * keep-alive's — so a process killed and restarted on "its" port would find it in use. Below the
 * range only another listener can take it, and the choice is random over some 20,000 ports.
 */
export async function freePort(): Promise<number> {
  return (await freePortWith(0)) ?? listenOnAny();
}

/**
 * A free port whose companion `port + offset` is free too and, like it, below the ephemeral
 * range (Redis Cluster's bus listens on port + 10000); undefined when none was found.
 */
export async function freePortWith(offset: number): Promise<number | undefined> {
  const from = 10_000;
  const to = Math.max(from + 1000, EPHEMERAL_START - offset) - 1;
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = from + Math.floor(Math.random() * (to - from + 1));
    if (handedOut.has(port) || handedOut.has(port + offset)) continue;
    if ((await canListen(port)) && (offset === 0 || (await canListen(port + offset)))) {
      handedOut.add(port).add(port + offset);
      return port;
    }
  }
  return undefined;
}

/**
 * Ports this process handed out, never handed out again: a port is free when chosen, not when
 * its listener binds it, so a cluster planned port by port before any process starts (the chaos
 * suite's) once gave a coordinator and a distributor the same one (EADDRINUSE at launch).
 */
const handedOut = new Set<number>();

/** Where the kernel's range of local ports for outgoing connections starts (Linux; the IANA range elsewhere). */
function ephemeralRangeStart(): number {
  try {
    const low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    if (Number.isInteger(low)) return low;
  } catch {
    // not Linux
  }
  return 49152;
}

const EPHEMERAL_START = ephemeralRangeStart();

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

function listenOnAny(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      handedOut.add(port);
      server.close(() => resolve(port));
    });
  });
}
