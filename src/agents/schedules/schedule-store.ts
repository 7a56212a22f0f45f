import { TriadError } from "../../core/errors.js";
import type { JsonObject } from "../../core/json.js";
import { canonicalJson } from "../../core/messaging/canonical-json.js";
import type { RedisClient } from "../../core/store/index.js";
import * as scripts from "./schedule-scripts.js";
import {
  checkSchedule,
  SCHEDULE_PAGE_BYTES,
  type ScheduleSpec,
  type ScheduleView,
  ticksAfter,
} from "./schedule-spec.js";

/** Every schedule's keys share one slot: the keeper and a page read several in one call. */
const TAG = "{schedules}:";
/** Task ids of the latest ticks kept per schedule. */
const RECENT = 10;
/** Next fire times GET /schedules shows. */
const NEXT_RUNS = 5;
/** Most schedules there may be, unless the coordinator's schedules.maxSchedules says otherwise. */
export const DEFAULT_MAX_SCHEDULES = 10_000;
/** Schedules in a page when no limit is given (GET /schedules' default). */
const DEFAULT_PAGE = 100;

type ScheduleRow = [id: string, def: string, next: string, last: string, recent: string];

/** A page of schedules (GET /schedules): next_cursor, when not null, asks for the next page. */
export type SchedulePage = { schedules: ScheduleView[]; next_cursor: string | null };

function viewOf([, def, next, last, recent]: ScheduleRow): ScheduleView {
  const spec = JSON.parse(def) as ScheduleSpec;
  const first = next === "" ? null : Number(next);
  const runs = first === null ? [] : [first, ...ticksAfter(spec, first, NEXT_RUNS - 1)];
  return {
    ...spec,
    next_runs: runs.map((t) => new Date(t).toISOString()),
    last_tick: last === "" ? null : last,
    recent_task_ids: recent === "" ? [] : (JSON.parse(recent) as string[]),
  };
}

export type DueSchedule = {
  id: string /** as stored, for the compare-and-set */;
  dueRaw: string;
  spec: ScheduleSpec;
};

/**
 * The schedules' records in the store (scripts/ beside this file): one definition per schedule,
 * its next fire time, its last tick and its latest task ids.
 */
export class ScheduleStore {
  constructor(private readonly store: RedisClient) {}

  private get prefix(): string {
    return this.store.key(TAG);
  }

  private run(script: Parameters<RedisClient["runScript"]>[0], args: (string | number)[]) {
    return this.store.runScript(script, [`${TAG}def`], [this.prefix, ...args]);
  }

  /**
   * Records a schedule (checked: ERR_INVALID_SCHEDULE naming the field); the same one again
   * changes nothing. A new id when there are `maxSchedules` already is refused with
   * ERR_TOO_MANY_SCHEDULES (409), atomically with the count; replacing one is not a new one.
   */
  async upsert(
    input: unknown,
    nowMs = Date.now(),
    maxSchedules = DEFAULT_MAX_SCHEDULES,
  ): Promise<{ outcome: "created" | "replaced" | "unchanged"; spec: ScheduleSpec }> {
    const spec = checkSchedule(input);
    const next = ticksAfter(spec, nowMs, 1)[0]!;
    const reply = await this.run(scripts.upsertSchedule, [
      spec.schedule_id,
      canonicalJson(spec),
      next,
      maxSchedules,
    ]);
    if (reply === -1)
      throw new TriadError(
        "ERR_TOO_MANY_SCHEDULES",
        `there are ${maxSchedules} schedules already, the most there may be: remove one first (DELETE /schedules/{schedule_id}), or raise the coordinator's schedules.maxSchedules (triad coordinator --max-schedules)`,
        { status: 409, max: maxSchedules },
      );
    return { outcome: reply === 1 ? "created" : reply === 2 ? "replaced" : "unchanged", spec };
  }

  async remove(scheduleId: string): Promise<boolean> {
    return (await this.run(scripts.removeSchedule, [scheduleId])) === 1;
  }

  async get(scheduleId: string): Promise<ScheduleView | null> {
    const rows = (await this.run(scripts.readSchedules, [scheduleId])) as ScheduleRow[];
    return rows.map(viewOf)[0] ?? null;
  }

  /**
   * One page of the schedules in id order (bytewise), after `cursor` (the `next_cursor` of the
   * page before; none: from the first): at most `limit` schedules and `maxBytes` bytes of their
   * records (default SCHEDULE_PAGE_BYTES; always at least one schedule when one follows), read in
   * one bounded call. `next_cursor` is null on the last page; a schedule that exists throughout
   * is on exactly one page.
   */
  async page(
    options: { limit?: number; cursor?: string | undefined; maxBytes?: number } = {},
  ): Promise<SchedulePage> {
    const limit = options.limit ?? DEFAULT_PAGE;
    const maxBytes = options.maxBytes ?? SCHEDULE_PAGE_BYTES;
    for (const [name, n] of [
      ["limit", limit],
      ["maxBytes", maxBytes],
    ] as const)
      if (!Number.isSafeInteger(n) || n < 1)
        throw new TriadError("ERR_INVALID_ARGUMENT", `page: ${name} must be a positive integer (got ${n})`);
    const [next, rows] = (await this.run(scripts.pageSchedules, [options.cursor ?? "", limit, maxBytes])) as [
      string,
      ScheduleRow[],
    ];
    return { schedules: rows.map(viewOf), next_cursor: next === "" ? null : next };
  }

  /** Every schedule, in id order, read a page at a time (GET /schedules answers one page). */
  async list(): Promise<ScheduleView[]> {
    const out: ScheduleView[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.page({ limit: 1000, cursor });
      out.push(...page.schedules);
      cursor = page.next_cursor ?? undefined;
    } while (cursor !== undefined);
    return out;
  }

  /** The schedules due by the store's clock, its clock, and the earliest fire time ahead (null: none). */
  async due(max: number): Promise<{ nowMs: number; earliestMs: number | null; due: DueSchedule[] }> {
    const [now, earliest, rows] = (await this.run(scripts.dueSchedules, [max])) as [
      number,
      number,
      Array<[string, string, string]>,
    ];
    return {
      nowMs: now,
      earliestMs: earliest < 0 ? null : earliest,
      due: rows.map(([id, dueRaw, def]) => ({ id, dueRaw, spec: JSON.parse(def) as ScheduleSpec })),
    };
  }

  /** Moves a schedule past a fired tick if nobody did first; records the tick's task id. */
  async advance(due: DueSchedule, nextMs: number, taskId: string, tickIso: string): Promise<boolean> {
    const reply = await this.run(scripts.advanceSchedule, [
      due.id,
      due.dueRaw,
      nextMs,
      taskId,
      tickIso,
      RECENT,
    ]);
    return reply === 1;
  }
}

/** The task dict a tick submits. */
export function tickTask(spec: ScheduleSpec, taskId: string): JsonObject {
  return { ...spec.task, task_id: taskId, status: "pending", created_at: new Date().toISOString() };
}
