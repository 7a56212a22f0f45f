import type { IncomingMessage, ServerResponse } from "node:http";
import type { UpstreamJoin } from "../agents/upstream-join.js";
import type { Logger } from "../core/logger.js";
import { startA2AServer } from "../core/messaging/http/server.js";
import { sendJson } from "../server/http-util.js";

/** The A2A listener's default body limit: a body past 16 times it is not read before the answer. */
const MAX_BODY_BYTES = 1024 * 1024;

/** What `GET /health` on a worker's or distributor's port answers. */
export type TierHealth = {
  agent_id: string;
  tier: string;
  /**
   * "waiting_for_upstream": up, its distributor (coordinator) not answering yet, or not yet
   * taking it in; "upstream_refused": it answers but refuses this agent's messages (another
   * secret); "ready": joined, its registration accepted; "standby": a second distributor
   * process under a live one's id, waiting for its lease (it sends nothing under the id).
   */
  status: "waiting_for_upstream" | "upstream_refused" | "ready" | "standby";
  ready: boolean;
  /** While refused: why, e.g. "upstream_refused: bad_signature". */
  reason?: string;
  /** The URL(s) of the agent it reports to. */
  upstream: string;
};

/**
 * `GET /health` (and HEAD): 200 with the health when ready, 503 while waiting. Any other path is
 * a 404 with a code, as on the A2A listener.
 */
export function healthRoute(health: () => TierHealth): (req: IncomingMessage, res: ServerResponse) => void {
  // Nothing here reads a body: sendJson reads it and throws it away before the answer, or the
  // connection's close after it could reset it and lose the answer (a 1 MB POST to /nowhere got
  // no 404). A HEAD's answer carries no body (node:http drops it) and the GET's length.
  return (req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path !== "/health" || (req.method !== "GET" && req.method !== "HEAD")) {
      const error = {
        code: "ERR_NOT_FOUND",
        message: `no route ${req.method} ${path} (GET /health, POST /a2a)`,
      };
      return sendJson(res, 404, { error }, HEALTH_HEADERS);
    }
    const body = health();
    sendJson(res, body.ready ? 200 : 503, body, HEALTH_HEADERS);
  };
}

/** A probe's answer is never stored by a cache on the way. */
const HEALTH_HEADERS = { "content-type": "application/json", "cache-control": "no-store" };

/**
 * The health of an agent past finding its upstream: ready once the upstream accepted its
 * registration (a message of ours), 503 `upstream_refused` with the reason while it refuses
 * them, 503 `waiting_for_upstream` until then.
 */
export function joinHealth(
  tier: string,
  id: string,
  upstream: string,
  join: UpstreamJoin,
  standby = false,
): TierHealth {
  if (standby) return { agent_id: id, tier, status: "standby", ready: false, upstream };
  const { status, reason } = join.state;
  if (status === "joined") return { agent_id: id, tier, status: "ready", ready: true, upstream };
  if (status === "refused")
    return {
      agent_id: id,
      tier,
      status: "upstream_refused",
      ready: false,
      upstream,
      reason: `upstream_refused: ${reason}`,
    };
  return { agent_id: id, tier, status: "waiting_for_upstream", ready: false, upstream };
}

/**
 * Runs `wait` (finding the upstream agent: a worker's distributor, a distributor's coordinator)
 * with the agent's port already open, so a process started before its upstream can be probed:
 * `GET /health` answers 503 `waiting_for_upstream`, `GET /a2a` the agent id, and a message is
 * refused as busy (503, which senders retry). Once `wait` resolves the port is closed and handed
 * to the agent, which opens it at once. A port already taken fails now (ERR_A2A_LISTEN), not once
 * the upstream answers. SIGTERM / SIGINT meanwhile: the process exits 0 (nothing taken yet).
 * Port 0 (any free port): the agent's port is not known before it listens; nothing is opened.
 */
export async function whileWaitingForUpstream<T>(
  o: { tier: string; id: string; host: string; port: number; upstream: string; log: Logger },
  wait: () => Promise<T>,
): Promise<T> {
  if (o.port === 0) return wait();
  const server = await startA2AServer({
    agentId: o.id,
    host: o.host,
    port: o.port,
    maxBodyBytes: MAX_BODY_BYTES,
    now: () => Date.now(),
    accept: () => "busy",
    refuse: () => {},
    served: () => {},
    fallback: healthRoute(() => ({
      agent_id: o.id,
      tier: o.tier,
      status: "waiting_for_upstream",
      ready: false,
      upstream: o.upstream,
    })),
  });
  o.log.info({ url: server.url, upstream: o.upstream }, `${o.tier} listening, waiting for its upstream`);
  const stop = (signal: NodeJS.Signals) => {
    o.log.info(`${signal} while waiting for the upstream: exiting`);
    void server.close().finally(() => process.exit(0));
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  try {
    return await wait();
  } finally {
    process.off("SIGTERM", stop);
    process.off("SIGINT", stop);
    await server.close();
  }
}
