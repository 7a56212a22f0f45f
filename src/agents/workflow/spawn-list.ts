import { TriadError } from "../../core/errors.js";
import type { JsonObject } from "../../core/json.js";
import { Task } from "../../core/state/task.js";
import { shownTaskId, taskIdProblem } from "../../core/state/task-id.js";
import { taskTypeProblem } from "../../core/state/task-type.js";
import { notWellFormed } from "../../core/state/well-formed.js";
import { checkPayloadDepth } from "../payload-depth.js";
import type { TaskDict } from "../protocol.js";
import { checkDepth, checkOwnList, findCycle, MAX_GRAPH_TASKS } from "./graph-validation.js";

/** What a handler passes to ctx.spawn: a Task, or a task dict (task_id optional). */
export type SpawnInput = Task | (Partial<TaskDict> & { task_type: string; payload?: JsonObject });

/**
 * The tasks one attempt spawns (ctx.spawn). Nothing is recorded here: the list rides on the
 * attempt's outcome and the commit script writes it with the attempt's own fenced step, so a
 * refused or failed attempt spawns nothing. Default ids are `<parent>.<n>`, counted over the
 * attempt, so a retry that spawns the same way spawns the same ids (recorded once).
 */
export class SpawnList {
  private readonly tasks: TaskDict[] = [];
  private readonly ids = new Set<string>();

  constructor(private readonly parentId: string) {}

  /** Checks and adds `inputs`; their ids, in order. Throws ERR_INVALID_TASK, adding nothing. */
  add(inputs: SpawnInput[]): string[] {
    if (!Array.isArray(inputs)) throw invalid("ctx.spawn takes an array of tasks");
    if (this.tasks.length + inputs.length > MAX_GRAPH_TASKS) {
      throw invalid(`an attempt spawns at most ${MAX_GRAPH_TASKS} tasks`);
    }
    const added: TaskDict[] = [];
    const ids = new Set(this.ids);
    inputs.forEach((input, i) => {
      const dict = this.child(input, this.tasks.length + i + 1);
      if (ids.has(dict.task_id))
        throw invalid(`spawned task id ${JSON.stringify(dict.task_id)} is used twice`);
      ids.add(dict.task_id);
      added.push(dict);
    });
    const outside = new Set<string>();
    for (const dict of added) checkOwnList(dict, ids, outside);
    if (outside.has(this.parentId)) {
      throw invalid(
        `a spawned task cannot depend on its parent ${JSON.stringify(this.parentId)}: it has not ended`,
      );
    }
    const cycle = findCycle([...this.tasks, ...added]);
    if (cycle !== null) throw invalid(`the spawned tasks' dependencies form a cycle: ${cycle.join(" -> ")}`);
    checkDepth([...this.tasks, ...added]);
    this.tasks.push(...added);
    for (const d of added) this.ids.add(d.task_id);
    return added.map((d) => d.task_id);
  }

  private child(input: SpawnInput, n: number): TaskDict {
    const given = input instanceof Task ? input.toDict() : input;
    if (given === null || typeof given !== "object") throw invalid("a spawned task must be an object");
    const taskId = given.task_id ?? `${this.parentId}.${n}`;
    // The rule of every entry that makes a task (POST /tasks, submitTask), in a spawn's error.
    const badId = typeof taskId === "string" ? taskIdProblem(taskId) : null;
    if (badId !== null) throw invalid(`spawned task_id${shownTaskId(taskId)} ${badId}`);
    checkPayloadDepth(given.payload, taskId);
    // Named here, before fromDict (which refuses them too, in its own words).
    const badType = typeof given.task_type === "string" ? taskTypeProblem(given.task_type) : null;
    if (badType !== null) throw invalid(`spawned task ${JSON.stringify(taskId)}: task_type ${badType}`);
    for (const dep of Array.isArray(given.depends_on) ? given.depends_on : []) {
      const badDep = typeof dep === "string" ? notWellFormed(dep) : null;
      if (badDep !== null)
        throw invalid(`spawned task ${JSON.stringify(taskId)}: depends_on ${JSON.stringify(dep)} ${badDep}`);
    }
    let task: Task;
    try {
      task = Task.fromDict({ payload: {}, ...given, task_id: taskId, parent_id: this.parentId });
    } catch (err) {
      throw invalid(`spawned task ${JSON.stringify(taskId)}: ${(err as Error).message}`);
    }
    if (task.status !== "pending") throw invalid(`spawned task ${JSON.stringify(taskId)} must be pending`);
    const dict = task.toDict() as TaskDict;
    delete dict.waiting_on;
    if (dict.depends_on?.length === 0) delete dict.depends_on;
    return dict;
  }

  get size(): number {
    return this.tasks.length;
  }

  /** The list for the outcome (undefined when nothing was spawned). */
  toJSON(): JsonObject[] | undefined {
    return this.tasks.length === 0 ? undefined : (this.tasks as unknown as JsonObject[]);
  }
}

/** A spawn the handler got wrong: the same on every try, so not retried should it fail the attempt. */
function invalid(message: string): TriadError {
  return new TriadError("ERR_INVALID_TASK", message, { status: 422, retryable: false });
}
