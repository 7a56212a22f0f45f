import { TriadError } from "../../core/errors.js";
import type { JsonObject } from "../../core/json.js";
import type { A2AClient, A2AMessage } from "../../core/messaging/index.js";
import type { TaskLedger } from "../ledger/task-ledger.js";
import { type DependencyOutcome, type DispatchedTask, dispatchedTask, type PayloadOf } from "../protocol.js";
import { isTooLarge } from "../split-send.js";

/**
 * A join's dependencies' results when they do not fit in its job.
 *
 * Each result was within the message limit when its task stored it, but a task that depends on
 * many can carry more than one message between distributor and worker takes (maxBodyBytes over
 * HTTP: the in-process router has no limit). Such a job goes without its dependencies' results
 * (leaveOutResults: `dependencies_left_out` names them, their entries hold a null result), and
 * the worker asks its distributor for them before the handler runs (fetch_dependencies, an A2A
 * REQUEST signed as every message): each RESPONSE carries as many whole results as fit in
 * `max_bytes`, the worker asks again for the rest (fetchLeftOut). The handler sees
 * ctx.dependencies as it would have in the job.
 */

export type DependencyMap = Record<string, DependencyOutcome>;

/** What a reply leaves to the message around its results (ids, metadata, signature). */
export const REPLY_OVERHEAD_BYTES = 2048;
/** Results read from the store at once for a reply. */
const READ_GROUP = 16;
/** How long a worker waits for one reply. */
const FETCH_TIMEOUT_MS = 30_000;

/** `job` without the results of its dependencies (those not null), or null when it has none to leave out. */
export function leaveOutResults(job: DispatchedTask): DispatchedTask | null {
  if (job.dependencies === undefined) return null;
  const dependencies: DependencyMap = {};
  const left: string[] = [];
  for (const [id, outcome] of Object.entries(job.dependencies)) {
    if (outcome.result === null) dependencies[id] = outcome;
    else {
      dependencies[id] = { ...outcome, result: null };
      left.push(id);
    }
  }
  if (left.length === 0) return null;
  return { ...job, dependencies, dependencies_left_out: left };
}

export type FetchAnswer =
  | { ok: true; dependencies: DependencyMap }
  | { ok: false; code: string; message: string };

/**
 * The distributor's answer to a worker's fetch_dependencies: only the worker that runs that
 * attempt of the task, for this distributor, may read them, and only ids the task depends on.
 * As many whole results as fit in the reply (the first always: see serveFetch).
 */
export async function answerFetch(
  o: { ledger: TaskLedger; distributorId: string; maxBodyBytes: number },
  workerId: string,
  p: PayloadOf<"fetch_dependencies">,
): Promise<FetchAnswer> {
  const record = await o.ledger.get(p.task_id);
  if (
    record === null ||
    record.task.status !== "in_progress" ||
    record.fence !== p.fence ||
    record.distributor !== o.distributorId ||
    record.task.assigned_to !== workerId
  ) {
    const message = `${workerId} does not run attempt ${p.fence} of task ${p.task_id} for ${o.distributorId}`;
    return { ok: false, code: "ERR_NOT_ATTEMPT_HOLDER", message };
  }
  const deps = new Set(record.task.depends_on ?? []);
  const foreign = p.ids.find((id) => !deps.has(id));
  if (foreign !== undefined)
    return {
      ok: false,
      code: "ERR_INVALID_ARGUMENT",
      message: `task ${p.task_id} does not depend on ${foreign}`,
    };
  const budget = Math.min(o.maxBodyBytes, p.max_bytes ?? Infinity) - REPLY_OVERHEAD_BYTES;
  const dependencies: DependencyMap = {};
  let used = 0;
  for (let i = 0; i < p.ids.length; i += READ_GROUP) {
    const ids = p.ids.slice(i, i + READ_GROUP);
    const outcomes = await Promise.all(ids.map((id) => o.ledger.outcome(id)));
    for (let k = 0; k < ids.length; k++) {
      const outcome = outcomes[k] ?? { status: "abandoned", result: null, error: "record expired" };
      const bytes = Buffer.byteLength(JSON.stringify(outcome)) + Buffer.byteLength(ids[k]!) + 8;
      if (used > 0 && used + bytes > budget) return { ok: true, dependencies };
      dependencies[ids[k]!] = outcome as DependencyOutcome;
      used += bytes;
    }
  }
  return { ok: true, dependencies };
}

