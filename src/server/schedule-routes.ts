import type { IncomingMessage, ServerResponse } from "node:http";
import { type ScheduleView, scheduleId } from "../agents/schedules/schedule-spec.js";
import type { SchedulePage } from "../agents/schedules/schedule-store.js";
import { TriadError } from "../core/errors.js";
import { listLimit, MAX_LIST_LIMIT } from "./http-schemas.js";
import { decimalParam, readJsonBody, sendError, sendJson, shownId } from "./http-util.js";
import { repeatedParam } from "./query-params.js";

/** GET /schedules's query parameters, each taking one value, with the code that refuses a bad one. */
const PAGE_PARAMS = { limit: "ERR_INVALID_LIMIT", cursor: "ERR_INVALID_CURSOR" };
/** Schedules in a page of GET /schedules when no limit is given. */
export const DEFAULT_SCHEDULE_PAGE = 100;

/** What the schedule routes need from a coordinator. */
export type SchedulesApi = {
  /** Records a schedule (checked: ERR_INVALID_SCHEDULE, 422); `created: false` when it replaced one or was the same. */
  upsert(input: unknown): Promise<{ schedule: ScheduleView; created: boolean }>;
  remove(scheduleId: string): Promise<boolean>;
  get(scheduleId: string): Promise<ScheduleView | null>;
  /** One page in id order, after `cursor` (the page before's next_cursor); next_cursor null on the last. */
  list(page: { limit: number; cursor?: string | undefined }): Promise<SchedulePage>;
};

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL, params: string[]) => Promise<void>;

function scheduleIdOf(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new TriadError(
      "ERR_INVALID_SCHEDULE",
      "schedule_id: the path segment is not valid percent-encoding",
      {
        status: 422,
      },
    );
  }
}

/** POST/GET/DELETE /schedules: recurring schedules, each tick one task (src/agents/schedules/). */
export function scheduleHandlers(api: SchedulesApi, maxBodyBytes: number) {
  const notFound = (res: ServerResponse, id: string) =>
    sendError(res, 404, "ERR_NOT_FOUND", `no schedule ${shownId(id)}`);
  return {
    "POST /schedules": (async (req, res) => {
      const { schedule, created } = await api.upsert(await readJsonBody(req, maxBodyBytes));
      sendJson(res, created ? 201 : 200, schedule);
    }) as Handler,
    "GET /schedules": (async (_req, res, url) => {
      const repeated = repeatedParam(url, PAGE_PARAMS);
      if (repeated !== null) return sendError(res, 400, repeated.code, repeated.message);
      const rawLimit = url.searchParams.get("limit");
      const lim = listLimit.safeParse(decimalParam(rawLimit) ?? DEFAULT_SCHEDULE_PAGE);
      if (!lim.success)
        return sendError(
          res,
          400,
          "ERR_INVALID_LIMIT",
          `limit must be a positive integer (got ${JSON.stringify(rawLimit)})`,
        );
      // A cursor is the last schedule id of the page before: anything else names no place in the list.
      const cursor = url.searchParams.get("cursor") ?? undefined;
      if (cursor !== undefined && !scheduleId.safeParse(cursor).success)
        return sendError(
          res,
          400,
          "ERR_INVALID_CURSOR",
          `cursor must be the next_cursor of a page before (a schedule id; got ${JSON.stringify(cursor)})`,
        );
      sendJson(res, 200, await api.list({ limit: Math.min(lim.data, MAX_LIST_LIMIT), cursor }));
    }) as Handler,
    "GET /schedules/{schedule_id}": (async (_req, res, _url, [segment]) => {
      const id = scheduleIdOf(segment!);
      const schedule = await api.get(id);
      if (schedule === null) return notFound(res, id);
      sendJson(res, 200, schedule);
    }) as Handler,
    "DELETE /schedules/{schedule_id}": (async (_req, res, _url, [segment]) => {
      const id = scheduleIdOf(segment!);
      if (!(await api.remove(id))) return notFound(res, id);
      sendJson(res, 200, { schedule_id: id, removed: true });
    }) as Handler,
  };
}
