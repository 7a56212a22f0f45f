import { z } from "zod";
import { isPlainJson, isPlainObject, type JsonObject, type JsonValue } from "../core/json.js";
import { MAX_TASK_ID_LENGTH } from "../core/state/task-id.js";
import { MAX_TASK_TYPE_LENGTH } from "../core/state/task-type.js";
import { isWellFormed, notWellFormedIssue } from "../core/state/well-formed.js";

/**
 * What the three tiers say to each other, inside signed A2A messages. Every payload names its
 * `kind`; the receiver validates it here, once, and trusts the types after.
 *
 *   worker -> distributor       register_worker (REQUEST), heartbeat (HEARTBEAT), task_results, checkpoint,
 *                               task_progress, fetch_dependencies (REQUEST)
 *   distributor -> worker       execute_tasks (acks may ride along), results_ack, fetch_dependencies' RESPONSE
 *   distributor -> coordinator  register_distributor (REQUEST), heartbeat (HEARTBEAT), task_results,
 *                               hand_back (REQUEST: tasks of a type none of its live workers runs)
 *   coordinator -> distributor  assign_tasks, cancel_attempts (passed on to the worker), hand_back's RESPONSE
 *
 * Messages carry ownership, Redis records it: anything lost here is found again from Redis.
 */

// Payloads and results are user data of any shape: checked with one plain walk, not a zod union
// per nested value (on the hot path, per task per hop, that union cost more than the rest).
export const isJson = (v: unknown) => isPlainJson(v, 256);
export const isJsonObject = (v: unknown) => isPlainObject(v) && isJson(v);
const json = z.custom<JsonValue>(isJson, "must be a JSON value");
const jsonObject = z.custom<JsonObject>(isJsonObject, "must be a JSON object");

// Well-formed: a lone surrogate reaches Redis as U+FFFD, another id (and another shard) than the one sent.
const id = z.string().min(1).max(MAX_TASK_ID_LENGTH).refine(isWellFormed, { error: notWellFormedIssue });
const status = z.enum(["pending", "in_progress", "completed", "failed", "abandoned", "input_required"]);

export const taskDictSchema = z.object({
  task_id: id,
  task_type: z.string().min(1).max(MAX_TASK_TYPE_LENGTH).refine(isWellFormed, { error: notWellFormedIssue }),
  payload: jsonObject,
  status,
  result: json,
  error: z.string().nullable(),
  attempts: z.number().int().nonnegative(),
  assigned_to: z.string().nullable(),
  created_at: z.string(),
  started_at: z.string().nullable(),
  completed_at: z.string().nullable(),
  // Workflows: absent unless used (SPEC "Workflows").
  depends_on: z.array(id).optional(),
  waiting_on: z.array(id).optional(),
  on_dependency_failure: z.enum(["abandon", "run"]).optional(),
  parent_id: id.optional(),
  // Scheduling (SPEC "Scheduling controls"): absent unless used.
  priority: z.number().min(0).max(9).int().optional(), // bounds first: zod names the first failed check
  run_at: z.string().max(64).optional(),
  expires_at: z.string().max(64).optional(),
  // Human input (SPEC "Waiting for input"): absent unless used.
  input_request: json.optional(),
  input_timeout_ms: z.number().int().positive().optional(),
  inputs: z.array(json).optional(),
  // Live progress (SPEC "Waiting for input, progress"): the latest ctx.progress value, absent until one.
  progress: json.optional(),
});
export type TaskDict = z.infer<typeof taskDictSchema>;

const agentStatus = z.enum(["idle", "busy", "error", "recovering"]);
const count = z.number().int().nonnegative();
/** A2A messages an agent refused since it started, by reason (only reasons that happened). */
const rejectedCounts = z.record(z.string().max(64), count);

/** An agent's refusal counts (A2AClient.stats().rejected) as its reports carry them: only the reasons that happened. */
export function refusalsOf(rejected: Record<string, number>): Record<string, number> {
  // From entries: every reason becomes a member, even one named "__proto__".
  return Object.fromEntries(Object.entries(rejected).filter(([, n]) => n > 0));
}

/** A remote A2A agent a worker bridges (`triad worker --a2a-agent`, a2aAgentHandler): shown on the dashboard. */
export const remoteAgentInfo = z.object({
  name: z.string().max(200),
  url: z.string().max(2000),
  skills: z.array(z.string().max(200)).max(500),
});
export type RemoteAgentInfo = z.infer<typeof remoteAgentInfo>;
const remoteAgents = z.array(remoteAgentInfo).max(64).optional().catch(undefined);

