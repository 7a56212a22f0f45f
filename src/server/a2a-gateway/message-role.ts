import { isPlainObject } from "../../core/json.js";

/** How ROLE_AGENT is written on the wire: its ProtoJSON name, its number, and A2A 0.3's "agent". */
const AGENT_ROLES: ReadonlySet<unknown> = new Set(["ROLE_AGENT", 2, "agent"]);

/**
 * Why a client's message may not be taken for its role, or null. A2A's Role: ROLE_USER is a
 * message "from the client to the server", ROLE_AGENT one "from the server to the client": a
 * client that sends one as the agent speaks for the agent, and the task's history would show the
 * agent saying what the client wrote. The SDK took it as the user's without a word.
 */
export function messageRoleProblem(message: unknown): string | null {
  if (!isPlainObject(message)) return null;
  const role = message.role;
  if (!AGENT_ROLES.has(typeof role === "string" && /^\s*agent\s*$/i.test(role) ? "agent" : role)) return null;
  return `Invalid params: params.message.role is ${JSON.stringify(message.role)}; a client's message is the user's, send "ROLE_USER" (ROLE_AGENT is for the agent's own messages)`;
}
