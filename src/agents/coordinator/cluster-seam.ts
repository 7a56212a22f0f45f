/** What the coordinator's core asks of the other coordinators on its store (see CoordinatorCluster). */
export type ClusterSeam = {
  /** The owner lease value of the task's shard, held here ("" for no fence); null when another coordinator owns it. */
  ownerValue(taskId: string): string | null;
  /** Asks the owner of the task's shard to place it. */
  handOff(taskId: string): void;
  /** Tells the others that a task ended here, for their waiters. */
  ended(taskId: string): void;
};

/** A coordinator alone: it owns every shard, with no fence, and has nobody to tell. */
export const SOLE: ClusterSeam = { ownerValue: () => "", handOff: () => {}, ended: () => {} };