/**
 * Attempts a worker queues per unit of its concurrency; it refuses more ("overloaded"). It
 * queues a whole execute_tasks before it starts any, so this bounds one message too. This
 * release's workers queue this many and say so on every heartbeat (`backlog_per_slot`); a
 * distributor never lets a worker hold more than its concurrency times what the worker says it
 * queues (worker-registry.ts).
 */
export const WORKER_BACKLOG_PER_SLOT = 8;
/**
 * What a worker that does not say queues per unit of its concurrency: every Triad worker before
 * `backlog_per_slot` (and any other implementation that leaves it out) queues four.
 */
export const LEGACY_BACKLOG_PER_SLOT = 4;

/** `max_body_bytes`: an agent's A2A body limit, stated to the tier above (optional; malformed is ignored). */
const maxBodyBytes = z.number().int().positive().optional().catch(undefined);

export const workerHeartbeat = z.object({
  kind: z.literal("worker_status"),
  status: agentStatus,
  /**
   * Attempts it holds: those it runs, and those queued for a slot — it starts a queued one as soon
   * as a slot frees, so it runs min(load, capacity).
   */
  load: z.number().int().nonnegative(),
  capacity: z.number().int().positive(),
  url: z.string().nullable(),
  /** The attempts it is running, so a restarted distributor can re-adopt them. */
  running: z.array(z.object({ task_id: id, fence: z.number().int() })),
  done: z.number().int().nonnegative(),
  /** The task types it has handlers for. */
  task_types: z.array(z.string()).default([]),
  /** Messages it refused (its distributor passes them on to the coordinator's metrics). */
  rejected: rejectedCounts.optional().catch(undefined),
  /** The remote A2A agents it bridges, if any. */
  remote_agents: remoteAgents,
  /** Attempts it queues per unit of its concurrency (absent: LEGACY_BACKLOG_PER_SLOT). */
  backlog_per_slot: z.number().int().min(1).max(1024).optional().catch(undefined),
  /** How often it heartbeats: the distributor warns when that is not shorter than its timeout. */
  heartbeat_interval_ms: z.number().positive().optional().catch(undefined),
  /**
   * It fetches results a job left out (dependencies_left_out, fetch_dependencies). Absent from an
   * older release's, which would run such a job with null results: it is sent none.
   */
  fetches_dependencies: z.literal(true).optional().catch(undefined),
  /**
   * The body limit of its A2A listener (its a2a.maxBodyBytes), when it has one: its distributor
   * holds what it sends it to that (a job over it goes without its dependencies' results at once,
   * not whole first to be refused). Absent from an older release's: found out by its 413s.
   */
  max_body_bytes: maxBodyBytes,
  /**
   * Attempts sent to it that it will not run, handed back (it is stopping, or had no room): the
   * distributor takes them back at once, not a heartbeat timeout later, and not as failures.
   * Absent from an older release's (whose distributor takes back what a heartbeat no longer lists).
   */
  returned: z
    .array(z.object({ task_id: id, fence: z.number().int() }))
    .max(100_000)
    .optional()
    .catch(undefined),
  /** It is stopping (draining what runs): send it nothing more. */
  stopping: z.boolean().optional().catch(undefined),
  /**
   * Its process, a random id drawn at start: two processes that heartbeat under one worker id
   * (a copied --id) are told apart, and the second is not taken. Absent from an older release's.
   */
  instance: z.string().max(64).optional().catch(undefined),
});
export type WorkerHeartbeat = z.infer<typeof workerHeartbeat>;

export const workerSummary = z.object({
  id,
  status: z.enum(["idle", "busy", "error", "recovering", "dead"]),
  /** Attempts it holds (running, queued on it, or on their way to it). */
  load: z.number().int().nonnegative(),
  /** Of `load`: those its handlers run now (at most its capacity), and the rest. Absent from an older release's. */
  running: z.number().int().nonnegative().optional().catch(undefined),
  queued: z.number().int().nonnegative().optional().catch(undefined),
  capacity: z.number().int().nonnegative(),
  last_heartbeat: z.string().nullable(),
  done: z.number().int().nonnegative(),
  task_types: z.array(z.string()).default([]),
  remote_agents: remoteAgents,
  /** Dead after it said it was stopping (a graceful stop, not a crash). Absent from an older release's. */
  stopped: z.boolean().optional().catch(undefined),
});
export type WorkerSummary = z.infer<typeof workerSummary>;

/**
 * How a task travelled, carried beside it (never inside the task dict) for OpenTelemetry and
 * the coordinator's task history. Optional everywhere: a peer that does not know it ignores it,
 * and a malformed one is dropped, never the task it came with.
 */
