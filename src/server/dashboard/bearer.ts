import type { IncomingMessage, ServerResponse } from "node:http";
import { bearerTokenCheck } from "../bearer-token.js";
import { sendError } from "../http-util.js";

/**
 * The dashboard's data routes want the same `Authorization: Bearer <TRIAD_API_TOKEN>` as the
 * REST API (the page asks for the token once and sends it; its event stream is read with fetch,
 * so the token never goes into a URL). Answers true when the request may go on; else it has
 * answered 401.
 */
export function bearerGuard(
  apiToken: string | undefined,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const matches = apiToken ? bearerTokenCheck(apiToken) : undefined;
  return (req, res) => {
    if (matches === undefined || matches(req.headers.authorization)) return true;
    res.setHeader("www-authenticate", 'Bearer realm="triad"');
    sendError(res, 401, "ERR_UNAUTHORIZED", "this API wants Authorization: Bearer <TRIAD_API_TOKEN>");
    return false;
  };
}
