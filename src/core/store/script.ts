import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { ScriptReply, StoreScript } from "./engine.js";
import type { MemoryKeyspace } from "./engines/memory/keyspace.js";

/**
 * Loads `scripts/<file>` (named `<name>-<numKeys>.lua`, BullMQ style) and pairs it with its
 * embedded-engine twin. `baseUrl` is the import.meta.url of the module that owns the script.
 */
export function defineScript(
  baseUrl: string,
  file: string,
  memory: (db: MemoryKeyspace, keys: string[], args: string[]) => ScriptReply,
): StoreScript {
  const match = /^(.+)-(\d+)\.lua$/.exec(file);
  if (match === null) throw new Error(`script file ${file} must be named <name>-<numKeys>.lua`);
  const lua = readFileSync(new URL(`./scripts/${file}`, baseUrl), "utf8");
  return {
    name: match[1]!,
    numKeys: Number(match[2]),
    lua,
    sha1: createHash("sha1").update(lua).digest("hex"),
    memory,
  };
}

/**
 * `script` with Lua functions defined before its own text (a script cannot import): the
 * functions its text calls, shared by the scripts that need them. The embedded twin is unchanged.
 */
export function withPrelude(script: StoreScript, prelude: string): StoreScript {
  const lua = `${prelude}\n${script.lua}`;
  return { ...script, lua, sha1: createHash("sha1").update(lua).digest("hex") };
}
