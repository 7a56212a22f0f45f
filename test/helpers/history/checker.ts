import { formatEvents, type HistoryEvent } from "./history.js";

/**
 * The checker of a whole run, in the spirit of Jepsen's total-queue checker: given everything
 * the client, the nemesis and every agent recorded, and the final task records read from
 * Redis, it says whether the invariants of ARCHITECTURE.md held —
 *
 *   lost              a task the system accepted (the client got a yes, or the coordinator
 *                     recorded it) has no terminal record in Redis at the end
 *   double_commit     a task was ended (committed or abandoned) more than once
 *   divergent         the ending the history saw, or a client read back, is not the one Redis kept
 *   stale_commit      a terminal commit carried a fence older than a dispatch of the same task,
 *                     or one attempt was ended twice (committed or retried after its fence was
 *                     retired when its worker was declared dead, say)
 *   undetected        a worker or distributor that stayed silent past the bound was never
 *                     declared dead
 *   late_detection    it was, but later than `detectionMs` after the fault
 *   not_reassigned    a task in flight on it was neither moved nor finished after it died
 *   late_reassignment it was moved, but later than `reassignMs` after the death was declared
 *
 * An operation the history does not show may still have happened (a process killed between a
 * Redis reply and its history line, a reply lost with a dropped connection): the checker treats
 * the history as a lower bound of what happened and Redis as the truth of where things ended.
 * A task whose POST failed and was never retried successfully is indeterminate: it must end like
 * any other if Redis has it, and may be absent if not.
 */

export type FinalRecord = {
  status: string;
  fence: number;
  attempts: number;
  result?: unknown;
  error?: string | null;
};

export type Bounds = {
  /** Longest fault -> "dead" allowed (heartbeatTimeout + one monitor tick + slack). */
  detectionMs: number;
  /** Longest "dead" -> tasks moved allowed (one monitor tick + slack). */
  reassignMs: number;
};

export type ViolationKind =
  | "lost"
  | "double_commit"
  | "divergent"
  | "stale_commit"
  | "undetected"
  | "late_detection"
  | "not_reassigned"
  | "late_reassignment";

export type Violation = {
  kind: ViolationKind;
  /** The task concerned, or the agent for detection violations. */
  subject: string;
  message: string;
  /** Every event of the history that concerns the subject. */
  history: HistoryEvent[];
};

export type FaultTiming = {
  target: string;
  kind: string;
  /** Fault -> declared dead, ms (null when no detection was required or none came). */
  detectionMs: number | null;
  /** Fault -> each of its in-flight tasks moved or finished, ms. */
  reassignmentMs: number[];
  /** Tasks in flight there at the fault, per the history. */
  inFlight?: number;
  /** Of those, how many its attempt had ended in the store before the fault, unlogged (never moved). */
  endedThere?: number;
};

export type CheckStats = {
  /** Tasks the system accepted (a yes to the client, or recorded by the coordinator). */
  accepted: number;
  /** Submissions whose outcome the client never learned and that Redis has no record of. */
  indeterminate: number;
  completed: number;
  failed: number;
  abandoned: number;
  lost: number;
  doubleCommits: number;
  staleCommits: number;
  /** Attempts whose result was refused because a later attempt held the task (fence below the final one). */
  staleRejected: number;
  /** Attempts whose result was refused after the same attempt had committed (a lost ack; harmless). */
  redeliveredRejected: number;
  /** Handler runs recorded, and tasks whose handler ran more than once (at-least-once). */
  executions: number;
  reexecutedTasks: number;
  faults: number;
  timings: FaultTiming[];
};

export type CheckResult = { ok: boolean; violations: Violation[]; stats: CheckStats };

const TERMINAL = new Set(["completed", "failed", "abandoned"]);
/** Ops that take a task away from where it was, or finish it. */
const MOVES = new Set(["reassigned", "assigned", "dispatched", "committed", "retried", "abandoned"]);

