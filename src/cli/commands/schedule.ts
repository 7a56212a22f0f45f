import { ApiClient } from "../api-client.js";
import { refuseDuplicateKeys } from "../json-text.js";
import { type ParsedOptions, UsageError } from "../options.js";

type Schedule = {
  schedule_id: string;
  cron?: string;
  every_ms?: number;
  timezone?: string;
  task: { task_type: string };
  next_runs: string[];
  last_tick: string | null;
  recent_task_ids: string[];
};

function jsonFlag(options: ParsedOptions, name: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(String(options[name]));
  } catch {
    throw new UsageError(`--${name} is not JSON`, "ERR_MALFORMED_JSON");
  }
  refuseDuplicateKeys(String(options[name]), `--${name}`);
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new UsageError(`--${name} must be a JSON object`);
  return value as Record<string, unknown>;
}

/** POST /schedules; the API's 422 (naming the field) becomes exit 1 with its reason. */
export async function scheduleAdd(options: ParsedOptions): Promise<number> {
  const body = {
    schedule_id: String(options.id),
    ...(options.cron !== undefined ? { cron: String(options.cron) } : {}),
    ...(options.every !== undefined ? { every_ms: Number(options.every) } : {}),
    ...(options.timezone !== undefined ? { timezone: String(options.timezone) } : {}),
    task: {
      ...jsonFlag(options, "task"),
      task_type: String(options.type),
      payload: jsonFlag(options, "payload"),
    },
  };
  const api = new ApiClient(String(options.coordinator));
  const schedule = await api.request<Schedule>("POST", "/schedules", body);
  process.stdout.write(`${JSON.stringify(schedule)}\n`);
  return 0;
}

/** GET /schedules a page at a time (each answer's next_cursor asks for the next), up to `most`. */
async function allSchedules(api: ApiClient, most = Number.POSITIVE_INFINITY): Promise<Schedule[]> {
  const out: Schedule[] = [];
  let cursor: string | null | undefined;
  do {
    const limit = Math.min(1000, most - out.length);
    const query = `limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const page = await api.request<{ schedules: Schedule[]; next_cursor?: string | null }>(
      "GET",
      `/schedules?${query}`,
    );
    out.push(...page.schedules.slice(0, limit));
    // A coordinator from before pages answered every schedule, without next_cursor.
    cursor = page.next_cursor;
  } while (cursor && out.length < most);
  return out;
}

export async function scheduleList(options: ParsedOptions): Promise<number> {
  const api = new ApiClient(String(options.coordinator));
  const schedules = await allSchedules(api, options.limit === undefined ? undefined : Number(options.limit));
  if (options.json) {
    process.stdout.write(`${JSON.stringify(schedules)}\n`);
    return 0;
  }
  const rows = schedules.map((s) => [
    s.schedule_id,
    s.cron !== undefined ? `cron "${s.cron}"${s.timezone ? ` ${s.timezone}` : ""}` : `every ${s.every_ms} ms`,
    s.task.task_type,
    s.next_runs[0] ?? "-",
    s.last_tick ?? "-",
  ]);
  const head = ["SCHEDULE", "WHEN", "TYPE", "NEXT RUN", "LAST TICK"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const row of [head, ...rows])
    process.stdout.write(
      `${row
        .map((c, i) => c.padEnd(widths[i]!))
        .join("  ")
        .trimEnd()}\n`,
    );
  return 0;
}

export async function scheduleRm(options: ParsedOptions): Promise<number> {
  const api = new ApiClient(String(options.coordinator));
  const id = String(options.id);
  await api.request("DELETE", `/schedules/${encodeURIComponent(id)}`);
  process.stdout.write(`removed schedule ${id}\n`);
  return 0;
}
