import { readFileSync } from "node:fs";
import type { MemoryKeyspace } from "../../store/engines/memory/keyspace.js";
import { defineScript, withPrelude } from "../../store/script.js";

/** StoreCheckpointSaver's scripts (scripts/*.lua), each with its twin for the memory:// engine. */

/** The fence check shared by the writers: false when `token` is older than the fence. */
function passFence(db: MemoryKeyspace, fence: string, token: string): boolean {
  if (token === "") return true;
  const current = Number(db.get(fence) ?? "0");
  if (Number(token) < current) return false;
  if (Number(token) > current) db.set(fence, token);
  return true;
}

/** Byte order of the UTF-8 forms, as the Lua twin compares ids. */
function later(a: string, b: string): boolean {
  return Buffer.compare(Buffer.from(a), Buffer.from(b)) > 0;
}

export const putCheckpoint = defineScript(
  import.meta.url,
  "put-checkpoint-7.lua",
  (db, keys, [token, ttl, ns, checkpointId, checkpoint, meta, threadId, channels, ...blobs]) => {
    const [threads, fence, namespaces, index, head, record, values] = keys as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    if (!passFence(db, fence, token!)) return 0;
    db.sadd(namespaces, ns!);
    db.hset(index, { [checkpointId!]: meta! });
    db.set(head, checkpointId!);
    db.hset(record, { checkpoint: checkpoint! });
    if (channels !== "") db.hset(record, { values: channels! });
    for (let i = 0; i + 1 < blobs.length; i += 2) db.hset(values, { [blobs[i]!]: blobs[i + 1]! });
    if (ttl === "") {
      db.hset(threads, { [threadId!]: "0" });
      const token = db.get(fence);
      if (token !== null) db.set(fence, token); // PERSIST: a fence raised before may have had a TTL
    } else {
      for (const key of keys.slice(1)) db.pexpire(key, Number(ttl));
      db.hset(threads, { [threadId!]: String(db.timeMs() + Number(ttl)) });
    }
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

export const readCheckpoint = defineScript(
  import.meta.url,
  "read-checkpoint-1.lua",
  (db, [index], [which, wanted]) => {
    const base = index!.slice(0, -":index".length);
    let id: string | null = null;
    if (which === "id") id = wanted!;
    else if (which === "head") id = db.get(`${base}:head`);
    else for (const field of Object.keys(db.hgetall(index!))) if (id === null || later(field, id)) id = field;
    if (id === null) return null;
    const meta = db.hget(index!, id);
    if (meta === null) return null;
    const record = db.hgetall(`${base}:c:${id}`);
    const values: string[] = [];
    if (Object.hasOwn(record, "values")) {
      for (const field of JSON.parse(record.values!) as string[]) {
        const value = db.hget(`${base}:values`, field);
        if (value !== null) values.push(field, value);
      }
    }
    return [id, meta, Object.entries(record).flat(), values];
  },
);

/** Lua's thread_keys (scripts/thread-keys.lua), prepended to the scripts that walk a whole thread. */
const THREAD_KEYS_LUA = readFileSync(new URL("./scripts/thread-keys.lua", import.meta.url), "utf8");

/** thread_keys' twin: every key of the thread whose namespaces key and fence are given. */
function threadKeys(db: MemoryKeyspace, namespaces: string, fence: string): string[] {
  const base = namespaces.slice(0, -":namespaces".length);
  const out: string[] = [];
  for (const ns of db.smembers(namespaces)) {
    const space = `${base}:n:${ns}`;
    for (const id of Object.keys(db.hgetall(`${space}:index`))) out.push(`${space}:c:${id}`);
    out.push(`${space}:index`, `${space}:head`, `${space}:values`);
  }
  out.push(namespaces, fence);
  return out;
}

export const deleteThread = withPrelude(
  defineScript(import.meta.url, "delete-thread-3.lua", (db, [threads, namespaces, fence], [threadId]) => {
    let deleted = 0;
    for (const key of threadKeys(db, namespaces!, fence!)) deleted += db.del(key);
    db.hdel(threads!, threadId!);
    return deleted;
  }),
  THREAD_KEYS_LUA,
);

export const expireThread = withPrelude(
  defineScript(
    import.meta.url,
    "expire-thread-3.lua",
    (db, [threads, namespaces, fence], [threadId, ttl, only]) => {
      if (db.hget(threads!, threadId!) !== "0") return 0;
      if (only === "fenced" && !db.exists(fence!)) return 0;
      const ms = Number(ttl);
      const keys = threadKeys(db, namespaces!, fence!);
      for (const key of keys) db.pexpire(key, ms);
      db.hset(threads!, { [threadId!]: String(db.timeMs() + ms) });
      // Not in the Lua: the embedded store keeps the threads of at most memoryMaxFinished ended
      // tasks, as it keeps their records (MemoryKeyspace.retireGroup); the oldest goes first.
      db.retireGroup(`${threads}\u0000${threadId}`, () => {
        for (const key of keys) if (db.pttl(key) >= 0) db.del(key);
        if (Number(db.hget(threads!, threadId!) ?? "0") > 0) db.hdel(threads!, threadId!);
      });
      return 1;
    },
  ),
  THREAD_KEYS_LUA,
);

export const forgetThreads = defineScript(import.meta.url, "forget-threads-1.lua", (db, [threads], ids) => {
  const now = db.timeMs();
  let dropped = 0;
  for (const id of ids) {
    const expires = Number(db.hget(threads!, id) ?? "0");
    if (expires > 0 && expires <= now) dropped += db.hdel(threads!, id);
  }
  return dropped;
});

export const raiseFence = defineScript(
  import.meta.url,
  "raise-fence-2.lua",
  (db, [fence, threads], [token, threadId, ttl]) => {
    if (!passFence(db, fence!, token!)) return 0;
    if (ttl !== "" && db.hget(threads!, threadId!) === null) db.pexpire(fence!, Number(ttl));
    return 1;
  },
);

export const readHash = defineScript(import.meta.url, "read-hash-1.lua", (db, [key]) =>
  Object.entries(db.hgetall(key!)).flat(),
);

export const readNamespaces = defineScript(import.meta.url, "read-namespaces-1.lua", (db, [key]) =>
  db.smembers(key!),
);
