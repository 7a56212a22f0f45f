import type { JsonObject, JsonValue } from "../../core/json.js";
import type { LedgerTaskDict, TaskRecord } from "./task-record.js";

// What TaskLedger's steps take and answer (task-ledger.ts re-exports the types), and the codes of
// the scripts' replies it reads them from: kept apart so that the ledger stays one read.

export type AttemptOutcome = {
  taskId: string;
  fence: number;
  status: "completed" | "failed" | "input_required";
  result?: JsonValue;
  error?: string;
  /** failed: false when the handler said trying again cannot help — the task fails, retries left or not. */
  retry?: false;
  /** input_required: what the task asks for, and its key (a LangGraph interrupt id, or ""). */
  inputRequest?: JsonValue;
  inputKey?: string;
  /** Tasks the attempt spawned (task dicts): recorded with the commit only if it completes. */
  spawn?: JsonObject[];
};
/** What a "dependency ended" notice did to its dependent (dependency-ended-1.lua); "delayed": the sweep places it. */
export type NoticeVerdict = "unchanged" | "waiting" | "ready" | "abandoned" | "delayed";
export const NOTICE_VERDICTS: NoticeVerdict[] = ["unchanged", "waiting", "ready", "abandoned", "delayed"];
/** What settling an ended task needs (see read-ended-1.lua): status null when it has no record. */
export type EndedTask = { status: string | null; spawns: boolean; canceled: boolean; dependents: string[] };
/** How a task ended, read alone (see read-outcomes-1.lua): null when it has no record. */
export type TaskOutcome = { status: LedgerTaskDict["status"]; result: JsonValue; error: string | null };
/** A notice's verdict, and the dependent's record as the notice left it when it made it ready or abandoned it. */
export type Notice = { verdict: NoticeVerdict; record: TaskRecord | null };
/**
 * committed: terminal now; retry: failed, back to pending; stale: refused by the fence;
 * input_required: waiting for input, on no distributor (src/agents/input/); duplicate: this
 * attempt's outcome was committed already (a resend), nothing written.
 */
export type CommitVerdict = "completed" | "retry" | "failed" | "stale" | "input_required" | "duplicate";
/**
 * What a commit changed, from the same atomic step, so that the committer knows the new record
 * without reading it back: the attempt's number, worker and start, and when a retry may begin.
 */
export type CommitReceipt = {
  verdict: CommitVerdict;
  attempts: number;
  assignedTo: string | null;
  startedAt: string | null;
  /** Epoch ms before which a retry is not started ("retry" only). */
  notBefore: number | null;
  /** completed_at as committed ("completed" and "failed" only). */
  completedAt: string | null;
};
/** Why an attempt was not started. */
export type DispatchRefusal = "unknown" | "terminal" | "not-held" | "expired";
/** A fencing token, or why the attempt was not started. */
export type DispatchVerdict = number | DispatchRefusal;
/**
 * An attempt started: its fencing token, and the task's attempt count with it as the store
 * counts (what its handler is told: a copy of the task may be behind); or why it was not.
 */
export type DispatchStart = { fence: number; attempts: number } | DispatchRefusal;
/**
 * An assignment (assign-tasks-1.lua): made, made ending an attempt in progress on another
 * distributor, refused, or left on the distributor it names now (`heldBy`, "" for none: an
 * assignment of a task taken off `from` that is no longer there).
 */
export type AssignVerdict = "assigned" | "ended" | false | { heldBy: string };
export const ASSIGN_VERDICTS: Record<number, AssignVerdict> = { 1: "assigned", 2: "ended" };

export const COMMIT_VERDICTS: CommitVerdict[] = [
  "stale",
  "completed",
  "retry",
  "failed",
  "input_required",
  "duplicate",
];
export const DISPATCH_REFUSALS: Record<number, DispatchRefusal> = {
  [-1]: "unknown",
  [-2]: "terminal",
  [-3]: "not-held",
  /** Never started and past its expires_at: ended abandoned "expired" by the dispatch itself. */
  [-4]: "expired",
};
