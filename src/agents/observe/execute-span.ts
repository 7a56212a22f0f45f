import type { DispatchedTask, TaskTrace } from "../protocol.js";
import { ATTR, endTaskSpan, SpanKind, startTaskSpan, traced, withSpan } from "./trace-context.js";

type Outcome = { status: "completed" | "failed" | "input_required"; error?: string };

/**
 * Runs one attempt on a worker inside a `triad.execute` span, the child of the distributor's
 * dispatch span named by the job's traceparent; the handler runs with that span active, so
 * spans it makes itself nest under it. Answers the outcome and the trace to send back with it
 * (none without an OpenTelemetry SDK).
 */
export async function traceExecution<T extends Outcome>(
  job: DispatchedTask,
  run: () => Promise<T>,
): Promise<{ outcome: T; trace: TaskTrace | undefined }> {
  const span = startTaskSpan("triad.execute", {
    parent: job.trace?.traceparent,
    kind: SpanKind.CONSUMER,
    attributes: () => ({
      [ATTR.taskId]: job.task.task_id,
      [ATTR.taskType]: job.task.task_type,
      [ATTR.fence]: job.fence,
      [ATTR.attempt]: job.task.attempts,
      ...(job.task.assigned_to ? { [ATTR.workerId]: job.task.assigned_to } : {}),
    }),
  });
  let outcome: T;
  try {
    outcome = await withSpan(span, run);
  } catch (err) {
    endTaskSpan(span, err instanceof Error ? err.message : String(err));
    throw err;
  }
  const error = outcome.status === "failed" ? (outcome.error ?? "failed") : null;
  const traceparent = endTaskSpan(span, error, () => ({ [ATTR.status]: outcome.status }));
  return { outcome, trace: traceparent === undefined ? undefined : { traceparent } };
}

/** Whether an attempt of `job` runs in a span at all (no SDK and no trace sent with it: not). */
export function executionTraced(job: DispatchedTask): boolean {
  return traced(job.trace?.traceparent);
}
