/** What the coordinator's core asks of the other coordinators on its store (see CoordinatorCluster). */
export type ClusterSeam = {
  /** The owner lease value of the task's shard, held here ("" for no fence); null when another coordinator owns it. */
  ownerValue(taskId: string): string | null;
  /** The task shards owned here, in order; null for every shard (a coordinator alone, no leases). */
  owned(): number[] | null;
  /** Asks the owner of the task's shard to place it. */
  handOff(taskId: string): void;
  /**
   * Another coordinator that owns the task's shard now, as its last view said (id, and the URL
   * it listens on: null in-process); undefined when none is known (this one, or none now).
   */
  ownerOf(taskId: string): { id: string; url: string | null } | undefined;
  /** A task accepted here (its waiters are most likely here too: its end needs no news). */
  accepted(taskId: string): void;
  /**
   * A task ended; `firstHand`: this coordinator heard it first (its distributor's report, its
   * abandon), and tells the others that may wait for it: every one when another coordinator
   * accepted the task, else only one that asked to watch it.
   */
  ended(taskId: string, firstHand: boolean): void;
  /**
   * Asks the others to tell this coordinator when the task ends (a waiter here for a task it
   * does not hold open); resolves once asked. Undefined alone: nobody to ask.
   */
  watch(taskId: string): Promise<void> | undefined;
  /**
   * No other coordinator was seen alive on this store since this one started: an end read by a
   * waiter here can have been counted by nobody else (one that died may have counted it).
   */
  alone(): boolean;
};

/** A coordinator alone: it owns every shard, with no fence, and has nobody to tell. */
export const SOLE: ClusterSeam = {
  ownerValue: () => "",
  owned: () => null,
  handOff: () => {},
  ownerOf: () => undefined,
  accepted: () => {},
  ended: () => {},
  watch: () => undefined,
  alone: () => true,
};
