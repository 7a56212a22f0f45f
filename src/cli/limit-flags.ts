import { parseLimitFlag, type TaskTypeLimit } from "../agents/limits/limit-spec.js";
import { isTriadError } from "../core/errors.js";
import { type ParsedOptions, UsageError } from "./options.js";

/**
 * The --limit flags as the coordinator's initial limits; a bad one is a usage error naming it,
 * and so are more types than --max-limits allows (the coordinator would refuse the one past it
 * at its start, after connecting).
 */
export function limitsFrom(options: ParsedOptions): Record<string, TaskTypeLimit> | undefined {
  const raw = options.limit;
  if (raw === undefined || raw === "") return undefined;
  const limits = parsedLimits(String(raw));
  const types = Object.keys(limits).length;
  const max = options["max-limits"];
  if (typeof max === "number" && types > max)
    throw new UsageError(
      `--limit gives ${types} task types a limit, more than --max-limits ${max} allows: raise --max-limits or give fewer`,
      "ERR_TOO_MANY_LIMITS",
    );
  return limits;
}

function parsedLimits(raw: string): Record<string, TaskTypeLimit> {
  const out: Record<string, TaskTypeLimit> = {};
  for (const text of raw.split(/\s+/).filter(Boolean)) {
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
