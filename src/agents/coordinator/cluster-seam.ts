/** What the coordinator's core asks of the other coordinators on its store (see CoordinatorCluster). */
export type ClusterSeam = {
  /** The owner lease value of the task's shard, held here ("" for no fence); null when another coordinator owns it. */
  ownerValue(taskId: string): string | null;
  /** Asks the owner of the task's shard to place it. */
  handOff(taskId: string): void;
  /** Tells the others that a task ended here, for their waiters. */
  ended(taskId: string): void;
  /** No other coordinator is alive on this store. */
  alone(): boolean;
};

/** A coordinator alone: it owns every shard, with no fence, and has nobody to tell. */
export const SOLE: ClusterSeam = {
  ownerValue: () => "",
  handOff: () => {},
  ended: () => {},
  alone: () => true,
};