export function checkHistory(input: {
  history: HistoryEvent[];
  final: Map<string, FinalRecord | null>;
  bounds: Bounds;
  /** When the run ended (default: the last event): a fault never healed counts as lasting until then. */
  endedAt?: number;
}): CheckResult {
  const { history, final, bounds } = input;
  const byTask = groupByTask(history);
  for (const id of final.keys()) if (!byTask.has(id)) byTask.set(id, []);

  const violations: Violation[] = [];
  const stats: CheckStats = {
    accepted: 0,
    indeterminate: 0,
    completed: 0,
    failed: 0,
    abandoned: 0,
    lost: 0,
    doubleCommits: 0,
    staleCommits: 0,
    staleRejected: 0,
    redeliveredRejected: 0,
    executions: 0,
    reexecutedTasks: 0,
    faults: 0,
    timings: [],
  };

  for (const [id, events] of byTask) {
    const record = final.get(id) ?? null;
    const has = (op: string) => events.some((e) => e.op === op);
    const accepted = has("accepted") || has("recorded") || record !== null;
    if (!accepted) {
      if (has("submitted")) stats.indeterminate++;
      continue;
    }
    stats.accepted++;
    const flag = (kind: ViolationKind, message: string) =>
      violations.push({ kind, subject: id, message, history: events });

    if (record === null || !TERMINAL.has(record.status)) {
      stats.lost++;
      flag(
        "lost",
        record === null
          ? "accepted, but Redis has no record of it"
          : `accepted, but still ${record.status} in Redis at the end`,
      );
    } else {
      stats[record.status as "completed" | "failed" | "abandoned"]++;
    }

    const endings = events.filter((e) => e.op === "committed" || e.op === "abandoned");
    if (endings.length > 1) {
      stats.doubleCommits++;
      flag(
        "double_commit",
        `ended ${endings.length} times: ${endings.map((e) => `${e.op}${e.fence !== undefined ? `@${e.fence}` : ""} by ${e.agent}`).join(", ")}`,
      );
    }
    const ending = endings[0];
    if (ending !== undefined && record !== null) {
      const endedAs = ending.op === "abandoned" ? "abandoned" : ending.status;
      const fenceDiffers = ending.op === "committed" && ending.fence !== record.fence;
      if (endedAs !== record.status || fenceDiffers) {
        flag(
          "divergent",
          `the history ended it ${endedAs}${ending.fence !== undefined ? ` at fence ${ending.fence}` : ""}, Redis says ${record.status} at fence ${record.fence}`,
        );
      }
    }

    // What a client read back (GET /tasks/:id) is what was committed, once it is terminal.
    for (const seen of events.filter((e) => e.op === "observed" && TERMINAL.has(e.status ?? ""))) {
      const same =
        record !== null &&
        seen.status === record.status &&
        (record.status !== "completed" || JSON.stringify(seen.result) === JSON.stringify(record.result));
      if (!same) {
        flag(
          "divergent",
          `a client read it ${seen.status}${seen.status === "completed" ? ` with ${JSON.stringify(seen.result)}` : ""}, Redis says ${record?.status ?? "nothing"}${record?.status === "completed" ? ` with ${JSON.stringify(record.result)}` : ""}`,
        );
      }
    }

    // A terminal commit is final: no attempt may be dispatched after it, so a dispatch with a
    // higher fence anywhere in the history means the commit came from a superseded attempt.
    const maxDispatched = Math.max(
      0,
      ...events.filter((e) => e.op === "dispatched").map((e) => e.fence ?? 0),
    );
    for (const c of events.filter((e) => e.op === "committed")) {
      if ((c.fence ?? 0) < maxDispatched) {
        stats.staleCommits++;
        flag(
          "stale_commit",
          `committed at fence ${c.fence}, but an attempt with fence ${maxDispatched} was dispatched`,
        );
      }
    }
    // Each attempt ends once: written back (committed or retried) or taken back (reassigned), never two of these.
    const endsByFence = new Map<number, HistoryEvent[]>();
    for (const e of events.filter(
      (x) => x.op === "committed" || x.op === "retried" || x.op === "reassigned",
    )) {
      const list = endsByFence.get(e.fence ?? 0) ?? [];
      list.push(e);
      endsByFence.set(e.fence ?? 0, list);
    }
    for (const [fence, ends] of endsByFence) {
      if (ends.length > 1) {
        stats.staleCommits++;
        flag(
          "stale_commit",
          `the attempt with fence ${fence} ended ${ends.length} times: ${ends.map((e) => e.op).join(", ")}`,
        );
      }
    }

    // Counted once per attempt, however many times its worker delivered it again.
    const finalFence = ending?.fence ?? record?.fence ?? Number.POSITIVE_INFINITY;
    const refused = new Set(events.filter((e) => e.op === "rejected").map((e) => e.fence ?? 0));
    for (const fence of refused) {
      if (fence < finalFence) stats.staleRejected++;
      else stats.redeliveredRejected++;
    }
    const runs = events.filter((e) => e.op === "executed").length;
    stats.executions += runs;
    if (runs > 1) stats.reexecutedTasks++;
  }

  checkFailureDetection(history, final, bounds, input.endedAt ?? history.at(-1)?.t ?? 0, violations, stats);
  return { ok: violations.length === 0, violations, stats };
}

