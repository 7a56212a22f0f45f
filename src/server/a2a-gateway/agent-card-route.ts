import { createHash } from "node:crypto";
import { type AgentCard, AgentCard as AgentCardJson } from "@a2a-js/sdk";
import type { RequestHandler } from "express";

/** How long a client or proxy may keep a complete card before asking again (with its ETag). */
export const CARD_MAX_AGE_S = 30;

export type CardSnapshot = { card: AgentCard; partial: boolean };

/**
 * GET of the agent card, in the protocol's JSON form, with an ETag (a 304 for a matching
 * If-None-Match). A complete card may be kept CARD_MAX_AGE_S seconds: its skills change only
 * as workers with other task types come and go. A partial one (not every worker has reported
 * yet) is `no-cache`, so nobody keeps it past the moment the rest arrives.
 */
export function agentCardRoute(snapshot: () => Promise<CardSnapshot>): RequestHandler {
  return async (req, res, next) => {
    if (req.method !== "GET" && req.method !== "HEAD") return next();
    try {
      const { card, partial } = await snapshot();
      const body = JSON.stringify(AgentCardJson.toJSON(card));
      res.setHeader("etag", `W/"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`);
      res.setHeader("cache-control", partial ? "no-cache" : `public, max-age=${CARD_MAX_AGE_S}`);
      if (req.fresh) return void res.status(304).end();
      res.type("application/json").send(body);
    } catch (err) {
      next(err);
    }
  };
}
