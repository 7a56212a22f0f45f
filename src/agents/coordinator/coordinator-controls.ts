import { TriadError } from "../../core/errors.js";
import type { JsonValue } from "../../core/json.js";
import { checkIdArgument, checkInputOptions, isNonEmptyString } from "../call-arguments.js";
import type { CoordinatorLimits } from "../limits/coordinator-limits.js";
import type { LimitView, TaskTypeLimit } from "../limits/limit-spec.js";
import type { RunState } from "../run-state.js";
import type { CoordinatorSchedules } from "../schedules/coordinator-schedules.js";
import type { ScheduleInput, ScheduleView } from "../schedules/schedule-spec.js";
import type { CoordinatorCore } from "./coordinator-core.js";

export type CoordinatorControlsOptions = {
  /** Writes want the coordinator running (ERR_NOT_RUNNING before initialize() or after cleanup()). */
  runState: RunState;
  limits: CoordinatorLimits;
  schedules: CoordinatorSchedules;
  input: Pick<CoordinatorCore, "provideInput">;
};

/**
 * The coordinator's calls that set what runs and when, beside the tasks themselves: limits,
 * schedules and a waiting task's input (CoordinatorAgent's methods of the same names answer
 * with these). Each checks its arguments and that the coordinator runs, then hands over to its
 * room; a write on a coordinator not running is refused before anything is recorded.
 */
export class CoordinatorControls {
  constructor(private readonly o: CoordinatorControlsOptions) {}

  upsertSchedule(schedule: ScheduleInput): Promise<ScheduleView> {
    return this.o.runState.guard(
      "upsertSchedule",
      async () => (await this.o.schedules.upsert(schedule)).schedule,
    );
  }

  async removeSchedule(scheduleId: string): Promise<boolean> {
    this.o.runState.assertRunning("removeSchedule");
    return this.o.schedules.remove(checkIdArgument("removeSchedule", "scheduleId", scheduleId));
  }

  async getSchedule(scheduleId: string): Promise<ScheduleView | null> {
    return this.o.schedules.get(checkIdArgument("getSchedule", "scheduleId", scheduleId));
  }

  listSchedules(): Promise<ScheduleView[]> {
    return this.o.schedules.list();
  }

  setLimit(taskType: string, limit: TaskTypeLimit): Promise<boolean> {
    return this.o.runState.guard("setLimit", () => this.o.limits.set(taskType, limit));
  }

  async removeLimit(taskType: string): Promise<boolean> {
    this.o.runState.assertRunning("removeLimit");
    return this.o.limits.remove(checkIdArgument("removeLimit", "taskType", taskType));
  }

  listLimits(): Promise<LimitView[]> {
    return this.o.limits.list();
  }

  async provideInput(taskId: string, value: JsonValue, options: { question?: number }): Promise<boolean> {
    this.o.runState.assertRunning("provideInput");
    if (!isNonEmptyString(taskId))
      throw new TriadError("ERR_INVALID_ARGUMENT", "provideInput takes a task id (a non-empty string)");
    return (await this.o.input.provideInput(taskId, value, checkInputOptions(options).question)).given;
  }
}
