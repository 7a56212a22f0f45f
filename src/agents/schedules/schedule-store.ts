import type { JsonObject } from "../../core/json.js";
import { canonicalJson } from "../../core/messaging/canonical-json.js";
import type { RedisClient } from "../../core/store/index.js";
import * as scripts from "./schedule-scripts.js";
import { checkSchedule, type ScheduleSpec, type ScheduleView, ticksAfter } from "./schedule-spec.js";

/** Every schedule's keys share one slot: they are few, and the keeper reads them all in one call. */
const TAG = "{schedules}:";
/** Task ids of the latest ticks kept per schedule. */
const RECENT = 10;
/** Next fire times GET /schedules shows. */
const NEXT_RUNS = 5;

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

  /** Records a schedule (checked: ERR_INVALID_SCHEDULE naming the field); the same one again changes nothing. */
  async upsert(
    input: unknown,
    nowMs = Date.now(),
  ): Promise<{ outcome: "created" | "replaced" | "unchanged"; spec: ScheduleSpec }> {
    const spec = checkSchedule(input);
    const next = ticksAfter(spec, nowMs, 1)[0]!;
    const reply = await this.run(scripts.upsertSchedule, [spec.schedule_id, canonicalJson(spec), next]);
    return { outcome: reply === 1 ? "created" : reply === 2 ? "replaced" : "unchanged", spec };
  }

  async remove(scheduleId: string): Promise<boolean> {
    return (await this.run(scripts.removeSchedule, [scheduleId])) === 1;
  }

  async get(scheduleId: string): Promise<ScheduleView | null> {
    return (await this.read([scheduleId]))[0] ?? null;
  }

  list(): Promise<ScheduleView[]> {
    return this.read([]);
  }

  private async read(ids: string[]): Promise<ScheduleView[]> {
    const rows = (await this.run(scripts.readSchedules, ids)) as Array<
      [string, string, string, string, string]
    >;
    return rows
      .map(([, def, next, last, recent]) => {
        const spec = JSON.parse(def) as ScheduleSpec;
        const first = next === "" ? null : Number(next);
        const runs = first === null ? [] : [first, ...ticksAfter(spec, first, NEXT_RUNS - 1)];
        return {
          ...spec,
          next_runs: runs.map((t) => new Date(t).toISOString()),
          last_tick: last === "" ? null : last,
          recent_task_ids: recent === "" ? [] : (JSON.parse(recent) as string[]),
        };
      })
      .sort((a, b) => a.schedule_id.localeCompare(b.schedule_id));
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
