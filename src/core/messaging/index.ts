// The public names of A2A messaging; src/index.ts re-exports them from the package root.
export {
  AGENT_KEY_ID,
  AgentKeySigner,
  type AgentKeysConfig,
  AgentKeyVerifier,
  ED25519_PREFIX,
  type MessageSigner,
  type MessageVerifier,
  type PublicKeyDirectory,
  parsePrivateKey,
  parsePublicKey,
  StaticKeyDirectory,
} from "./agent-keys.js";
export { canonicalJson } from "./canonical-json.js";
export { A2AClient } from "./client.js";
export { type A2AConfig, MAX_BATCH_MESSAGES } from "./config.js";
export type { MessageHandler } from "./inbox.js";
export { Keyring } from "./keyring.js";
export { PROTOCOL_VERSION } from "./message-shape.js";
export { PAYLOAD_CODEC_HEADER, type PayloadCodec } from "./payload-codec.js";
export {
  type A2AStats,
  type HandlerErrorEvent,
  type HttpStats,
  REJECTION_REASONS,
  type RejectionEvent,
  type RejectionReason,
} from "./rejections.js";
export {
  A2ARouter,
  type A2ARouterOptions,
  type Delivery,
  defaultRouter,
  type RouterEndpoint,
} from "./router.js";
export { checkSharedSecret, MIN_SECRET_BYTES } from "./shared-secret.js";
export { type A2AMessage, type CausalMetadata, MessageType } from "./types.js";
