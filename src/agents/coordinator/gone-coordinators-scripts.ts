import { defineScript, type MemoryKeyspace } from "../../core/store/index.js";

type Kept = [id: string, entry: string, at: number];

/** The twin of scripts/gone-coordinators-1.lua for the embedded engine, line for line. */
export const goneCoordinatorsScript = defineScript(
  import.meta.url,
  "gone-coordinators-1.lua",
  (db, [key], [op, ...args]) => {
    const now = db.timeMs();
    if (op === "alive") {
      let n = 0;
      for (const id of args) n += db.hdel(key!, id);
      return n;
    }
    const retention = Number(args[0]);
    if (op === "read") {
      const out: Array<number | string> = [now];
      for (const [id, entry] of prune(db, key!, now, retention)) out.push(id, entry);
      return out;
    }
    const [, max, id, stoppedArg, view] = args as [string, string, string, string, string];
    let at = now;
    let stopped = stoppedArg === "1";
    const raw = db.hget(key!, id);
    if (raw !== null) {
      const old = decode(raw);
      const oldAt = atOf(old);
      if (oldAt !== null && now - oldAt <= retention) {
        at = oldAt;
        stopped = stopped || (old as { stopped?: unknown }).stopped === true;
      }
    }
    db.hset(key!, { [id]: `{"at":${Math.trunc(at)},"stopped":${stopped},"view":${view}}` });
    const kept = prune(db, key!, now, retention);
    for (let i = 0; i < kept.length - Number(max); i++) db.hdel(key!, kept[i]![0]);
    if (db.pttl(key!) < retention) db.pexpire(key!, retention);
    return 1;
  },
);

function decode(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return null;
  }
}

function atOf(entry: unknown): number | null {
  if (entry === null || typeof entry !== "object" || Array.isArray(entry)) return null;
  const at = (entry as { at?: unknown }).at;
  return typeof at === "number" ? at : null;
}

/** Drops the entries older than the retention (or unreadable); returns the others, oldest first. */
function prune(db: MemoryKeyspace, key: string, now: number, retention: number): Kept[] {
  const kept: Kept[] = [];
  for (const [id, entry] of Object.entries(db.hgetall(key))) {
    const at = atOf(decode(entry));
    if (at === null || now - at > retention) db.hdel(key, id);
    else kept.push([id, entry, at]);
  }
  kept.sort((a, b) => a[2] - b[2] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return kept;
}
