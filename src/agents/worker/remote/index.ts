export { A2AAgentBridge, type A2AAgentBridgeOptions } from "./a2a-agent-bridge.js";
export {
  A2AAgentHandler,
  type A2AAgentHandlerOptions,
  a2aAgentHandler,
  type RemoteInput,
} from "./a2a-agent-handler.js";
export { RemoteAgent, type RemoteAgentInfo, type RemoteAgentOptions } from "./remote-agent.js";