/**
 * Every fault that silenced a worker or distributor for longer than the detection bound must be
 * followed by a "dead" for it within the bound, and every task in flight there at the fault must
 * be moved (or finished) within `reassignMs` of that.
 */
function checkFailureDetection(
  history: HistoryEvent[],
  final: Map<string, FinalRecord | null>,
  bounds: Bounds,
  endedAt: number,
  violations: Violation[],
  stats: CheckStats,
): void {
  const faults = history.filter((e) => e.op === "fault");
  stats.faults = faults.length;
  for (const fault of faults) {
    const target = fault.target ?? "?";
    const timing: FaultTiming = {
      target,
      kind: fault.kind ?? "fault",
      detectionMs: null,
      reassignmentMs: [],
    };
    stats.timings.push(timing);
    if (!fault.detect) continue;
    const heal = history.find((e) => e.op === "heal" && e.target === target && e.t > fault.t);
    const silentFor = (heal?.t ?? endedAt) - fault.t;
    let dead: HistoryEvent | undefined = history.find(
      (e) => e.op === "dead" && e.target === target && e.t >= fault.t,
    );
    if (dead !== undefined && heal !== undefined && dead.t > heal.t) dead = undefined;
    if (dead === undefined && silentFor > bounds.detectionMs) {
      const about = history.filter(
        (e) => e.target === target || e.agent === target || e.worker === target || e.distributor === target,
      );
      violations.push({
        kind: "undetected",
        subject: target,
        message: `${fault.kind} of ${target}: silent for ${Math.round(silentFor)} ms, never declared dead`,
        history: about.filter((e) => e.t >= fault.t - 5_000),
      });
    }
    if (dead !== undefined) {
      timing.detectionMs = dead.t - fault.t;
      if (timing.detectionMs > bounds.detectionMs) {
        violations.push({
          kind: "late_detection",
          subject: target,
          message: `${fault.kind} of ${target}: declared dead after ${Math.round(timing.detectionMs)} ms (bound ${bounds.detectionMs} ms)`,
          history: [fault, dead],
        });
      }
    }
    // Its tasks must move (or finish). Back before anyone noticed (a supervisor's quick restart),
    // they are only timed: no death was declared to count the bound from.
    const inFlight = inFlightAt(history, target, fault.t);
    timing.inFlight = inFlight.size;
    timing.endedThere = 0;
    for (const [taskId, events] of inFlight) {
      const moved = events.find((e) => e.t > fault.t && MOVES.has(e.op) && !placedOn(e, target));
      if (moved === undefined) {
        // Killed between a commit in Redis and its history line: the record shows the attempt
        // it was running ended it (only that attempt's own fence could have), before it died.
        const lastFence = events.filter((e) => e.op === "dispatched" && e.t <= fault.t).at(-1)?.fence;
        const record = final.get(taskId);
        const endedThere =
          fault.kind === "kill" &&
          record != null &&
          TERMINAL.has(record.status) &&
          record.fence === lastFence;
        if (endedThere) timing.endedThere++;
        if (dead !== undefined && !endedThere) {
          violations.push({
            kind: "not_reassigned",
            subject: taskId,
            message: `in flight on ${target} when it failed; never moved or finished after it was declared dead`,
            history: events,
          });
        }
        continue;
      }
      timing.reassignmentMs.push(moved.t - fault.t);
      if (dead !== undefined && moved.t - dead.t > bounds.reassignMs) {
        violations.push({
          kind: "late_reassignment",
          subject: taskId,
          message: `in flight on ${target}; moved ${Math.round(moved.t - dead.t)} ms after it was declared dead (bound ${bounds.reassignMs} ms)`,
          history: events,
        });
      }
    }
  }
}

