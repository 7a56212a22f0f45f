import { TriadError } from "../errors.js";

/**
 * Fewest bytes of a deployment's shared secret (TRIAD_SECRET): an HMAC-SHA256 key shorter than
 * 16 bytes can be guessed, and whoever guesses it signs as any agent. 32 random bytes as hex
 * (`openssl rand -hex 32`) is what the README has users make.
 */
export const MIN_SECRET_BYTES = 16;

/**
 * `secret` if it is long enough to sign a deployment's messages; else ERR_SECRET_TOO_SHORT,
 * naming `name` (where it came from, e.g. "TRIAD_SECRET") and how to make one, the secret itself
 * never shown.
 */
export function checkSharedSecret(secret: string, name: string): string {
  const bytes = Buffer.byteLength(secret, "utf8");
  if (bytes >= MIN_SECRET_BYTES) return secret;
  throw new TriadError(
    "ERR_SECRET_TOO_SHORT",
    `${name} is ${bytes} byte${bytes === 1 ? "" : "s"} long: the shared A2A signing secret must be at least ${MIN_SECRET_BYTES} (one that short can be guessed, and then anyone signs as any agent); make one with: openssl rand -hex 32`,
    { minBytes: MIN_SECRET_BYTES, bytes },
  );
}
