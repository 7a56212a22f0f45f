import { TriadError } from "../core/errors.js";
import { duplicateKeyMessage, duplicateKeyPath } from "../core/json-duplicate-key.js";
import { UsageError } from "./options.js";

/**
 * Refuses JSON the user handed the CLI (--payload, --value, --task, a --file of tasks) that
 * names a member twice in one object, as the coordinator refuses such a request body
 * (ERR_DUPLICATE_KEY): JSON.parse keeps the last of `{"a":1,"a":2}`, so the CLI would send one
 * of the two silently. Call it once `text` has parsed. `what` names the input in the error; a
 * flag's mistake is a usage error (exit 2), a file's is bad data (exit 1).
 */
export function refuseDuplicateKeys(text: string, what: string, asUsage = true): void {
  const path = duplicateKeyPath(text);
  if (path === null) return;
  const message = duplicateKeyMessage(path, what);
  throw asUsage ? new UsageError(message, "ERR_DUPLICATE_KEY") : new TriadError("ERR_DUPLICATE_KEY", message);
}
