import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { duplicateOutcome, repeatedIds, withDuplicates } from "../agents/coordinator/submit-outcome.js";
import type { TaskWatch } from "../agents/live/task-changes.js";
import { depthProblem } from "../agents/payload-depth.js";
import { isTriadError, retryAfterOf } from "../core/errors.js";
import { isPlainObject, type JsonObject } from "../core/json.js";
import { type Logger, silentLogger } from "../core/logger.js";
import { originForm } from "../core/messaging/http/request-target.js";
import { bearerTokenCheck } from "./bearer-token.js";
import { browserGuard } from "./browser-guard.js";
import {
  listLimit,
  listScope,
  MAX_LIST_LIMIT,
  newTask,
  TASK_STATUSES,
  taskStatus,
  waitMs,
} from "./http-schemas.js";
import {
  DEFAULT_MAX_BODY_BYTES,
  decimalParam,
  readJsonBody,
  requestUrl,
  sendError,
  sendJson,
  statusOf,
  taskIdOf,
} from "./http-util.js";
import { type InputApi, inputHandlers } from "./input-route.js";
import { type LimitsApi, limitHandlers } from "./limit-routes.js";
import { openApiDocument } from "./openapi.js";
import { repeatedParam } from "./query-params.js";
import type { RequestCounter } from "./request-counts.js";
import { resolveSchedule } from "./schedule-fields.js";
import { type SchedulesApi, scheduleHandlers } from "./schedule-routes.js";
import { submitAnswer } from "./submit-answer.js";
import { streamTaskEvents } from "./task-events.js";

/** What the HTTP API needs from a coordinator. */
export type CoordinatorApi = {
  /** The task as recorded; `created: false` when its id was already (nothing changed then). */
  submit(task: {
    task_id: string;
    task_type: string;
    payload: JsonObject;
  }): Promise<{ task: JsonObject; created: boolean }>;
  /** With waitMs > 0, waits up to that long for the task to finish (long poll). */
  getTask(taskId: string, waitMs: number): Promise<JsonObject | null>;
  /** Task counts for status views. */
  counts(): JsonObject;
  /** The whole cluster's task counts (every coordinator's, kept in the store; as the dashboard shows them). */
  clusterCounts?(): JsonObject;
  /**
   * Open tasks (from the store) then finished ones, newest first. Finished ones come from every
   * live coordinator's window (scope "cluster"), or this one's only (scope "local", a peer's
   * question); `partial` when some coordinator's window could not be read (`unreached` names them).
   */
  listTasks(
    status: string | undefined,
    limit: number,
    scope?: "local" | "cluster",
  ): Promise<{ tasks: JsonObject[]; partial?: true; unreached?: string[] }>;
  /** A whole batch that carries dependencies (a graph): validated as one, refused as one. */
  submitGraph(
    tasks: Array<{ task_id: string; task_type: string; payload: JsonObject }>,
  ): Promise<PromiseSettledResult<{ task: JsonObject; created: boolean }>[]>;
  /** The workflow a task belongs to; null for an unknown task. */
  graph(taskId: string): Promise<JsonObject | null>;
  /**
   * Cancels an open task; null for an unknown one, `canceled: false` for one already finished
   * (whose open spawned tasks are canceled all the same: `below` counts what this call ended).
   */
  cancel(taskId: string): Promise<{ canceled: boolean; task: JsonObject; below?: number } | null>;
  agents(): JsonObject[];
  metrics(): Promise<{ contentType: string; body: string }>;
  /** Per-task-type limits for the whole cluster (src/agents/limits/). */
  limits: LimitsApi;
  /** Recurring schedules (src/agents/schedules/). */
  schedules: SchedulesApi;
  /** Gives input to a task waiting for it (src/agents/input/). */
  provideInput: InputApi["provideInput"];
  /** Follows tasks in the store for GET /tasks/:id/events (src/agents/live/). */
  taskWatch: TaskWatch;
};

export type HttpApiOptions = {
  api: CoordinatorApi;
  /** Bearer token wanted on every route but /metrics and /openapi.json; from TRIAD_API_TOKEN, never argv. */
  apiToken?: string | undefined;
  /** The address the server is bound to: without a token, the Host names it answers (see browserGuard). */
  host?: string | undefined;
  maxBodyBytes?: number;
  /** Most tasks in one POST /tasks. */
  maxBatch?: number;
  /** Other routes mounted on the same port (A2A, dashboard): tried first; true when handled. */
  extra?: Array<(req: IncomingMessage, res: ServerResponse, url: URL) => boolean | Promise<boolean>>;
  /** Where a request that failed (500) is logged, with its error; a refusal (4xx) is only answered. */
  logger?: Logger | undefined;
  /** Counts each request it answers by route and status (for triad_http_requests_total); not those an extra route took. */
  counts?: RequestCounter<"route" | "status"> | undefined;
};