/**
 * Answers a worker's fetch_dependencies `request` (its payload `p`) with a RESPONSE. A reply
 * refused as too large (over this distributor's limit, or the worker's 413 when its limit is the
 * smaller) goes again with its first result alone; when even that cannot go, the worker is told
 * ERR_DEPENDENCY_TOO_LARGE (that result never reaches it) instead of waiting out its fetch.
 */
export async function serveFetch(
  o: { ledger: TaskLedger; distributorId: string; a2a: A2AClient },
  request: A2AMessage,
  p: PayloadOf<"fetch_dependencies">,
): Promise<void> {
  const to = request.sender;
  const reply = (body: JsonObject, ok: boolean) =>
    o.a2a.sendResponse(to, request.metadata.request_id, body, ok).then(() => {});
  const answer = await answerFetch({ ...o, maxBodyBytes: o.a2a.maxBodyBytes }, to, p);
  if (!answer.ok) return reply({ code: answer.code, message: answer.message }, false);
  const ids = Object.keys(answer.dependencies);
  try {
    return await reply({ dependencies: answer.dependencies }, true);
  } catch (err) {
    if (!isTooLarge(err)) throw err;
    if (ids.length > 1) {
      const first = { [ids[0]!]: answer.dependencies[ids[0]!]! };
      const sent = await reply({ dependencies: first }, true).then(
        () => true,
        (e: unknown) => (isTooLarge(e) ? false : Promise.reject(e)),
      );
      if (sent) return;
    }
    const message = `the result of dependency ${ids[0]} of task ${p.task_id} is too large for a message to its worker: ${(err as Error).message}`;
    return reply({ code: "ERR_DEPENDENCY_TOO_LARGE", message }, false);
  }
}

const dependencyMap = dispatchedTask.shape.dependencies.unwrap();

/**
 * The worker's side: `job`'s dependencies with every result left out fetched from its
 * distributor through `request` (a REQUEST whose RESPONSE it resolves with; null: no answer in
 * time). Rejects with a TriadError that says what failed: ERR_DEPENDENCY_TOO_LARGE when a
 * result cannot reach this worker at all, ERR_DEPENDENCY_FETCH otherwise (the attempt may be
 * tried again).
 */
export async function fetchLeftOut(
  job: DispatchedTask,
  maxBytes: number,
  request: (payload: JsonObject, timeoutMs: number) => Promise<A2AMessage | null>,
): Promise<DependencyMap> {
  const dependencies: DependencyMap = { ...job.dependencies };
  let missing = [...(job.dependencies_left_out ?? [])];
  while (missing.length > 0) {
    const fetch = { task_id: job.task.task_id, fence: job.fence, ids: missing, max_bytes: maxBytes };
    const reply = await request({ event_type: "fetch_dependencies", event_data: fetch }, FETCH_TIMEOUT_MS);
    if (reply === null)
      throw new TriadError(
        "ERR_DEPENDENCY_FETCH",
        `no answer from the distributor within ${FETCH_TIMEOUT_MS} ms`,
      );
    const body = reply.payload as { success?: unknown; data?: unknown; error?: unknown };
    if (body.success !== true) {
      const err = (body.error ?? {}) as { code?: unknown; message?: unknown };
      const code = err.code === "ERR_DEPENDENCY_TOO_LARGE" ? err.code : "ERR_DEPENDENCY_FETCH";
      throw new TriadError(code, `the distributor refused: ${String(err.message ?? "no reason given")}`);
    }
    const parsed = dependencyMap.safeParse((body.data as { dependencies?: unknown } | null)?.dependencies);
    const got = parsed.success ? parsed.data : {};
    const before = missing.length;
    missing = missing.filter((id) => {
      if (!Object.hasOwn(got, id)) return true;
      dependencies[id] = got[id]!;
      return false;
    });
    if (missing.length === before)
      throw new TriadError(
        "ERR_DEPENDENCY_FETCH",
        "the distributor's reply held none of the results asked for",
      );
  }
  return dependencies;
}
