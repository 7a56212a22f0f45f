import type { IncomingMessage, ServerResponse } from "node:http";
import type { LimitView, TaskTypeLimit } from "../agents/limits/limit-spec.js";
import { TriadError } from "../core/errors.js";
import { readJsonBody, sendError, sendJson, shownId } from "./http-util.js";

/** What the limit routes need from a coordinator. */
export type LimitsApi = {
  /** Sets a type's limit (checked: ERR_INVALID_TYPE_LIMIT, 422); true when it replaced one. */
  set(taskType: string, limit: TaskTypeLimit): Promise<boolean>;
  remove(taskType: string): Promise<boolean>;
  list(): Promise<LimitView[]>;
};

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL, params: string[]) => Promise<void>;

/** A task type named in the path, decoded. */
function taskTypeOf(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new TriadError(
      "ERR_INVALID_TYPE_LIMIT",
      "task_type: the path segment is not valid percent-encoding",
      {
        status: 422,
      },
    );
  }
}

/** PUT/GET/DELETE /limits: per-task-type limits for the whole cluster (src/agents/limits/). */
export function limitHandlers(api: LimitsApi, maxBodyBytes: number) {
  const viewOf = async (taskType: string): Promise<LimitView | undefined> =>
    (await api.list()).find((l) => l.task_type === taskType);
  return {
    "PUT /limits/{task_type}": (async (req, res, _url, [segment]) => {
      const taskType = taskTypeOf(segment!);
      const body = await readJsonBody(req, maxBodyBytes);
      const replaced = await api.set(taskType, body as TaskTypeLimit);
      const view = await viewOf(taskType);
      sendJson(
        res,
        replaced ? 200 : 201,
        view ?? { task_type: taskType, ...(body as object), in_use: 0, waiting: 0 },
      );
    }) as Handler,
    "GET /limits": (async (_req, res) => {
      sendJson(res, 200, { limits: await api.list() });
    }) as Handler,
    "DELETE /limits/{task_type}": (async (_req, res, _url, [segment]) => {
      const taskType = taskTypeOf(segment!);
      if (!(await api.remove(taskType)))
        return sendError(res, 404, "ERR_NOT_FOUND", `no limit on task type ${shownId(taskType)}`);
      sendJson(res, 200, { task_type: taskType, removed: true });
    }) as Handler,
  };
}