/** Every route of the REST API, as OpenAPI names it; openapi.ts describes each one. */
export const REST_ROUTES = [
  "POST /tasks",
  "GET /tasks",
  "GET /tasks/{task_id}",
  "POST /tasks/{task_id}/cancel",
  "POST /tasks/{task_id}/input",
  "GET /tasks/{task_id}/graph",
  "GET /tasks/{task_id}/events",
  "GET /agents",
  "PUT /limits/{task_type}",
  "GET /limits",
  "DELETE /limits/{task_type}",
  "POST /schedules",
  "GET /schedules",
  "GET /schedules/{schedule_id}",
  "DELETE /schedules/{schedule_id}",
  "GET /metrics",
  "GET /openapi.json",
] as const;
export type RestRoute = (typeof REST_ROUTES)[number];

/** Served without the API token: metrics for scrapers, the API's description for client generators. */
const PUBLIC_ROUTES: ReadonlySet<RestRoute> = new Set(["GET /metrics", "GET /openapi.json"]);

type Route = { key: RestRoute; method: string; pattern: RegExp; public: boolean };
type Handler = (req: IncomingMessage, res: ServerResponse, url: URL, params: string[]) => Promise<void>;

/** The route table: a path template's `{name}` matches one path segment, handed to the handler. */
/** GET /tasks's query parameters, each taking one value, with the code that refuses a bad one. */
const LIST_PARAMS = { status: "ERR_INVALID_STATUS", limit: "ERR_INVALID_LIMIT", scope: "ERR_INVALID_SCOPE" };

const ROUTES: Route[] = REST_ROUTES.map((key) => {
  const [method, path] = key.split(" ") as [string, string];
  const pattern = new RegExp(`^${path.replace(/\./g, "\\.").replace(/\{[a-z_]+\}/g, "([^/]+)")}$`);
  return { key, method, pattern, public: PUBLIC_ROUTES.has(key) };
});

