import { isTriadError } from "../core/errors.js";
import { checkSharedSecret } from "../core/messaging/index.js";
import { UsageError } from "./options.js";

/** The shared A2A secret of a multi-process deployment: from the environment only, never argv. */
export function requireSecret(env: NodeJS.ProcessEnv = process.env): string {
  const secret = env.TRIAD_SECRET;
  if (!secret) {
    throw new UsageError(
      "TRIAD_SECRET is not set: every process of a deployment signs its messages with this shared secret; make one with: openssl rand -hex 32",
    );
  }
  return checkedSecret(secret);
}

/**
 * TRIAD_SECRET when it is set (`triad up` makes a secret of its own without it), refused as a
 * usage error when too short: a process that would sign with it does not start.
 */
export function checkEnvSecret(env: NodeJS.ProcessEnv = process.env): void {
  if (env.TRIAD_SECRET) checkedSecret(env.TRIAD_SECRET);
}

/** The secret, or a usage error (exit 2) with the core's ERR_SECRET_TOO_SHORT and its message. */
function checkedSecret(secret: string): string {
  try {
    return checkSharedSecret(secret, "TRIAD_SECRET");
  } catch (err) {
    if (isTriadError(err, "ERR_SECRET_TOO_SHORT")) throw new UsageError(err.message, err.code);
    throw err;
  }
}
