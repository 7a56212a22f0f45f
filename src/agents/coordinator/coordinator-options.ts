import type { JsonValue } from "../../core/json.js";
import type { RedisClient } from "../../core/store/index.js";
import type { TaskLedger } from "../ledger/task-ledger.js";
import type { AgentPayload, TaskDict } from "../protocol.js";
import type { RetryPolicies, Timing } from "../timing.js";
import type { ClusterSeam } from "./cluster-seam.js";

export type CoordinatorCoreOptions = {
  coordinatorId: string;
  store: RedisClient;
  ledger: TaskLedger;
  timing: Timing;
  /** A task no distributor could take within this long after submission ends abandoned. */
  placementTimeoutMs: number;
  retry: RetryPolicies;
  /** How many finished tasks to keep in memory for waitForTask and the API. */
  recentLimit: number;
  send: (recipient: string, payload: AgentPayload) => Promise<void>;
  /** Where this coordinator listens (another process's distributors report the end of what it placed there). */
  url?: () => string | null;
  /** Several coordinators on one store (coordinator-cluster.ts): shard ownership and news. Unset: this one owns every shard. */
  cluster?: ClusterSeam;
  events?: {
    /** A task was recorded (not a duplicate of one already known). */
    submitted?: (task: TaskDict) => void;
    /** An open task was taken off a distributor declared dead, to be placed again (`task`: its record then). */
    reassigned?: (taskId: string, fromDistributor: string, task: TaskDict) => void;
    distributorDead?: (id: string, tasks: number) => void;
    /** A task ended that this coordinator heard of first-hand (its distributor's report, its own step): counted here. */
    terminal?: (task: TaskDict) => void;
    /**
     * A task held open or waited for here ended, heard of second-hand: another coordinator's
     * news (it took the end step, counts it and fires its `terminal`), or a waiter's read of the
     * store. Not counted here; once per task (among the newest `recentLimit` so heard; a late
     * first-hand report, the distributor's, still fires `terminal`).
     */
    endedElsewhere?: (task: TaskDict) => void;
    abandoned?: (taskId: string, reason: string) => void;
    /** A task waiting for input was given `value` (it is pending again). */
    inputGiven?: (taskId: string, value: JsonValue) => void;
    /** No message could carry the task (it is abandoned with `reason`). */
    unsendable?: (taskId: string, reason: string) => void;
    /** A distributor reported the end of a task it does not hold (`holder` does, as far as the ledger knows); refused. */
    foreignReport?: (task: TaskDict, from: string, holder: string | null) => void;
    /** A submit recorded nothing: the id was already known (a duplicate), or the store failed. */
    notRecorded?: (task: TaskDict) => void;
    /**
     * The unplaced sweep found these open tasks pending on no distributor, waiting on nothing,
     * and not held here for placement (a lost step left them): they are placed now.
     */
    unplacedFound?: (taskIds: string[]) => void;
  };
};

export type CoordinatorStats = {
  submitted: number;
  duplicates: number;
  completed: number;
  failed: number;
  abandoned: number;
  reassigned: number;
  distributorsDead: number;
};
