import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { TaskHandler } from "../agents/index.js";
import type { Task } from "../core/state/index.js";
import { UsageError } from "./options.js";

/** Loads a user's handlers module: a path (relative to the working directory) or a package name. */
export async function loadHandlers(spec: string): Promise<Record<string, TaskHandler<Task>>> {
  const target =
    spec.startsWith(".") || isAbsolute(spec) || /\.[cm]?[jt]s$/.test(spec)
      ? pathToFileURL(resolve(spec)).href
      : spec;
  let mod: { default?: unknown };
  try {
    mod = (await import(target)) as { default?: unknown };
  } catch (err) {
    throw new UsageError(`cannot load handlers module ${spec}: ${(err as Error).message}`);
  }
  const handlers = mod.default;
  if (typeof handlers !== "object" || handlers === null || Array.isArray(handlers)) {
    throw new UsageError(`handlers module ${spec} must export default an object of task type -> handler`);
  }
  for (const [type, h] of Object.entries(handlers)) {
    const ok =
      typeof h === "function" ||
      (typeof h === "object" && h !== null && typeof (h as { invoke?: unknown }).invoke === "function");
    if (!ok)
      throw new UsageError(
        `handlers module ${spec}: "${type}" is neither a function nor a graph with invoke()`,
      );
  }
  return handlers as Record<string, TaskHandler<Task>>;
}
