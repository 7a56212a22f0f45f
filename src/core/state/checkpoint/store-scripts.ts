import type { MemoryKeyspace } from "../../store/engines/memory/keyspace.js";
import { defineScript } from "../../store/script.js";

/** StoreCheckpointSaver's scripts (scripts/*.lua), each with its twin for the memory:// engine. */

/** The fence check shared by the writers: false when `token` is older than the fence. */
function passFence(db: MemoryKeyspace, fence: string, token: string): boolean {
  if (token === "") return true;
  const current = Number(db.get(fence) ?? "0");
  if (Number(token) < current) return false;
  if (Number(token) > current) db.set(fence, token);
  return true;
}

export const putCheckpoint = defineScript(
  import.meta.url,
  "put-checkpoint-5.lua",
  (db, keys, [token, ttl, ns, checkpointId, checkpoint, meta]) => {
    const [fence, namespaces, index, head, record] = keys as [string, string, string, string, string];
    if (!passFence(db, fence, token!)) return 0;
    db.sadd(namespaces, ns!);
    db.hset(index, { [checkpointId!]: meta! });
    db.set(head, checkpointId!);
    db.hset(record, { checkpoint: checkpoint!, meta: meta! });
    if (ttl !== "") for (const key of keys) db.pexpire(key, Number(ttl));
    return 1;
  },
);

export const putWrites = defineScript(import.meta.url, "put-writes-2.lua", (db, [fence, record], args) => {
  const [token, ttl] = args as [string, string];
  if (!passFence(db, fence!, token)) return 0;
  for (let i = 2; i + 2 < args.length; i += 3) {
    const field = args[i]!;
    if (args[i + 2] === "1" || db.hget(record!, field) === null) db.hset(record!, { [field]: args[i + 1]! });
  }
  if (ttl !== "") {
    db.pexpire(fence!, Number(ttl));
    db.pexpire(record!, Number(ttl));
  }
  return 1;
});

export const raiseFence = defineScript(import.meta.url, "raise-fence-1.lua", (db, [fence], [token]) =>
  passFence(db, fence!, token!) ? 1 : 0,
);

export const readHead = defineScript(import.meta.url, "read-head-1.lua", (db, [head]) => db.get(head!));

export const readHash = defineScript(import.meta.url, "read-hash-1.lua", (db, [key]) =>
  Object.entries(db.hgetall(key!)).flat(),
);

export const readNamespaces = defineScript(import.meta.url, "read-namespaces-1.lua", (db, [key]) =>
  db.smembers(key!),
);