/** The coordinator's REST surface: tasks in and out, agents, metrics, and its OpenAPI document. */
export function createHttpApi(options: HttpApiOptions) {
  const limit = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const log = options.logger ?? silentLogger;
  const failed = (req: IncomingMessage, res: ServerResponse, err: unknown): void => {
    log.error({ err, method: req.method, path: requestUrl(req.url)?.pathname }, "HTTP API: request failed");
    sendError(res, 500, "ERR_INTERNAL", "internal error");
  };
  const maxBatch = options.maxBatch ?? 10_000;
  const token = options.apiToken ? bearerTokenCheck(options.apiToken) : undefined;
  let described: string | undefined;

  const authorized = (req: IncomingMessage): boolean => {
    return token === undefined || token(req.headers.authorization);
  };

  const guard = browserGuard({ boundHost: options.host, tokenSet: token !== undefined });

  const handlers: Record<RestRoute, Handler> = {
    "POST /tasks": (req, res) => postTasks(req, res),
    "GET /tasks": async (_req, res, url) => {
      const repeated = repeatedParam(url, LIST_PARAMS);
      if (repeated !== null) return sendError(res, 400, repeated.code, repeated.message);
      const raw = url.searchParams.get("status");
      const status = raw === null ? undefined : taskStatus.safeParse(raw);
      if (status !== undefined && !status.success) {
        return sendError(
          res,
          400,
          "ERR_INVALID_STATUS",
          `status must be one of ${TASK_STATUSES.join(", ")} (got ${JSON.stringify(raw)})`,
        );
      }
      const rawLimit = url.searchParams.get("limit");
      const lim = listLimit.safeParse(decimalParam(rawLimit) ?? 100);
      if (!lim.success) {
        return sendError(
          res,
          400,
          "ERR_INVALID_LIMIT",
          `limit must be a positive integer (got ${JSON.stringify(rawLimit)})`,
        );
      }
      const rawScope = url.searchParams.get("scope");
      const scope = rawScope === null ? undefined : listScope.safeParse(rawScope);
      if (scope !== undefined && !scope.success) {
        return sendError(
          res,
          400,
          "ERR_INVALID_SCOPE",
          `scope must be local or cluster (got ${JSON.stringify(rawScope)})`,
        );
      }
      const list = await options.api.listTasks(
        status?.data,
        Math.min(lim.data, MAX_LIST_LIMIT),
        scope?.data ?? "cluster",
      );
      sendJson(res, 200, list);
    },
    "GET /tasks/{task_id}": async (_req, res, url, [segment]) => {
      const repeated = repeatedParam(url, { wait: "ERR_INVALID_WAIT" });
      if (repeated !== null) return sendError(res, 400, repeated.code, repeated.message);
      const rawWait = url.searchParams.get("wait");
      const wait = waitMs.safeParse(decimalParam(rawWait, true) ?? 0);
      if (!wait.success) {
        return sendError(
          res,
          400,
          "ERR_INVALID_WAIT",
          `wait must be milliseconds in 0..300000, in decimal digits (got ${JSON.stringify(rawWait)})`,
        );
      }
      const taskId = taskIdOf(segment!);
      const task = await untilGone(res, options.api.getTask(taskId, wait.data));
      if (task === GONE) return; // the client went away: its long poll holds nothing until its end
      if (task === null) return sendError(res, 404, "ERR_NOT_FOUND", `no task ${taskId}`);
      sendJson(res, 200, task);
    },
    "POST /tasks/{task_id}/cancel": async (_req, res, _url, [segment]) => {
      const taskId = taskIdOf(segment!);
      const outcome = await options.api.cancel(taskId);
      if (outcome === null) return sendError(res, 404, "ERR_NOT_FOUND", `no task ${taskId}`);
      if (!outcome.canceled) {
        const below = outcome.below ?? 0;
        // The cancel still reached the open tasks it spawned (and theirs): say so, it is not "nothing".
        const but =
          below === 0
            ? ""
            : `, but ${below} open task${below === 1 ? "" : "s"} it spawned (or below them) ${below === 1 ? "was" : "were"}`;
        return sendError(
          res,
          409,
          "ERR_TASK_FINISHED",
          `task ${taskId} is already ${String(outcome.task.status)}; it was not canceled${but}`,
        );
      }
      sendJson(res, 200, outcome.task);
    },
    "GET /tasks/{task_id}/graph": async (_req, res, _url, [segment]) => {
      const taskId = taskIdOf(segment!);
      const graph = await options.api.graph(taskId);
      if (graph === null) return sendError(res, 404, "ERR_NOT_FOUND", `no task ${taskId}`);
      sendJson(res, 200, graph);
    },
    "GET /tasks/{task_id}/events": (req, res, _url, [segment]) =>
      streamTaskEvents(req, res, options.api.taskWatch, taskIdOf(segment!)),
    ...limitHandlers(options.api.limits, limit),
    ...scheduleHandlers(options.api.schedules, limit),
    ...inputHandlers(options.api, limit),
    "GET /agents": async (_req, res) => {
      const cluster = options.api.clusterCounts?.();
      sendJson(res, 200, {
        agents: options.api.agents(),
        tasks: options.api.counts(),
        ...(cluster === undefined ? {} : { cluster_tasks: cluster }),
      });
    },
    "GET /metrics": async (_req, res) => {
      const m = await options.api.metrics();
      res.writeHead(200, { "content-type": m.contentType });
      res.end(m.body);
    },
    "GET /openapi.json": async (_req, res) => {
      described ??= JSON.stringify(openApiDocument({ maxBatch, maxBodyBytes: limit }));
      res.writeHead(200, {
        "content-type": "application/json; charset=utf-8",
        "content-length": Buffer.byteLength(described),
      });
      res.end(described);
    },
  };

  /** Never rejects: whatever goes wrong is this request's answer, never the process's end. */
  return function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    return serve(req, res).catch((err: unknown) => {
      if (!res.headersSent) failed(req, res, err);
      else res.destroy();
    });
  };

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader("x-content-type-options", "nosniff");
    // The route the request is counted under; null once another surface (A2A, dashboard) took it.
    let counted: string | null = "other";
    try {
      const targetProblem = originForm(req);
      if (targetProblem !== null) return sendError(res, 400, "ERR_BAD_REQUEST", targetProblem);
      const url = requestUrl(req.url);
      if (url === null) {
        return sendError(res, 400, "ERR_BAD_REQUEST", "the request target is not a valid URL path");
      }
      const refusal = guard(req);
      if (refusal !== null) return sendError(res, refusal.status, refusal.code, refusal.message);
      for (const extra of options.extra ?? []) {
        if (await extra(req, res, url)) {
          counted = null;
          return;
        }
      }
      const onPath = ROUTES.filter((r) => r.pattern.test(url.pathname));
      // HEAD is GET without the body (RFC 9110 9.3.2: node leaves the body out by itself).
      const method = req.method === "HEAD" ? "GET" : req.method;
      const route = onPath.find((r) => r.method === method);
      if (route !== undefined) counted = route.key;
      if (route?.public) return await handlers[route.key](req, res, url, params(route, url));
      if (!authorized(req)) {
        res.setHeader("www-authenticate", 'Bearer realm="triad"');
        return sendError(
          res,
          401,
          "ERR_UNAUTHORIZED",
          "this API wants Authorization: Bearer <TRIAD_API_TOKEN>",
        );
      }
      if (route !== undefined) return await handlers[route.key](req, res, url, params(route, url));
      if (onPath.length > 0) {
        const allowed = new Set(onPath.flatMap((r) => (r.method === "GET" ? ["GET", "HEAD"] : [r.method])));
        res.setHeader("allow", [...allowed].join(", "));
        return sendError(
          res,
          405,
          "ERR_METHOD_NOT_ALLOWED",
          `${req.method} is not allowed on ${url.pathname}`,
        );
      }
      return sendError(res, 404, "ERR_NOT_FOUND", `no route ${req.method} ${url.pathname}`);
    } catch (err) {
      if (res.headersSent) return void res.end();
      if (isTriadError(err)) {
        // A store that cannot answer now is 503 with Retry-After: the same request may succeed later.
        const after = retryAfterOf(err);
        const body = { error: { code: err.code, message: err.message } };
        const headers: Record<string, string> = after === undefined ? {} : { "retry-after": String(after) };
        return sendJson(res, statusOf(err, 400), body, headers);
      }
      return failed(req, res, err);
    } finally {
      if (counted !== null) options.counts?.inc({ route: counted, status: String(res.statusCode) });
    }
  }

  async function postTasks(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJsonBody(req, limit);
    const many = Array.isArray(body);
    const items = many ? body : [body];
    if (items.length === 0) return sendError(res, 422, "ERR_INVALID_TASK", "the array of tasks is empty");
    if (items.length > maxBatch)
      return sendError(res, 413, "ERR_BATCH_TOO_LARGE", `at most ${maxBatch} tasks per request`);
    const tasks = [];
    for (const [i, item] of items.entries()) {
      const tooDeep = payloadTooDeep(item, many ? `[${i}].payload` : "payload");
      if (tooDeep !== null) return sendError(res, 422, "ERR_INVALID_TASK", tooDeep);
      const parsed = newTask.safeParse(item);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        const where = [...(many ? [`[${i}]`] : []), ...issue.path.map(String)].join(".") || "task";
        return sendError(res, 422, "ERR_INVALID_TASK", `${where}: ${issue.message}`);
      }
      const scheduled = resolveSchedule(parsed.data);
      if ("problem" in scheduled) {
        const where = [...(many ? [`[${i}]`] : []), scheduled.field].join(".");
        return sendError(res, 422, "ERR_INVALID_TASK", `${where}: ${scheduled.problem}`);
      }
      tasks.push({ ...scheduled.task, task_id: parsed.data.task_id ?? randomUUID() });
    }
    // A later task with an earlier one's id is not submitted: it is answered as a duplicate.
    const ids = tasks.map((t) => t.task_id);
    const repeated = repeatedIds(ids);
    const firsts = repeated.size === 0 ? tasks : tasks.filter((_, i) => !repeated.has(i));
    // A batch with dependencies is one graph: refused whole if invalid, recorded together.
    const settled = firsts.some((t) => t.depends_on !== undefined)
      ? await options.api.submitGraph(firsts)
      : await Promise.allSettled(firsts.map((t) => options.api.submit(t)));
    const answer = submitAnswer(ids, withDuplicates(ids, repeated, settled, duplicateAnswer), many);
    sendJson(res, answer.status, answer.body, answer.headers);
  }
}