/** True when the event keeps the task on `agent` (or puts it back there) rather than moving it away. */
function placedOn(e: HistoryEvent, agent: string): boolean {
  return (
    (e.op === "assigned" || e.op === "dispatched" || e.op === "reassigned") &&
    (e.distributor === agent || e.worker === agent)
  );
}

/**
 * Tasks open on `agent` (a worker: its latest attempt is there; a distributor: its latest
 * placement is there) at time `t`, with their whole histories.
 */
function inFlightAt(history: HistoryEvent[], agent: string, t: number): Map<string, HistoryEvent[]> {
  const byTask = groupByTask(history);
  const out = new Map<string, HistoryEvent[]>();
  for (const [id, events] of byTask) {
    const before = events.filter((e) => e.t <= t);
    if (before.some((e) => e.op === "committed" || e.op === "abandoned")) continue;
    // An attempt that ended asking for input (awaiting_input) left its worker and its
    // distributor: the task waits on neither until an answer has it placed ("assigned") again.
    const lastAttempt = before
      .filter(
        (e) =>
          e.op === "dispatched" || e.op === "reassigned" || e.op === "retried" || e.op === "awaiting_input",
      )
      .at(-1);
    const onWorker = lastAttempt?.op === "dispatched" && lastAttempt.worker === agent;
    const placement = before
      .filter(
        (e) => (e.op === "recorded" && e.distributor) || e.op === "assigned" || e.op === "awaiting_input",
      )
      .at(-1);
    const onDistributor = placement?.op !== "awaiting_input" && placement?.distributor === agent;
    if (onWorker || onDistributor) out.set(id, events);
  }
  return out;
}

function groupByTask(history: HistoryEvent[]): Map<string, HistoryEvent[]> {
  const byTask = new Map<string, HistoryEvent[]>();
  for (const e of history) {
    if (e.task_id === undefined) continue;
    const list = byTask.get(e.task_id);
    if (list === undefined) byTask.set(e.task_id, [e]);
    else list.push(e);
  }
  return byTask;
}

/** A violation as a paragraph: what is wrong, and the subject's history. */
export function describeViolation(v: Violation): string {
  return `${v.kind} ${v.subject}: ${v.message}\n${formatEvents(v.history)}`;
}

export function describeViolations(result: CheckResult, limit = 20): string {
  const shown = result.violations.slice(0, limit).map(describeViolation).join("\n\n");
  const more = result.violations.length > limit ? `\n\n... and ${result.violations.length - limit} more` : "";
  return `${result.violations.length} violation(s):\n\n${shown}${more}`;
}
