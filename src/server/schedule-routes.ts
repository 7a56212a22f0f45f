import type { IncomingMessage, ServerResponse } from "node:http";
import type { ScheduleView } from "../agents/schedules/schedule-spec.js";
import { TriadError } from "../core/errors.js";
import { readJsonBody, sendError, sendJson } from "./http-util.js";

/** What the schedule routes need from a coordinator. */
export type SchedulesApi = {
  /** Records a schedule (checked: ERR_INVALID_SCHEDULE, 422); `created: false` when it replaced one or was the same. */
  upsert(input: unknown): Promise<{ schedule: ScheduleView; created: boolean }>;
  remove(scheduleId: string): Promise<boolean>;
  get(scheduleId: string): Promise<ScheduleView | null>;
  list(): Promise<ScheduleView[]>;
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
    sendError(res, 404, "ERR_NOT_FOUND", `no schedule ${JSON.stringify(id)}`);
  return {
    "POST /schedules": (async (req, res) => {
      const { schedule, created } = await api.upsert(await readJsonBody(req, maxBodyBytes));
      sendJson(res, created ? 201 : 200, schedule);
    }) as Handler,
    "GET /schedules": (async (_req, res) => {
      sendJson(res, 200, { schedules: await api.list() });
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
