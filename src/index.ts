// The public API of Triad: every name a program imports from "triad", and nothing else.

export * from "./agents/index.js";
export {
  A2AAgentHandler,
  type A2AAgentHandlerOptions,
  a2aAgentHandler,
  type RemoteAgentInfo,
  type RemoteInput,
} from "./agents/worker/remote/index.js";
export { isTriadError, TriadError } from "./core/errors.js";
export type { JsonObject, JsonPrimitive, JsonValue } from "./core/json.js";
export * from "./core/messaging/index.js";
export * from "./core/state/index.js";
export * from "./core/store/index.js";
