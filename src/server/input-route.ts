import type { IncomingMessage, ServerResponse } from "node:http";
import { depthProblem } from "../agents/payload-depth.js";
import type { JsonObject, JsonValue } from "../core/json.js";
import { isPlainObject } from "../core/json.js";
import { taskInputBody } from "./http-schemas.js";
import { readJsonBody, sendError, sendJson, taskIdOf } from "./http-util.js";

/** What POST /tasks/{task_id}/input needs from a coordinator (src/agents/input/). */
export type InputApi = {
  /** given: the task after (pending again); not waiting: its dict as it stands; null: unknown. */
  provideInput(
    taskId: string,
    value: JsonValue,
    question?: number,
  ): Promise<{ given: boolean; task: JsonObject } | null>;
};

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL, params: string[]) => Promise<void>;

/**
 * POST /tasks/{task_id}/input `{ "value": <JSON> }`: gives input to a task waiting for it
 * (SPEC "Waiting for input"). 202 with the task (pending again, to run on any worker); 409 when
 * it is not waiting for input (the first answer to a request wins); 404 unknown; 422 a body
 * without `value`.
 */
export function inputHandlers(api: InputApi, maxBodyBytes: number) {
  return {
    "POST /tasks/{task_id}/input": (async (req, res, _url, [segment]) => {
      const taskId = taskIdOf(segment!);
      const body = await readJsonBody(req, maxBodyBytes);
      // The depth before the schema, whose walk recurses.
      const tooDeep = isPlainObject(body) ? depthProblem(body.value, "value") : null;
      if (tooDeep !== null) return sendError(res, 422, "ERR_INVALID_INPUT", tooDeep);
      const parsed = taskInputBody.safeParse(body);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        const where = issue.path.map(String).join(".") || "body";
        const message =
          where === "value" && issue.code === "invalid_union" ? "required (any JSON)" : issue.message;
        return sendError(res, 422, "ERR_INVALID_INPUT", `${where}: ${message}`);
      }
      const answer = await api.provideInput(taskId, parsed.data.value as JsonValue, parsed.data.question);
      if (answer === null) return sendError(res, 404, "ERR_NOT_FOUND", `no task ${taskId}`);
      if (!answer.given) {
        const asking = answer.task.status === "input_required";
        const given = Array.isArray(answer.task.inputs) ? answer.task.inputs.length : 0;
        return sendError(
          res,
          409,
          "ERR_NOT_WAITING_FOR_INPUT",
          asking
            ? `task ${taskId} asks question ${given} now, not question ${parsed.data.question}: ${
                (parsed.data.question ?? 0) > given
                  ? "that one is not asked yet"
                  : "that one was answered already"
              }`
            : `task ${taskId} is ${String(answer.task.status)}, not waiting for input (an earlier answer may have been taken)`,
        );
      }
      sendJson(res, 202, answer.task);
    }) as Handler,
  };
}