export const taskTrace = z.object({
  /** W3C trace context of the last span on the task's path (present with an OpenTelemetry SDK). */
  traceparent: z.string().max(256).optional(),
  /** request_ids of the messages of the attempt that ended it: [execute_tasks, task_results]; "" unknown. */
  via: z.array(z.string().max(200)).max(4).optional(),
  /** Attempts that failed and were retried before it, oldest first. */
  retries: z
    .array(
      z.object({
        attempt: count,
        worker: z.string().max(200).nullable(),
        error: z.string().max(2000),
        via: z.array(z.string().max(200)).max(4).optional(),
        /** When the retry was decided, ISO 8601 on the distributor's clock (display only). */
        at: z.string().max(40).optional(),
      }),
    )
    .max(16)
    .optional(),
  /**
   * Ended failed by an attempt that said another try cannot help (its outcome's `retryable:
   * false`, an UnrecoverableError): it failed for good whatever retries it had left.
   */
  retryable: z.literal(false).optional(),
});
export type TaskTrace = z.infer<typeof taskTrace>;
const optionalTrace = taskTrace.optional().catch(undefined);
/** Traces by task id, beside an array of task dicts. */
const traceMap = z.record(id, taskTrace).optional().catch(undefined);
/**
 * Tasks of a task_terminal whose last attempt travelled in the same two messages (`via`, as in a
 * trace), named once for all of them: a batch's tasks mostly share them, and a trace per task
 * repeated the two request_ids each time. A task with more to tell (retries, a traceparent) has
 * its trace in `traces` instead. Dropped, never the tasks, when malformed; a peer that does not
 * know it ignores it (the tasks' history then lacks those request_ids).
 */
const viaGroup = z.object({ via: z.array(z.string().max(200)).max(4), tasks: z.array(id) });
export type ViaGroup = z.infer<typeof viaGroup>;
const viaGroups = z.array(viaGroup).optional().catch(undefined);
/**
 * Tasks of a task_terminal whose committed attempt spawned tasks (written on the record as
 * `spawn`, recorded by the coordinator's workflow keeper): the coordinator shows their end only
 * once their spawned tasks exist. Absent when none did. Dropped, never the tasks, when
 * malformed; a coordinator that does not know it ignores it (it then shows those ends at once).
 */
const spawnsList = z.array(id).max(10_000).optional().catch(undefined);

/** A distributor's counters since it started, riding on its heartbeat for the coordinator's metrics. */
export const distributorReport = z.object({
  retried: count,
  reassigned: count,
  stale_rejected: count,
  workers_dead: count,
  worker_heartbeats: count,
  /** A2A messages it refused, by reason. */
  rejected: rejectedCounts,
  /** Its workers' refusals, as their latest heartbeats said, by worker. */
  worker_rejected: z.record(id, rejectedCounts).optional().catch(undefined),
  /** Calls to its store by command (see countStoreCalls). */
  store_calls: z.record(z.string().max(200), count),
});
export type DistributorReport = z.infer<typeof distributorReport>;

export const distributorHeartbeat = z.object({
  kind: z.literal("distributor_status"),
  status: agentStatus,
  load: z.number().int().nonnegative(),
  capacity: z.number().int().nonnegative(),
  url: z.string().nullable(),
  owns_lease: z.boolean(),
  workers: z.array(workerSummary),
  done: z.number().int().nonnegative(),
  report: distributorReport.optional().catch(undefined),
  /**
   * Its last word before it exits gracefully (its workers' attempts drained, its lease given
   * up): the coordinator declares it gone at once and moves what it held, instead of a
   * heartbeat timeout later. Absent from an older release's.
   */
  stopping: z.boolean().optional().catch(undefined),
  /** How often it heartbeats: the coordinator warns when that is not shorter than its timeout. */
  heartbeat_interval_ms: z.number().positive().optional().catch(undefined),
  /** Its A2A body limit: assignments to it are held to it. Absent from an older release's (its 413s). */
  max_body_bytes: maxBodyBytes,
});
export type DistributorHeartbeat = z.infer<typeof distributorHeartbeat>;

export const attemptOutcome = z.object({
  task_id: id,
  fence: z.number().int(),
  status: z.enum(["completed", "failed", "input_required"]),
  result: json.optional(),
  /** input_required: what the task asks for, and the request's key (a LangGraph interrupt id). */
  input_request: json.optional(),
  input_key: z.string().max(200).optional(),
  error: z.string().optional(),
  /** false: the handler said trying again cannot help (UnrecoverableError); the task fails now. */
  retryable: z.literal(false).optional(),
  started_at: z.string().optional(),
  duration_ms: z.number().nonnegative().optional(),
  trace: optionalTrace,
  /** Tasks the attempt spawned (ctx.spawn), recorded by its commit only if it completes. */
  spawn: z.array(z.custom<JsonObject>(isJsonObject, "must be a JSON object")).max(10_000).optional(),
  /** The attempt's latest ctx.progress value, written (fenced) before the outcome is committed. */
  progress: json.optional(),
});
export type AttemptOutcomeWire = z.infer<typeof attemptOutcome>;

