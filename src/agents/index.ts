// The three agents and what a program needs to configure and drive them.
export type { AgentA2AConfig } from "./agent-base.js";
export {
  AGENT_ROLES,
  AgentKeyRegistry,
  type AgentKeyRegistryOptions,
  type AgentRole,
  type RegisteredKey,
} from "./agent-key-registry.js";
export {
  CANCELED_BY_CLIENT,
  CoordinatorAgent,
  type CoordinatorAgentOptions,
  type TaskInput,
} from "./coordinator/coordinator-agent.js";
export type { CoordinatorStats } from "./coordinator/coordinator-core.js";
export type { SubmitOutcome } from "./coordinator/submit-outcome.js";
export { DistributorAgent, type DistributorAgentOptions } from "./distributor/distributor-agent.js";
export type { DistributorStats } from "./distributor/distributor-core.js";
export type { CommitVerdict, LedgerEvent, LedgerOptions, TaskRecord } from "./ledger/task-ledger.js";
export { TaskLedger } from "./ledger/task-ledger.js";
export {
  type LimitView,
  MAX_LIMIT_CONCURRENCY,
  MAX_LIMIT_RATE,
  MIN_LIMIT_RATE,
  parseLimitFlag,
  type TaskTypeLimit,
} from "./limits/limit-spec.js";
export { MAX_PROGRESS_BYTES } from "./live/progress-value.js";
export { eventIdOf, type TaskChangeType } from "./live/task-changes.js";
export { MAX_PAYLOAD_DEPTH } from "./payload-depth.js";
export type { DependencyOutcome } from "./protocol.js";
export {
  MAX_EVERY_MS,
  MIN_EVERY_MS,
  type ScheduleInput,
  type ScheduleView,
  tickTaskId,
} from "./schedules/schedule-spec.js";
export {
  DEFAULT_RETRY,
  DEFAULT_TIMING,
  type RetryPolicies,
  type RetryPolicy,
  type Timing,
} from "./timing.js";
export { builtinHandlers } from "./worker/handlers/index.js";
export type { FunctionHandler, GraphHandler, HandlerContext, TaskHandler } from "./worker/task-runner.js";
export { WorkerAgent, type WorkerAgentOptions } from "./worker/worker-agent.js";
export { MAX_DEPENDS_ON, MAX_GRAPH_DEPTH, MAX_GRAPH_TASKS } from "./workflow/graph-validation.js";
export type { SpawnInput } from "./workflow/spawn-list.js";
export { MAX_GRAPH_NODES, type TaskGraph } from "./workflow/task-graph.js";
export { MAX_SPAWN_DEPTH } from "./workflow/workflow-keeper.js";
