import type { AttemptOutcomeWire } from "../protocol.js";
import type { KnownTasks } from "./graph-validation.js";

/**
 * A completed attempt whose spawned tasks depend on an id that is neither spawned by the same
 * attempt nor a recorded task is committed as failed, at once (ERR_INVALID_TASK, no retry), and
 * spawns nothing: as a submitted batch with such a dependency is refused whole (HTTP 422). The
 * worker cannot tell (it has no store), so its distributor asks before the commit; recorded
 * anyway, the child would wait on a task that never ends and be abandoned. Outcomes that spawn
 * nothing, or only tasks that depend on each other, cost no read.
 */
export async function refuseUnknownSpawnDependencies(
  results: AttemptOutcomeWire[],
  known: KnownTasks,
): Promise<AttemptOutcomeWire[]> {
  const outsideOf = new Map<AttemptOutcomeWire, Map<string, string>>(); // dependency -> its first dependent
  const asked = new Set<string>();
  for (const r of results) {
    if (r.status !== "completed" || r.spawn === undefined || r.spawn.length === 0) continue;
    const spawned = new Set(r.spawn.map((t) => t.task_id));
    const outside = new Map<string, string>();
    for (const t of r.spawn) {
      if (!Array.isArray(t.depends_on)) continue;
      for (const dep of t.depends_on) {
        if (typeof dep !== "string" || spawned.has(dep) || outside.has(dep)) continue;
        outside.set(dep, String(t.task_id));
        asked.add(dep);
      }
    }
    if (outside.size > 0) outsideOf.set(r, outside);
  }
  if (asked.size === 0) return results;
  const ids = [...asked];
  const exists = await known(ids);
  const unknown = new Set(ids.filter((_, i) => !exists[i]));
  if (unknown.size === 0) return results;
  return results.map((r) => {
    const outside = outsideOf.get(r);
    const missing = outside === undefined ? [] : [...outside.keys()].filter((d) => unknown.has(d));
    if (missing.length === 0) return r;
    const first = missing[0]!;
    const { result: _result, spawn: _spawn, ...rest } = r;
    return {
      ...rest,
      status: "failed",
      retryable: false,
      error:
        `ERR_INVALID_TASK: ctx.spawn: task ${JSON.stringify(outside!.get(first))} depends on ${JSON.stringify(first)}, which is neither a known task nor spawned by this attempt` +
        (missing.length > 1 ? ` (${missing.length} such ids)` : "") +
        "; nothing was spawned",
    };
  });
}
