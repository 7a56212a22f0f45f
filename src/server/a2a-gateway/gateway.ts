import { AsyncLocalStorage } from "node:async_hooks";
import { setMaxListeners } from "node:events";
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { AGENT_CARD_PATH } from "@a2a-js/sdk";
import express, { type NextFunction, type Request, type RequestHandler, type Response } from "express";
import type { CoordinatorAgent } from "../../agents/index.js";
import { routeSdkConsole } from "../../core/a2a-sdk-console.js";
import { type Logger, silentLogger } from "../../core/logger.js";
import { foreignCharset } from "../../core/messaging/http/json-charset.js";
import { bodyDiscarded } from "../http-util.js";
import type { RequestCounter } from "../request-counts.js";
import { buildAgentCard } from "./agent-card.js";
import { agentCardRoute } from "./agent-card-route.js";
import { bearerAuth } from "./bearer-auth.js";
import { BUILTIN_TASK_TYPES, type ClusterTaskTypes, clusterTaskTypes } from "./cluster-task-types.js";
import { FollowingBusManager } from "./following-bus-manager.js";
import { jsonRpcEnvelope } from "./jsonrpc-envelope.js";
import { jsonRpcRoute } from "./jsonrpc-route.js";
import { MessageClaims } from "./message-claims.js";
import { countRequests } from "./request-counting.js";
import { TaskFollower } from "./task-follower.js";
import { TERMINAL_STATES } from "./task-view.js";
import { TriadExecutor } from "./triad-executor.js";
import { TriadRequestHandler } from "./triad-request-handler.js";
import { TriadTaskStore } from "./triad-task-store.js";

/** Where the JSON-RPC binding is served (POST /a2a itself is Triad's own signed messaging). */
export const A2A_JSONRPC_PATH = "/a2a/jsonrpc";
export const A2A_CARD_PATH = `/${AGENT_CARD_PATH}`;
/**
 * After the gateway starts, a message's task type is judged once some worker has reported what
 * it runs and every live worker has (settledTaskTypes: the wait ends as the reports come, not on
 * a clock); this is only its ceiling, for a cluster where no worker ever reports. A loaded
 * machine can take tens of seconds to start the other tiers: a 5 s window ran out first, and a
 * message for a type no worker runs was taken on, to fail when the worker came.
 */
export const A2A_STARTUP_SETTLE_MS = 60_000;
/**
 * While no distributor has ever registered (none in the store, none heard since), the first
 * messages wait this long after the gateway starts for one to register, not the whole
 * A2A_STARTUP_SETTLE_MS: a coordinator with no distributor at all held every message of its
 * first minute for a minute. Once a distributor is known, its workers are waited for; once every
 * distributor known is dead, nobody is.
 */
export const A2A_STARTUP_GRACE_MS = 10_000;

export type A2AGatewayOptions = {
  /** With a token the JSON-RPC endpoint wants `Authorization: Bearer <token>`; the card stays public. */
  apiToken?: string | undefined;
  /** The origin clients reach this server at (behind a proxy); default: the Host the request came to. */
  publicUrl?: string | undefined;
  /** Plain-text messages run as tasks of this type, payload `{ text }` (--a2a-text-type); unset, they are refused. */
  textTaskType?: string | undefined;
  logger?: Logger;
  /** Counts each JSON-RPC request by method, HTTP status and error code (for triad_a2a_requests_total). */
  counts?: RequestCounter<"method" | "status" | "code"> | undefined;
  /** The largest JSON-RPC body taken, bytes (the REST API's, 1 MiB by default). */
  maxBodyBytes?: number | undefined;
  /** The most the first messages wait for the workers' first reports, ms (A2A_STARTUP_SETTLE_MS). */
  startupSettleMs?: number | undefined;
  /** The most the first messages wait for a first distributor to register, ms (A2A_STARTUP_GRACE_MS). */
  startupGraceMs?: number | undefined;
};

/** A route for the coordinator's HTTP API: true when it served the request. */
export type GatewayRoute = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean;

export type A2AGateway = {
  route: GatewayRoute;
  /** New messages are refused from now on; streams and waits in progress end. */
  close(): void;
};

const VERSION = (
  JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string }
).version;
const HOST = /^[\w.-]+(:\d+)?$|^\[[\da-fA-F:.]+\](:\d+)?$/;
const GATEWAY_ERRORS: Record<number, string> = {
  413: "ERR_BODY_TOO_LARGE",
  415: "ERR_UNSUPPORTED_MEDIA_TYPE",
};

/** The JSON-RPC endpoint, with or without a trailing slash (clients built from the card's URL add one). */
function isJsonRpcPath(pathname: string): boolean {
  return pathname === A2A_JSONRPC_PATH || pathname === `${A2A_JSONRPC_PATH}/`;
}

/** JSON-RPC is POSTed as application/json in UTF-8; anything else is refused before it is read (415). */
const jsonOnly: RequestHandler = (req, res, next) => {
  const type = req.headers["content-type"];
  const charset = foreignCharset(type);
  if (req.method !== "POST" || (/^application\/json\s*(;|$)/i.test(type ?? "") && charset === null)) {
    return next();
  }
  const message =
    charset === null
      ? "JSON-RPC requests must be Content-Type: application/json"
      : `JSON-RPC requests must be UTF-8 JSON (got charset ${JSON.stringify(charset)})`;
  // Answered once the body is read (and thrown away): else the close could reset the 415 away.
  void bodyDiscarded(req).then(() =>
    res.status(415).json({ error: { code: "ERR_UNSUPPORTED_MEDIA_TYPE", message } }),
  );
};

