/** The scheduling fields of a task a client posts (after the NewTask schema has checked each one). */
type Posted = { run_at?: string | undefined; delay_ms?: number | undefined; expires_at?: string | undefined };

/**
 * POST /tasks' `delay_ms` becomes `run_at` (now + delay, ISO-8601 UTC), so the task dict and the
 * store know only run_at; the checks JSON Schema cannot state are made here: not both, and
 * expires_at after run_at. Answers the task without delay_ms, or the problem naming the field.
 */
export function resolveSchedule<T extends Posted>(
  task: T,
  now = Date.now(),
): { task: Omit<T, "delay_ms"> } | { field: string; problem: string } {
  const { delay_ms, ...rest } = task;
  if (delay_ms !== undefined && rest.run_at !== undefined)
    return { field: "delay_ms", problem: "give run_at or delay_ms, not both" };
  const out = delay_ms === undefined ? rest : { ...rest, run_at: new Date(now + delay_ms).toISOString() };
  if (
    out.expires_at !== undefined &&
    out.run_at !== undefined &&
    Date.parse(out.expires_at) <= Date.parse(out.run_at)
  )
    return {
      field: "expires_at",
      problem: "must be after run_at (a task that expires before it may start never runs)",
    };
  return { task: out };
}
