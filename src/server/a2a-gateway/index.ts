// The Agent2Agent protocol gateway: any A2A client can hand work to Triad's coordinator.
export {
  A2A_CARD_PATH,
  A2A_JSONRPC_PATH,
  type A2AGateway,
  type A2AGatewayOptions,
  createA2AGateway,
  type GatewayRoute,
} from "./gateway.js";
export { RESULT_ARTIFACT_ID } from "./task-view.js";