const GONE = Symbol("client gone");

/**
 * `pending`, or GONE as soon as the client closes the connection: a long poll (`?wait=` up to
 * 5 min) whose client left held its request and answer until the wait ran out.
 */
function untilGone<T>(res: ServerResponse, pending: Promise<T>): Promise<T | typeof GONE> {
  if (res.destroyed) return Promise.resolve(GONE);
  let onClose = () => {};
  const gone = new Promise<typeof GONE>((resolve) => {
    onClose = () => resolve(GONE);
    res.once("close", onClose);
  });
  return Promise.race([pending, gone]).finally(() => res.off("close", onClose));
}

/** A duplicate's answer among the settled submits: `{ task_id, error }`, nothing created. */
function duplicateAnswer(
  taskId: string,
  first: number,
): PromiseFulfilledResult<{ task: JsonObject; created: boolean }> {
  return { status: "fulfilled", value: { task: duplicateOutcome(taskId, first), created: false } };
}

/** The path parameters of a route's template, in order (still percent-encoded). */
function params(route: Route, url: URL): string[] {
  return route.pattern.exec(url.pathname)!.slice(1);
}

/** Checked before the schema (whose walk recurses): why the item's payload is too deep to run, naming the task. */
function payloadTooDeep(item: unknown, where: string): string | null {
  if (!isPlainObject(item)) return null;
  const problem = depthProblem(item.payload, where);
  if (problem === null) return null;
  return typeof item.task_id === "string" ? `${problem} (task ${JSON.stringify(item.task_id)})` : problem;
}
