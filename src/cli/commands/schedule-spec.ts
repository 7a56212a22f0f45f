import type { CommandSpec } from "../options.js";
import { coordinatorUrlsFlag as coordinatorFlag } from "./coordinator-flag.js";

const notes = "Environment: TRIAD_API_TOKEN (bearer token, when the coordinator wants one).";

export const scheduleAddSpec: CommandSpec = {
  name: "schedule add",
  summary:
    "Record a recurring schedule (or replace the one of that id): each tick makes one task <id>@<tick>.",
  usage:
    "triad schedule add --coordinator URL --id ID (--cron EXPR [--timezone TZ] | --every MS) --type TYPE [--payload JSON] [--task JSON]",
  flags: [
    coordinatorFlag,
    { name: "id", type: "string", description: "the schedule's id", required: true },
    { name: "cron", type: "string", description: 'five cron fields, e.g. "*/5 * * * *"', env: false },
    {
      name: "timezone",
      type: "string",
      description: "IANA time zone of the cron fields (default UTC)",
      env: false,
    },
    {
      name: "every",
      type: "number",
      description: "a period in ms (1000 to 31622400000: 1 second to 366 days), instead of --cron",
      env: false,
    },
    { name: "type", type: "string", description: "the task type each tick runs", required: true, env: false },
    { name: "payload", type: "string", description: "the task's payload, JSON", default: "{}", env: false },
    {
      name: "task",
      type: "string",
      description: 'other task keys, a JSON object (e.g. {"priority":5})',
      default: "{}",
      env: false,
    },
  ],
  notes: `Prints the schedule as recorded (its next run times). Exits 1 naming the field for a bad one. ${notes}`,
};

export const scheduleListSpec: CommandSpec = {
  name: "schedule list",
  summary:
    "List the recurring schedules: when each runs next and its last tick (with --json, also the ids of its recent tasks).",
  usage: "triad schedule list --coordinator URL [--limit N] [--json]",
  flags: [
    coordinatorFlag,
    {
      name: "limit",
      type: "number",
      integer: true,
      min: 1,
      description: "list at most N schedules (in id order); unset, every one (read a page of 1000 at a time)",
      env: false,
    },
    {
      name: "json",
      type: "boolean",
      description: "print the schedules as JSON, each with recent_task_ids (its latest ticks' tasks)",
      default: false,
    },
  ],
  notes,
};

export const scheduleRmSpec: CommandSpec = {
  name: "schedule rm",
  summary: "Remove a recurring schedule: no tick fires after this.",
  usage: "triad schedule rm --coordinator URL --id ID",
  flags: [coordinatorFlag, { name: "id", type: "string", description: "the schedule's id", required: true }],
  notes: `Exits 1 for an unknown schedule. ${notes}`,
};
