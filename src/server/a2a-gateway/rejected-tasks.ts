import { createHash } from "node:crypto";
import type { CoordinatorAgent } from "../../agents/index.js";
import { defineScript, type ScriptReply } from "../../core/store/index.js";

/** Refused tasks listed at most: the newest this many; older ones are only found by id. */
export const MAX_REJECTED_LISTED = 1000;
/** The index of refused tasks, a sorted set by status time. */
const INDEX_KEY = "a2a:rejected";

/** One refused task as the index has it. */
export type RejectedRow = {
  id: string;
  /** Its status time (ISO 8601, as the other tasks' times are). */
  at: string;
  /** contextDigest() of its context id: the filter compares digests, then the envelope's context id. */
  context: string;
};

/**
 * The tasks the gateway refused before they became Triad tasks (REJECTED): their whole A2A
 * task is the envelope TriadTaskStore keeps, and no Triad list knows them, so ListTasks reads
 * them from this index. It holds their ids, status times and context digests (about 100 bytes
 * each), the newest MAX_REJECTED_LISTED, none older than the ledger's retention (the envelope's
 * own lifetime), in the store that every coordinator of the cluster shares.
 */
export class RejectedTasks {
  constructor(
    private readonly coordinator: Pick<CoordinatorAgent, "store" | "ledger">,
    /** Most refused tasks kept in the index (the newest). */
    private readonly most = MAX_REJECTED_LISTED,
  ) {}

  async note(id: string, contextId: string, at: string): Promise<void> {
    const atMs = Date.parse(at);
    if (!Number.isFinite(atMs)) return;
    const retentionMs = this.coordinator.ledger.retentionMs;
    await this.coordinator.store.runScript(
      recordRejected,
      [INDEX_KEY],
      [
        JSON.stringify([id, contextDigest(contextId)]),
        atMs,
        Date.now() - retentionMs,
        this.most,
        Math.max(1, retentionMs),
      ],
    );
  }

  /** The refused tasks still kept, in no particular order. */
  async rows(): Promise<RejectedRow[]> {
    const oldest = Date.now() - this.coordinator.ledger.retentionMs;
    const reply = await this.coordinator.store.runScript(readRejected, [INDEX_KEY], [oldest]);
    const flat = Array.isArray(reply) ? reply : [];
    const rows: RejectedRow[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const row = parseRow(flat[i], flat[i + 1]);
      if (row !== null) rows.push(row);
    }
    return rows;
  }
}

/** A short, fixed-size stand-in for a context id (which a client may make as long as it likes). */
export function contextDigest(contextId: string): string {
  return createHash("sha256").update(contextId).digest("base64url").slice(0, 16);
}

function parseRow(member: ScriptReply | undefined, score: ScriptReply | undefined): RejectedRow | null {
  if (typeof member !== "string") return null;
  const atMs = Number(score);
  if (!Number.isFinite(atMs)) return null;
  try {
    const value: unknown = JSON.parse(member);
    if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === "string")) {
      return { id: value[0] as string, context: value[1] as string, at: new Date(atMs).toISOString() };
    }
  } catch {
    // not a member this index wrote: left out
  }
  return null;
}

const recordRejected = defineScript(import.meta.url, "record-rejected-1.lua", (db, [index], args) => {
  const [member, score, oldest, most, ttl] = args as [string, string, string, string, string];
  const key = index!;
  db.zadd(key, Number(score), member);
  for (const [m, s] of db.zrangeByScore(key, Number(oldest))) if (s < Number(oldest)) db.zrem(key, m);
  const extra = db.zcard(key) - Number(most);
  if (extra > 0) for (const [m] of db.zrangeByScore(key, Number.POSITIVE_INFINITY, extra)) db.zrem(key, m);
  db.pexpire(key, Number(ttl));
  return db.zcard(key);
});

/** Exported for the tests: the index as it stands, by oldest status time. */
export const readRejected = defineScript(import.meta.url, "read-rejected-1.lua", (db, [index], args) => {
  const oldest = Number(args[0]);
  const out: ScriptReply[] = [];
  for (const [member, score] of db.zrangeByScore(index!, Number.POSITIVE_INFINITY)) {
    if (score >= oldest) out.push(member, String(score));
  }
  return out;
});
