import { TriadError } from "../../../core/errors.js";
import { checkKnownKeys, type KeysOf } from "../../../core/known-keys.js";
import { optionsObject } from "../../../core/option-kinds.js";
import type { A2AAgentHandlerOptions } from "./a2a-agent-handler.js";
import { RemoteAgent } from "./remote-agent.js";

/** Every a2aAgentHandler option and its type: a misspelt one (`tokn`) was ignored, and the default used. */
const HANDLER_KEYS: KeysOf<A2AAgentHandlerOptions> = {
  token: "string",
  concurrency: "number",
  streaming: "boolean",
  pollIntervalMs: "number",
  maxCardRetryMs: "number",
  reconnectWindowMs: "number",
  logger: "object",
  skill: "string",
  toMessage: "function",
  toResult: "function",
  agent: "object",
};

/** Refuses options of a2aAgentHandler(url, options) that are not an object, or of an unknown key or type. */
export function checkHandlerOptions(url: string, options: A2AAgentHandlerOptions): void {
  const what = `a2aAgentHandler(${JSON.stringify(url)})`;
  optionsObject(what, options);
  checkKnownKeys(what, options, HANDLER_KEYS);
  // {} was taken as the agent, and every task failed calling a method it does not have.
  if (options.agent !== undefined && !(options.agent instanceof RemoteAgent))
    throw new TriadError("ERR_INVALID_CONFIG", `${what}: option agent must be a RemoteAgent`, {
      option: "agent",
    });
}
