import type { JsonValue } from "../../core/json.js";
import type { RedisClient } from "../../core/store/index.js";
import type { TaskLedger } from "../ledger/task-ledger.js";
import type { LimitGate } from "../limits/limit-gate.js";
import type { AgentPayload, AttemptOutcomeWire, DispatchedTask, TaskDict } from "../protocol.js";
import type { Timing } from "../timing.js";
import type { DistributorEvents } from "./distributor-events.js";
import type { AskHandBack } from "./hand-back-asks.js";

export type DistributorCoreOptions = {
  distributorId: string;
  coordinatorId: string;
  store: RedisClient;
  ledger: TaskLedger;
  timing: Timing;
  /** Default time a worker gives one attempt. */
  taskTimeoutMs: number;
  defaultWorkerCapacity: number;
  reconcileIntervalMs: number;
  send: (recipient: string, payload: AgentPayload) => Promise<void>;
  /** Asks a coordinator to move tasks none of the live workers here runs (./hand-back-asks.ts): the ids moved. */
  handBack?: AskHandBack;
  /** The stored checkpoint of a task's graph, sent along when an attempt is retried elsewhere. */
  checkpointFor?: (taskId: string, fence: number) => Promise<JsonValue | null>;
  /** The outcomes of a task's dependencies, sent along with each attempt (src/agents/workflow/). */
  dependenciesFor?: (task: TaskDict) => Promise<DispatchedTask["dependencies"]>;
  /** Runs before a batch of outcomes that carry progress is committed: writes it (src/agents/live/). */
  beforeCommit?: (outcomes: AttemptOutcomeWire[]) => Promise<void>;
  /** A checkpoint of this task being stored now, if one is: its outcome's commit waits for it. */
  checkpointStoring?: (taskId: string) => Promise<void> | undefined;
  /** Per-task-type limits (src/agents/limits/): a task of a limited type starts only with a slot. */
  limits?: LimitGate;
  events?: DistributorEvents;
};
