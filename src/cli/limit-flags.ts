import { parseLimitFlag, type TaskTypeLimit } from "../agents/limits/limit-spec.js";
import { isTriadError } from "../core/errors.js";
import { type ParsedOptions, UsageError } from "./options.js";

/** The --limit flags as the coordinator's initial limits; a bad one is a usage error naming it. */
export function limitsFrom(options: ParsedOptions): Record<string, TaskTypeLimit> | undefined {
  const raw = options.limit;
  if (raw === undefined || raw === "") return undefined;
  const out: Record<string, TaskTypeLimit> = {};
  for (const text of String(raw).split(/\s+/).filter(Boolean)) {
    try {
      const { taskType, limit } = parseLimitFlag(text);
      // The second replaced the first without a word: `--limit llm=concurrency:2 --limit
      // llm=rate:5` ran llm at any concurrency.
      if (Object.hasOwn(out, taskType))
        throw new UsageError(
          `--limit ${text}: task type ${JSON.stringify(taskType)} has a --limit already; give its concurrency and rate in one flag (${taskType}=concurrency:N,rate:R)`,
        );
      out[taskType] = limit;
    } catch (err) {
      if (isTriadError(err)) throw new UsageError(err.message);
      throw err;
    }
  }
  return out;
}
