import type { User } from "@a2a-js/sdk/server";
import { UserBuilder } from "@a2a-js/sdk/server/express";
import type { RequestHandler } from "express";
import { bearerTokenCheck } from "../bearer-token.js";
import { bodyDiscarded } from "../http-util.js";

/** Whoever holds the cluster's API token: the one principal a token-protected gateway knows. */
const TOKEN_HOLDER: User = { isAuthenticated: true, userName: "triad-api-token" };

/**
 * The same protection as the REST API: with a token, every request wants
 * `Authorization: Bearer <token>` (compared in constant time) and is refused 401 without it.
 */
export function bearerAuth(token: string | undefined): { guard: RequestHandler; userBuilder: UserBuilder } {
  if (!token) return { guard: (_req, _res, next) => next(), userBuilder: UserBuilder.noAuthentication };
  const matches = bearerTokenCheck(token);
  return {
    guard: (req, res, next) => {
      if (matches(req.headers.authorization)) return next();
      // Answered once the body is read (and thrown away): else the close could reset the 401 away.
      void bodyDiscarded(req).then(() => {
        res.setHeader("www-authenticate", 'Bearer realm="triad"');
        res.status(401).json({
          error: {
            code: "ERR_UNAUTHORIZED",
            message: "the A2A endpoint wants Authorization: Bearer <TRIAD_API_TOKEN>",
          },
        });
      });
    },
    userBuilder: async () => TOKEN_HOLDER,
  };
}