/** The 4xx an error from express or its body parser carries (too large, bad charset...); undefined for a fault. */
function clientErrorStatus(err: unknown): number | undefined {
  const status = (err as { status?: unknown } | null)?.status;
  return typeof status === "number" && status >= 400 && status < 500 ? status : undefined;
}

function errorType(err: unknown): string {
  const type = (err as { type?: unknown }).type;
  return typeof type === "string" ? type : "bad request";
}

/**
 * The coordinator as an Agent2Agent (A2A v1.0) server, on the coordinator's own port: the agent
 * card at /.well-known/agent-card.json and the JSON-RPC binding at /a2a/jsonrpc, built from the
 * SDK's DefaultRequestHandler and express handlers over a task store backed by Triad's records.
 */
export function createA2AGateway(coordinator: CoordinatorAgent, options: A2AGatewayOptions = {}): A2AGateway {
  const closing = new AbortController();
  // Every task followed listens for the close; there may be any number of them.
  setMaxListeners(0, closing.signal);
  const accepting = () => !closing.signal.aborted;
  const log = options.logger ?? silentLogger;
  // The SDK's console lines go to this logger while the gateway is open (not into --log-format json's).
  const unrouteSdkConsole = routeSdkConsole(log);
  // The card names the URL the client used to reach it, so it is right on every interface.
  const requestOrigin = new AsyncLocalStorage<string>();

  const startedAt = Date.now();
  const settleUntil = startedAt + (options.startupSettleMs ?? A2A_STARTUP_SETTLE_MS);
  const noDistributorUntil = startedAt + (options.startupGraceMs ?? A2A_STARTUP_GRACE_MS);
  const textTaskType = options.textTaskType || undefined;

  const store = new TriadTaskStore(coordinator, options.apiToken);
  const follower = new TaskFollower({ coordinator, signal: closing.signal, log });
  const claims = new MessageClaims(coordinator);
  const executor = new TriadExecutor({
    coordinator,
    follower,
    tasks: store,
    claims,
    accepting,
    signal: closing.signal,
    settleUntil,
    noDistributorUntil,
    textTaskType,
  });
  const buses = new FollowingBusManager(async (taskId, bus) => {
    const task = await store.load(taskId);
    const state = task?.status?.state;
    if (task === undefined || state === undefined || TERMINAL_STATES.has(state)) return;
    await follower.follow(taskId, task.contextId, bus, state);
  }, accepting);
  const cardOf = ({ types, workersKnown, complete }: ClusterTaskTypes) => {
    const origin = options.publicUrl ?? requestOrigin.getStore() ?? coordinator.url ?? "http://localhost";
    return buildAgentCard({
      jsonRpcUrl: new URL(A2A_JSONRPC_PATH, origin).href,
      coordinatorId: coordinator.agentId,
      version: VERSION,
      taskTypes: workersKnown ? types : [...BUILTIN_TASK_TYPES],
      bearer: Boolean(options.apiToken),
      textTaskType,
      partial: !complete,
    });
  };
  const card = () => cardOf(clusterTaskTypes(coordinator));
  const requestHandler = new TriadRequestHandler(card, store, executor, buses, claims);
  const auth = bearerAuth(options.apiToken);

  const app = express();
  app.disable("x-powered-by");
  app.use(
    A2A_CARD_PATH,
    // Never waits (probes and clients fetch it at any time): a card built before every worker
    // has reported says it is partial and is not to be cached.
    agentCardRoute(async () => {
      const types = clusterTaskTypes(coordinator);
      return { card: cardOf(types), partial: !types.complete };
    }),
  );
  app.use(
    A2A_JSONRPC_PATH,
    ...(options.counts ? [countRequests(options.counts)] : []),
    auth.guard,
    jsonOnly,
    ...jsonRpcEnvelope(options.maxBodyBytes),
    jsonRpcRoute({ requestHandler, userBuilder: auth.userBuilder, log }),
  );
  app.use((req, res) => {
    const allowed = isJsonRpcPath(req.path) ? "POST" : "GET";
    res.setHeader("allow", allowed);
    void bodyDiscarded(req).then(() =>
      res.status(405).json({
        error: {
          code: "ERR_METHOD_NOT_ALLOWED",
          message: `${req.method} is not allowed here; use ${allowed}`,
        },
      }),
    );
  });
  // Instead of express's default error page (HTML, with a stack trace naming the install path).
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = clientErrorStatus(err);
    if (status === undefined) log.error({ err }, "A2A gateway: request failed");
    if (res.headersSent) return void res.destroy();
    const [code, message] =
      status === undefined
        ? ["ERR_INTERNAL", "internal error"]
        : [GATEWAY_ERRORS[status] ?? "ERR_BAD_REQUEST", `the request was refused (${errorType(err)})`];
    res.status(status ?? 500).json({ error: { code, message } });
  });

  return {
    route(req, res, url) {
      if (url.pathname !== A2A_CARD_PATH && !isJsonRpcPath(url.pathname)) return false;
      const host = req.headers.host;
      // A Host the regex takes can still be no URL (a port over 65535): then the card names our own.
      const origin =
        host !== undefined && HOST.test(host) && URL.canParse(`http://${host}`)
          ? `http://${host}`
          : undefined;
      if (origin === undefined) app(req, res);
      else requestOrigin.run(origin, () => app(req, res));
      return true;
    },
    close() {
      closing.abort();
      unrouteSdkConsole();
    },
  };
}
