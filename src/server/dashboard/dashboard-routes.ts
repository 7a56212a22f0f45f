import type { IncomingMessage, ServerResponse } from "node:http";
import type { CoordinatorAgent } from "../../agents/index.js";
import { sendError, sendJson, taskIdOf } from "../http-util.js";
import { bearerGuard } from "./bearer.js";
import { LiveFeed } from "./live-feed.js";
import { StaticAssets } from "./static-assets.js";
import { taskView } from "./task-view.js";

export type DashboardRoute = ((req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>) & {
  /** Ends the event streams and stops following the coordinator. */
  close(): void;
};

const TASK_HISTORY = /^\/tasks\/([^/]+)\/history$/;

/**
 * The dashboard on the coordinator's HTTP port, as a route of the HTTP API (tried before the
 * REST routes):
 *   GET /                        the page (and /dashboard/app.js, its modules, app.css, favicon.svg): open
 *   GET /dashboard/config        whether the page must ask for a token                 open
 *   GET /events                  server-sent events: a snapshot, then updates         (token)
 *   GET /dashboard/state         the same snapshot as JSON                            (token)
 *   GET /tasks/:id/history       a task, its history and the messages behind it      (token)
 * The page holds no data, so it loads without the token and then asks for it.
 */
export function dashboardRoutes(coordinator: CoordinatorAgent, options: { apiToken?: string | undefined }) {
  const assets = new StaticAssets();
  const feed = new LiveFeed(coordinator);
  const allowed = bearerGuard(options.apiToken);

  const route = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> => {
    const path = url.pathname;
    const history = TASK_HISTORY.exec(path);
    const ours =
      assets.has(path) ||
      history !== null ||
      ["/events", "/dashboard/state", "/dashboard/config"].includes(path);
    if (!ours) return false;
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("allow", "GET, HEAD");
      sendError(res, 405, "ERR_METHOD_NOT_ALLOWED", `${req.method} is not allowed on ${path}`);
      return true;
    }
    if (assets.has(path)) {
      assets.serve(path, req, res);
      return true;
    }
    if (path === "/dashboard/config") {
      // Lets the page ask for the token before its first request, instead of after a 401.
      sendJson(res, 200, { token_required: Boolean(options.apiToken) }, { "cache-control": "no-store" });
      return true;
    }
    if (!allowed(req, res)) return true;
    if (path === "/events") feed.connect(req, res);
    else if (path === "/dashboard/state")
      sendJson(res, 200, feed.snapshot(), { "cache-control": "no-store" });
    else {
      const id = taskIdOf(history![1]!);
      const view = await taskView(coordinator, id);
      if (view === null) sendError(res, 404, "ERR_NOT_FOUND", `no task ${id}`);
      else sendJson(res, 200, view, { "cache-control": "no-store" });
    }
    return true;
  };
  return Object.assign(route, { close: () => feed.close() }) as DashboardRoute;
}