export const dispatchedTask = z.object({
  task: taskDictSchema,
  fence: z.number().int().positive(),
  timeout_ms: z.number().int().positive(),
  checkpoint: json.optional(),
  trace: optionalTrace,
  /** The outcome of each of the task's dependencies (its handler's ctx.dependencies). */
  dependencies: z.record(id, z.object({ status, result: json, error: z.string().nullable() })).optional(),
  /** The key of the request the task's last input answered: a graph resumes with it (src/agents/input/). */
  resume_key: z.string().max(200).optional(),
  /**
   * Dependencies whose results the job left out (with them it was over the worker's message
   * limit): `dependencies` has them with a null result, and the worker fetches them from its
   * distributor (fetch_dependencies) before the handler runs (src/agents/workflow/dependency-fetch.ts).
   */
  dependencies_left_out: z.array(id).max(10_000).optional(),
});
export type DispatchedTask = z.infer<typeof dispatchedTask>;
/** How a dependency ended, as its dependent's handler sees it (ctx.dependencies). */
export type DependencyOutcome = NonNullable<DispatchedTask["dependencies"]>[string];

export const resultAck = z.object({ task_id: id, fence: z.number().int() });
/** An attempt's latest progress (task_progress, worker -> distributor; src/agents/live/). */
const progressUpdate = z.object({ task_id: id, fence: z.number().int(), progress: json });
/** Cancel the attempts of this task whose fence is below `fence`; `worker`: where it runs, if known. */
const attemptCancel = z.object({ task_id: id, fence: z.number().int(), worker: id.optional() });
export type AttemptCancelWire = z.infer<typeof attemptCancel>;
export type ResultAck = z.infer<typeof resultAck>;

export const agentPayload = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("register_worker"),
    worker_id: id,
    url: z.string().nullable(),
    capacity: z.number().int().positive(),
    /** As on its heartbeats (workerHeartbeat.instance). */
    instance: z.string().max(64).optional().catch(undefined),
    /** As on its heartbeats: jobs sent before its first one are held to it. Absent from an older release's. */
    max_body_bytes: maxBodyBytes,
  }),
  z.object({
    kind: z.literal("register_distributor"),
    distributor_id: id,
    url: z.string().nullable(),
    max_body_bytes: maxBodyBytes, // as on its heartbeats
  }),
  workerHeartbeat,
  distributorHeartbeat,
  z.object({
    kind: z.literal("execute_tasks"),
    tasks: z.array(dispatchedTask),
    /** Results the worker may forget, riding along instead of a results_ack of their own. */
    acks: z.array(resultAck).optional(),
  }),
  z.object({ kind: z.literal("task_results"), results: z.array(attemptOutcome) }),
  z.object({ kind: z.literal("results_ack"), acks: z.array(resultAck) }),
  z.object({
    kind: z.literal("assign_tasks"),
    tasks: z.array(taskDictSchema),
    traces: traceMap,
    /** Where the placing coordinator listens, when in another process: it is told of the tasks' end. */
    url: z.string().max(2000).optional(),
  }),
  z.object({
    kind: z.literal("task_terminal"),
    spawns: spawnsList,
    tasks: z.array(taskDictSchema),
    traces: traceMap,
    via_groups: viaGroups,
  }),
  z.object({ kind: z.literal("checkpoint"), task_id: id, fence: z.number().int(), checkpoint: json }),
  z.object({ kind: z.literal("task_progress"), updates: z.array(progressUpdate).max(10_000) }),
  z.object({ kind: z.literal("cancel_attempts"), tasks: z.array(attemptCancel).max(10_000) }),
  /**
   * A REQUEST: tasks held by the sender, of a type none of its live workers runs; the coordinator
   * moves those a distributor it knows runs (src/agents/coordinator/type-hand-back.ts) and
   * answers with their ids (`{ moved }`); the sender keeps the rest, as before.
   */
  z.object({ kind: z.literal("hand_back"), tasks: z.array(taskDictSchema).min(1).max(10_000) }),
  /** A REQUEST: the results of these dependencies of the attempt, in replies of at most `max_bytes`. */
  z.object({
    kind: z.literal("fetch_dependencies"),
    task_id: id,
    fence: z.number().int(),
    ids: z.array(id).min(1).max(10_000),
    max_bytes: z.number().int().positive().optional(),
  }),
]);
export type AgentPayload = z.infer<typeof agentPayload>;
export type PayloadOf<K extends AgentPayload["kind"]> = Extract<AgentPayload, { kind: K }>;
