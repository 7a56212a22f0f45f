import { Annotation } from "@langchain/langgraph/web";
import type { JsonObject } from "../json.js";
import {
  appendHistory,
  type HistoryEntry,
  mergeObjects,
  mergeTasks,
  mergeWorkers,
  type TaskChange,
  type WorkerChange,
} from "./reducers.js";
import type { AgentStatus } from "./status.js";
import type { Task } from "./task.js";

/**
 * The agent state models as LangGraph state. The channel names are the seed's dict keys, so a
 * graph over this state reads like the JSON it persists. LocalAgentState / SharedAgentState
 * hold a value of this shape and apply updates with the same reducers.
 */
export const LocalStateAnnotation = Annotation.Root({
  agent_id: Annotation<string>,
  status: Annotation<AgentStatus>,
  local_tasks: Annotation<Map<string, Task>, TaskChange | readonly TaskChange[]>({
    reducer: mergeTasks,
    default: () => new Map(),
  }),
  last_heartbeat: Annotation<string>,
  local_vars: Annotation<JsonObject>({ reducer: mergeObjects, default: () => ({}) }),
  history: Annotation<HistoryEntry[], HistoryEntry | readonly HistoryEntry[]>({
    reducer: appendHistory(),
    default: () => [],
  }),
  metadata: Annotation<JsonObject>({ reducer: mergeObjects, default: () => ({}) }),
});

export type LocalStateValues = typeof LocalStateAnnotation.State;
export type LocalStateUpdate = typeof LocalStateAnnotation.Update;

/** The lease as SharedAgentState records it (the fencing token lives in the store's lease). */
export type SharedLease = { owner: string; acquired_at: string; expires_at: string };

export const SharedStateAnnotation = Annotation.Root({
  coordinator_version: Annotation<string>,
  distributor_version: Annotation<string>,
  status: Annotation<AgentStatus>,
  assigned_workers: Annotation<string[], WorkerChange | readonly WorkerChange[]>({
    reducer: mergeWorkers,
    default: () => [],
  }),
  tasks: Annotation<Map<string, Task>, TaskChange | readonly TaskChange[]>({
    reducer: mergeTasks,
    default: () => new Map(),
  }),
  lease: Annotation<SharedLease | null>,
});

export type SharedStateValues = typeof SharedStateAnnotation.State;
export type SharedStateUpdate = typeof SharedStateAnnotation.Update;
