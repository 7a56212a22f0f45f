import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";

/** Why a request was refused before any route saw it. */
export type Refusal = { status: number; code: string; message: string };

export type BrowserGuardOptions = {
  /** The address the server is bound to ("127.0.0.1", "0.0.0.0", a name); default loopback only. */
  boundHost?: string | undefined;
  /** With a token set the Host check is off: a page that rebinds a name does not hold the token. */
  tokenSet: boolean;
};

const LOOPBACK_NAMES = new Set(["localhost"]);
const WILDCARDS = new Set(["0.0.0.0", "::", "[::]", ""]);

/**
 * Refuses what a web page could make the operator's browser send: a request whose `Origin` is
 * another site (a cross-site POST /tasks or cancel), and, when no API token is set, one whose
 * `Host` is a name this server was not bound to (DNS rebinding: evil.example made to resolve to
 * 127.0.0.1, so the page becomes "same-origin" with it). Loopback names and IP literals are
 * always fine (no page but this server's own can have them as its origin); a server bound to a
 * wildcard address (0.0.0.0, ::) serves every Host, since it was exposed on purpose and every
 * name of the machine is its own: set TRIAD_API_TOKEN there. Clients other than browsers send
 * no Origin and a Host they were given, so they pass.
 */
export function browserGuard(options: BrowserGuardOptions): (req: IncomingMessage) => Refusal | null {
  const bound = options.boundHost?.toLowerCase();
  const anyHost = bound !== undefined && WILDCARDS.has(bound);
  return (req) => {
    const host = req.headers.host;
    const origin = req.headers.origin;
    if (origin !== undefined) {
      const from = parse(origin);
      if (from === null || host === undefined || from.host !== parse(`http://${host}`)?.host) {
        return {
          status: 403,
          code: "ERR_FOREIGN_ORIGIN",
          message: `requests from another site are refused (Origin ${origin} is not ${host ?? "this server"})`,
        };
      }
    }
    if (options.tokenSet || anyHost || host === undefined) return null;
    const url = parse(`http://${host}`);
    const port = req.socket.localPort;
    if (url !== null && servesName(url, bound) && servesPort(url, port)) return null;
    return { status: 403, code: "ERR_FOREIGN_HOST", message: foreignHost(host, url, bound, port) };
  };
}

/** What is wrong with a refused Host: its form, its name, or its port (a name of ours on another port, or none). */
function foreignHost(
  host: string,
  url: URL | null,
  bound: string | undefined,
  port: number | undefined,
): string {
  const why =
    "without TRIAD_API_TOKEN the Host must name this server's own address and port (DNS-rebinding protection)";
  const listening = port === undefined ? "this server's port" : `port ${port}`;
  const want = port === undefined ? "" : `: send Host ${url?.hostname ?? "localhost"}:${port}`;
  if (url === null) return `Host ${JSON.stringify(host)} is not a host name or address with a port; ${why}`;
  if (!servesName(url, bound)) {
    return (
      `Host ${host} is not this server's address; without TRIAD_API_TOKEN only loopback names, ` +
      "IP addresses and the --host it was bound to are served (set TRIAD_API_TOKEN to serve other names)"
    );
  }
  if (url.port === "" && !/:\d*$/.test(host)) {
    return `Host ${host} has no port, so it names port 80, but this server listens on ${listening}${want}; ${why}`;
  }
  return `Host ${host} names port ${url.port || 80}, but this server listens on ${listening}${want}; ${why}`;
}

/** An origin or `http://<Host header>` as a URL; null when it is not a bare scheme://host[:port]. */
function parse(value: string): URL | null {
  try {
    const url = new URL(value);
    const bare = url.pathname === "/" && !url.username && !url.password && !url.search && !url.hash;
    return bare && !/[/?#@]/.test(value.slice(value.indexOf("//") + 2)) ? url : null;
  } catch {
    return null;
  }
}

function servesName(url: URL, bound: string | undefined): boolean {
  const name = url.hostname;
  const literal = name.startsWith("[") ? name.slice(1, -1) : name;
  return LOOPBACK_NAMES.has(name) || isIP(literal) !== 0 || (bound !== undefined && name === bound);
}

/** A Host without a port names port 80 (RFC 9110 4.2.1), as a browser sends it for that port. */
function servesPort(url: URL, localPort: number | undefined): boolean {
  return Number(url.port || 80) === localPort;
}
