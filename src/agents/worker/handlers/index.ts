import type { TaskHandler } from "../task-runner.js";
import { compute } from "./compute.js";
import { dataProcessing } from "./data-processing.js";
import { echo, sleep } from "./echo.js";

/** The task types every worker runs without being told (SPEC: built-in task types). */
export function builtinHandlers(): Record<string, TaskHandler> {
  return {
    compute: (task) => compute(task.payload),
    data_processing: (task) => dataProcessing(task.payload),
    echo: (task) => echo(task.payload),
    generic: (task) => echo(task.payload),
    sleep: (task, ctx) => sleep(task.payload, ctx.signal, ctx.progress),
  };
}
