import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { CoordinatorAgent } from "../agents/index.js";
import { TriadError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import { answerClientErrors } from "../core/messaging/http/client-errors.js";
import { continueOnRead } from "../core/messaging/http/expect-continue.js";
import { createA2AGateway } from "./a2a-gateway/index.js";
import { coordinatorApi } from "./coordinator-api.js";
import { dashboardRoutes } from "./dashboard/dashboard-routes.js";
import { createHttpApi } from "./http-api.js";
import { bodyDiscarded } from "./http-util.js";
import { coordinatorMetrics } from "./metrics.js";
import { registerRequestMetrics } from "./request-counts.js";

export type CoordinatorServerOptions = {
  port: number;
  /** Default 127.0.0.1: reachable from this machine only, unless told otherwise. */
  host?: string;
  apiToken?: string | undefined;
  /** Plain-text A2A messages run as tasks of this type (--a2a-text-type). */
  a2aTextType?: string | undefined;
  maxBodyBytes?: number;
  /** The most the first A2A messages wait for the workers' first reports, ms (default 60 s, A2A_STARTUP_SETTLE_MS). */
  a2aStartupSettleMs?: number;
  /** While no distributor has ever registered, how long the first A2A messages wait for one, ms (default 10 s, A2A_STARTUP_GRACE_MS). */
  a2aStartupGraceMs?: number;
  /** Tasks GET /tasks/:id/graph walks at most (default MAX_GRAPH_NODES, 10,000; tests set fewer). */
  graphNodeLimit?: number;
  /** How long another coordinator has to answer for its recent-task window in GET /tasks (default 1000 ms). */
  peerTimeoutMs?: number;
  /** Where the REST API logs its failures and the A2A gateway its refusals (debug) and failures; default: nowhere. */
  logger?: Logger | undefined;
  /** Extra routes tried first (the dashboard, A2A). */
  extra?: Array<(req: IncomingMessage, res: ServerResponse, url: URL) => boolean | Promise<boolean>>;
};

export type RunningServer = { url: string; port: number; server: Server; close(): Promise<void> };

export type CoordinatorHttp = {
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  /**
   * From now on POST /tasks answers 503 and A2A messages are refused: the coordinator is shutting
   * down. What the surface subscribed to on the coordinator (the REST API's, dashboard's,
   * gateway's and metrics' activity listeners) is undone; /metrics still answers, its task
   * histograms no longer observing.
   */
  stopAccepting(): void;
};

/** The coordinator's HTTP surface (REST API, metrics, A2A protocol) as a request handler, to mount on any server. */
export function coordinatorHttp(
  coordinator: CoordinatorAgent,
  options: Omit<CoordinatorServerOptions, "port">,
): CoordinatorHttp {
  const metrics = coordinatorMetrics(coordinator);
  const requests = registerRequestMetrics(metrics);
  const api = coordinatorApi(coordinator, metrics, options.graphNodeLimit, {
    apiToken: options.apiToken,
    peerTimeoutMs: options.peerTimeoutMs,
  });
  // The Agent2Agent protocol (agent card, JSON-RPC) on the same port, protected by the same token.
  const a2a = createA2AGateway(coordinator, {
    apiToken: options.apiToken,
    textTaskType: options.a2aTextType,
    counts: requests.a2a,
    maxBodyBytes: options.maxBodyBytes,
    startupSettleMs: options.a2aStartupSettleMs,
    startupGraceMs: options.a2aStartupGraceMs,
    ...(options.logger && { logger: options.logger.child({ component: "a2a-gateway" }) }),
  });
  // The dashboard (GET /, its live event stream and task pages), behind the same token.
  const dashboard = dashboardRoutes(coordinator, { apiToken: options.apiToken });
  const handle = createHttpApi({
    api,
    apiToken: options.apiToken,
    host: options.host,
    ...(options.maxBodyBytes !== undefined ? { maxBodyBytes: options.maxBodyBytes } : {}),
    extra: [...(options.extra ?? []), a2a.route, dashboard],
    logger: options.logger?.child({ component: "http-api" }),
    counts: requests.rest,
  });
  return {
    handle,
    stopAccepting: () => {
      api.stopAccepting();
      a2a.close();
      dashboard.close();
      metrics.close();
    },
  };
}

/** The coordinator's HTTP surface on a port of its own (triad up; A2A stays in-process). */
export async function startCoordinatorServer(
  coordinator: CoordinatorAgent,
  options: CoordinatorServerOptions,
): Promise<RunningServer> {
  const host = options.host ?? "127.0.0.1";
  const { handle, stopAccepting } = coordinatorHttp(coordinator, { ...options, host });
  // A missing Host is answered by originForm, with a code, not by node with a bare 400.
  const server = createServer({ requireHostHeader: false }, (req, res) => {
    // handle() answers every failure itself; should that answer fail too, only this request ends.
    // No route reads the body of a GET or HEAD: it is thrown away first, or the close after an
    // answer written with it unread could reset the connection and lose the answer.
    const read = req.method === "GET" || req.method === "HEAD" ? bodyDiscarded(req) : Promise.resolve();
    read.then(() => handle(req, res)).catch(() => res.destroy());
  });
  answerClientErrors(server);
  continueOnRead(server);
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) => {
      // What the surface set up is undone (its listeners on the coordinator, the gateway's routing
      // of the SDK's console lines): no close() comes for a server that never listened, and
      // `triad up` runs on without it.
      stopAccepting();
      reject(
        new TriadError("ERR_LISTEN", `cannot listen on ${host}:${options.port}: ${err.message}`, {
          errno: err.code,
        }),
      );
    });
    server.listen(options.port, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  // The other coordinators ask this address for its recent-task window (cluster-wide GET /tasks).
  coordinator.apiUrl = url;
  return {
    url,
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        stopAccepting();
        // No longer published: another process may listen on the port next, and the other
        // coordinators would send it their list requests with the API token. Unless another
        // server of this coordinator published its own since.
        if (coordinator.apiUrl === url) coordinator.apiUrl = null;
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
