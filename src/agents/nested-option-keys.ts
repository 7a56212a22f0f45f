import { checkKnownKeys, type KeysOf } from "../core/known-keys.js";
import { type OptionKind, optionsObject } from "../core/option-kinds.js";
import { checkedId } from "./agent-options.js";
import type { CoordinatorAgentOptions } from "./coordinator/coordinator-agent.js";
import type { CoordinatorCoreOptions } from "./coordinator/coordinator-core.js";
import type { CoordinatorAddress } from "./distributor/coordinator-failover.js";
import type { DistributorAgentOptions } from "./distributor/distributor-agent.js";
import type { DistributorEvents } from "./distributor/distributor-events.js";
import type { CoordinatorLimitsOptions } from "./limits/coordinator-limits.js";
import type { CoordinatorSchedulesOptions } from "./schedules/coordinator-schedules.js";

/**
 * The keys of the agents' object options, by path (agentBaseOptions checks them): a misspelt
 * event (`events.abandonned`) or limit setting was ignored, and a listener of another type
 * (`events.terminal: true`) was called and threw inside the agent.
 */

const COORDINATOR_EVENTS: KeysOf<NonNullable<CoordinatorCoreOptions["events"]>> = {
  submitted: "function",
  reassigned: "function",
  distributorDead: "function",
  terminal: "function",
  endedElsewhere: "function",
  abandoned: "function",
  inputGiven: "function",
  unsendable: "function",
  foreignReport: "function",
  notRecorded: "function",
  unplacedFound: "function",
};
const COORDINATOR_LIMITS: KeysOf<CoordinatorLimitsOptions> = {
  initial: "object",
  sweepIntervalMs: "number",
  maxLimits: "number",
};
const SCHEDULES: KeysOf<CoordinatorSchedulesOptions> = {
  pollMs: "number",
  events: "object",
  maxSchedules: "number",
};
const SCHEDULE_EVENTS: KeysOf<NonNullable<CoordinatorSchedulesOptions["events"]>> = {
  fired: "function",
  failed: "function",
};

export const COORDINATOR_NESTED_KEYS: Record<string, Record<string, OptionKind>> &
  Partial<Record<keyof CoordinatorAgentOptions, Record<string, OptionKind>>> = {
  events: COORDINATOR_EVENTS,
  limits: COORDINATOR_LIMITS,
  schedules: SCHEDULES,
  "schedules.events": SCHEDULE_EVENTS,
};

const DISTRIBUTOR_EVENTS: KeysOf<DistributorEvents> = {
  staleResult: "function",
  foreignResult: "function",
  workerDead: "function",
  committed: "function",
  retried: "function",
  unsendable: "function",
  incompleteJob: "function",
  passOverdue: "function",
  attemptDropped: "function",
};
const DISTRIBUTOR_LIMITS: KeysOf<NonNullable<DistributorAgentOptions["limits"]>> = {
  refreshMs: "number",
  fullRetryMs: "number",
  limitedTypesChanged: "function",
};

export const DISTRIBUTOR_NESTED_KEYS: Record<string, Record<string, OptionKind>> = {
  events: DISTRIBUTOR_EVENTS,
  limits: DISTRIBUTOR_LIMITS,
};

/** One of DistributorAgentOptions.coordinators. */
const COORDINATOR_ADDRESS_KEYS: KeysOf<CoordinatorAddress> = { id: "string", url: "string" };

/** DistributorAgentOptions.coordinators, each an address `{ id, url? }` (`[5]` crashed at the first heartbeat). */
export function checkedCoordinators(
  what: string,
  list: CoordinatorAddress[] | undefined,
): CoordinatorAddress[] {
  return (list ?? []).map((address, i) => {
    optionsObject(`${what}: coordinators[${i}]`, address);
    checkKnownKeys(what, address, COORDINATOR_ADDRESS_KEYS, `coordinators[${i}].`);
    checkedId(`coordinators[${i}].id`, address.id);
    return address;
  });
}
