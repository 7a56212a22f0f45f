import { z } from "zod";
import { TriadError } from "../errors.js";
import { assertJson, type JsonObject, type JsonValue } from "../json.js";
import { AgentStatus } from "./status.js";

/**
 * Schema pieces shared by the state models' fromDict. Each one reports the exact field that
 * was wrong, so a peer that sends a bad dict learns where, not just that.
 */

function refineJson(value: unknown, ctx: z.RefinementCtx): void {
  try {
    assertJson(value, "value");
  } catch (err) {
    // The part that is wrong goes in the issue's path, so the error names it as one path
    // (`invalid task.payload.counts: a Map is not JSON`, not `task.payload: (this field).counts`).
    const where = (err as TriadError).details?.path;
    const message = (err as Error).message;
    if (typeof where !== "string" || !message.startsWith(`${where}: `)) {
      ctx.addIssue({ code: "custom", message });
      return;
    }
    ctx.addIssue({
      code: "custom",
      message: message.slice(where.length + 2),
      path: pathKeys(where.slice(5)),
    });
  }
}

/** `.a[2].b` as ["a", 2, "b"] (a key with a dot in it splits, and reads back the same when joined). */
function pathKeys(path: string): Array<string | number> {
  const keys: Array<string | number> = [];
  for (const m of path.matchAll(/\.([^.[]*)|\[(\d+)\]/g))
    keys.push(m[2] !== undefined ? Number(m[2]) : m[1]!);
  return keys;
}

/** Any JSON value; refused with the path of the offending part (NaN, undefined, a function...). */
export const jsonValue = z.custom<JsonValue>().superRefine(refineJson);

/** A JSON object (not an array, not null). */
export const jsonObject = z
  .record(z.string(), z.unknown())
  .superRefine(refineJson) as unknown as z.ZodType<JsonObject>;

/**
 * An ISO 8601 timestamp. Triad writes UTC with `Z`; offsets and local times written by other
 * peers (Python's naive isoformat()) are accepted and kept as they were, so round trips are exact.
 */
export const isoTimestamp = z.iso.datetime({ offset: true, local: true });

export const agentStatusSchema = z.enum(AgentStatus);

/** Parses `input` or throws a TriadError naming the first bad field, e.g. `local_tasks[2].status`. */
export function parseDict<T>(schema: z.ZodType<T>, input: unknown, code: string, what: string): T {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = formatPath(issue.path);
  const where = field === "" ? what : `${what}.${field}`;
  const detail =
    issue.code === "unrecognized_keys" ? `unknown key(s) ${issue.keys.join(", ")}` : issue.message;
  throw new TriadError(code, `invalid ${where}: ${detail}`, { field, issues: parsed.error.issues.length });
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out;
}

/** Now, as ISO 8601 UTC with milliseconds (what toISOString gives). */
export function utcNow(): string {
  return new Date().toISOString();
}
