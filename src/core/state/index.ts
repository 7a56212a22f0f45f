// core/state: the task and agent state models on LangGraph.js, the agents' base class, graph
// task handlers, and the checkpointers that make task graphs durable.
export { AgentStatus, TaskStatus, TERMINAL_TASK_STATUSES } from "./status.js";
export { Task, type TaskInit, type TaskUpdates } from "./task.js";
export type { TaskDict } from "./task-schema.js";
