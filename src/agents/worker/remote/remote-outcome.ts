import { createHash } from "node:crypto";
import { type Artifact, type Message, type Part, type Task, TaskState } from "@a2a-js/sdk";
import { isPlainObject, type JsonValue } from "../../../core/json.js";

/** Where a remote task stands, as the bridge sees it. */
export type RemoteEnd =
  | { kind: "running" }
  | { kind: "completed"; result: JsonValue }
  /**
   * The remote agent said no: the attempt fails with its words. `final`: it refused the task
   * (REJECTED) or wants credentials Triad cannot give (AUTH_REQUIRED) — another try would end
   * the same, so the task fails without its retries.
   */
  | { kind: "failed"; error: string; final?: true }
  /** Canceled there (by us, or by someone else): a later attempt sends the work again. */
  | { kind: "canceled"; error: string }
  /**
   * It wants input: the Triad task waits for it (input_required) with `question`; `key` names
   * this question of this remote task, so that an answer is sent only to the question it was
   * given for.
   */
  | { kind: "needs_input"; question: JsonValue; key: string };

/** The remote task still shows the question whose answer was given (its key): it has not moved on yet. */
export function isAnswered(end: RemoteEnd, answered: string | undefined): boolean {
  return answered !== undefined && end.kind === "needs_input" && end.key === answered;
}

/**
 * The id of the message that carries the answer to the question `key` of task `taskId`: the same on
 * every attempt, so that a later attempt can tell (from the remote task's history) whether an
 * earlier one sent it.
 */
export function answerMessageId(taskId: string, key: string | undefined): string {
  const h = createHash("sha256")
    .update(`${taskId}\n${key ?? ""}`)
    .digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const RUNNING: ReadonlySet<TaskState> = new Set([
  TaskState.TASK_STATE_UNSPECIFIED,
  TaskState.TASK_STATE_SUBMITTED,
  TaskState.TASK_STATE_WORKING,
]);

export function stateName(state: TaskState | undefined): string {
  return (TaskState[state ?? TaskState.TASK_STATE_UNSPECIFIED] ?? "UNKNOWN").replace(/^TASK_STATE_/, "");
}

/** The remote task's state as an outcome; `agent` names the agent in messages. */
export function remoteEnd(task: Task, agent: string): RemoteEnd {
  const state = task.status?.state ?? TaskState.TASK_STATE_UNSPECIFIED;
  if (RUNNING.has(state)) return { kind: "running" };
  const said = textOf(task.status?.message?.parts ?? []);
  const where = `remote task ${task.id} on ${agent}`;
  switch (state) {
    case TaskState.TASK_STATE_COMPLETED:
      return { kind: "completed", result: resultOf(task.artifacts) };
    case TaskState.TASK_STATE_CANCELED:
      return { kind: "canceled", error: `${where} was canceled${said ? `: ${said}` : ""}` };
    case TaskState.TASK_STATE_INPUT_REQUIRED: {
      // The question: the status message's data part, else its text (null when it says nothing).
      const parts = task.status?.message?.parts ?? [];
      const data = parts.find((p) => p.content?.$case === "data")?.content;
      const question = data?.$case === "data" ? (data.value as JsonValue) : said || null;
      const key = `${task.id}|${task.status?.message?.messageId ?? ""}|${task.status?.timestamp ?? ""}`;
      return { kind: "needs_input", question, key };
    }
    case TaskState.TASK_STATE_AUTH_REQUIRED:
      return {
        kind: "failed",
        error: `${where} asks for authorization${said ? `: "${said}"` : ""}; Triad cannot forward credentials to a remote agent, so the task fails`,
        final: true,
      };
    case TaskState.TASK_STATE_REJECTED:
      return { kind: "failed", error: said ? `${agent}: ${said}` : `${where} ended REJECTED`, final: true };
    default:
      return { kind: "failed", error: said ? `${agent}: ${said}` : `${where} ended ${stateName(state)}` };
  }
}

/** The answer to a remote question as a message part: an object as a data part, anything else as text. */
export function answerPart(value: JsonValue): { data: JsonValue; mediaType: string } | { text: string } {
  if (isPlainObject(value)) return { data: value, mediaType: "application/json" };
  return { text: typeof value === "string" ? value : JSON.stringify(value) };
}

/** A remote agent that answers with a Message (no task): the message is the result. */
export function messageResult(message: Message): JsonValue {
  return partsResult(message.parts);
}

/**
 * The artifacts' data parts (one: itself; several: a list); with no data, their text joined:
 * each artifact's text parts as they come (the chunks of an artifact streamed with `append` are
 * its parts, and make one text again), and one artifact's text from the next's by a newline, as
 * the gateway joins the text parts of a message.
 */
export function resultOf(artifacts: readonly Artifact[]): JsonValue {
  return partsResult(
    artifacts.flatMap((a) => a.parts),
    artifacts.map((a) => textOf(a.parts)),
  );
}

function partsResult(parts: readonly Part[], texts: readonly string[] = [textOf(parts)]): JsonValue {
  const data: JsonValue[] = [];
  for (const p of parts) if (p.content?.$case === "data") data.push(p.content.value as JsonValue);
  if (data.length === 1) return data[0]!;
  if (data.length > 1) return data;
  const text = texts.filter((t) => t !== "").join("\n");
  return text === "" ? null : text;
}

function textOf(parts: readonly Part[]): string {
  return parts.map((p) => (p.content?.$case === "text" ? p.content.value : "")).join("");
}

/** Folds a streamed artifact update into the artifacts seen so far (A2A's append and replace). */
export function mergeArtifact(into: Map<string, Artifact>, update: Artifact, append: boolean): void {
  const seen = into.get(update.artifactId);
  if (append && seen !== undefined)
    into.set(update.artifactId, { ...seen, parts: [...seen.parts, ...update.parts] });
  else into.set(update.artifactId, update);
}
