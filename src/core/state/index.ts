// core/state: the task and agent state models on LangGraph.js, the agents' base class, graph
// task handlers, and the checkpointers that make task graphs durable.
export {
  LocalStateAnnotation,
  type LocalStateUpdate,
  type LocalStateValues,
  type SharedLease,
  SharedStateAnnotation,
  type SharedStateUpdate,
  type SharedStateValues,
} from "./annotations.js";
export {
  type CheckpointSink,
  RelayCheckpointSaver,
  type RelayCheckpointSaverOptions,
} from "./checkpoint/relay-checkpoint-saver.js";
export {
  type ImportOptions,
  StoreCheckpointSaver,
  type StoreCheckpointSaverOptions,
} from "./checkpoint/store-checkpoint-saver.js";
export {
  type CheckpointPutTransfer,
  type CheckpointTransfer,
  type CheckpointWritesTransfer,
  parseCheckpointTransfer,
  type SerializedValue,
  type TransferredWrite,
} from "./checkpoint/transfer.js";
export {
  type GraphTaskHandler,
  type GraphTaskOptions,
  isGraphTaskHandler,
  runGraphTask,
} from "./graph-task.js";
export { InputRequired, isInputRequired } from "./input-required.js";
export { toJsonResult } from "./json-result.js";
export { type AgentReply, LangGraphAgent, type LangGraphAgentOptions } from "./langgraph-agent.js";
export { LocalAgentState, type LocalAgentStateDict, type LocalAgentStateInit } from "./local-agent-state.js";
export {
  MessageAnnotation,
  type MessageNode,
  type MessageState,
  type MessageUpdate,
  UNHANDLED_ROUTE,
} from "./message-graph.js";
export {
  DEFAULT_HISTORY_LIMIT,
  type HistoryEntry,
  type TaskChange,
  type TaskRemoval,
  type WorkerChange,
} from "./reducers.js";
export {
  SharedAgentState,
  type SharedAgentStateDict,
  type SharedAgentStateInit,
} from "./shared-agent-state.js";
export { AgentStatus, isTerminalStatus, TaskStatus, TERMINAL_TASK_STATUSES } from "./status.js";
export { Task, type TaskInit, type TaskUpdates } from "./task.js";
export { MAX_TASK_ID_LENGTH } from "./task-id.js";
export type { TaskDict } from "./task-schema.js";
export { MAX_TASK_TYPE_LENGTH } from "./task-type.js";
export { isUnrecoverable, UnrecoverableError } from "./unrecoverable.js";
