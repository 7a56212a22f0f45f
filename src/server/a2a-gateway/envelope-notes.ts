import { createHash } from "node:crypto";
import type { CoordinatorAgent } from "../../agents/index.js";
import { defineScript, type ScriptReply } from "../../core/store/index.js";
import { contextDigest } from "./rejected-tasks.js";

/** One hash tag: the notes and their save times are read and trimmed by one script. */
const NOTES_KEY = "{a2a-envelopes}:notes";
const SAVED_KEY = "{a2a-envelopes}:saved";
/** Ids read per call (a script's arguments stay well under Lua's unpack limit). */
const READ_CHUNK = 1000;
/** Old notes removed per save at most: the script stays short however many expired at once. */
const TRIM_PER_SAVE = 100;

/** What ListTasks needs of a task's envelope to filter by it: whose it is, and its context. */
export type EnvelopeNote = { tenant: string; context: string };

/**
 * A small note per A2A envelope (TriadTaskStore): the digest of the tenant the task belongs to
 * ("" for none) and of its context id ("" for none), in one hash every coordinator shares.
 * ListTasks reads the notes of every task it lists in one call per 1,000, and reads envelopes
 * (which carry the whole conversation) only for the page it answers, where it read one per
 * listed task for its tenant filter. A task without a note (an envelope written before notes
 * existed, or by a coordinator of an earlier release, or no envelope at all: a REST task) is
 * read as before, from its envelope, so the filter never rests on a missing note. Notes live as
 * long as their envelopes (the ledger's retention from the last save).
 */
export class EnvelopeNotes {
  constructor(private readonly coordinator: Pick<CoordinatorAgent, "store" | "ledger">) {}

  async note(taskId: string, tenant: string, contextId: string | undefined): Promise<void> {
    const retentionMs = this.coordinator.ledger.retentionMs;
    const now = Date.now();
    await this.coordinator.store.runScript(
      noteEnvelope,
      [NOTES_KEY, SAVED_KEY],
      [
        taskId,
        JSON.stringify([tenantDigest(tenant), contextId ? contextDigest(contextId) : ""]),
        now,
        now - retentionMs,
        TRIM_PER_SAVE,
        Math.max(1, retentionMs),
      ],
    );
  }

  /** The notes of the tasks named, by id; a task with none is left out. */
  async read(taskIds: string[]): Promise<Map<string, EnvelopeNote>> {
    const notes = new Map<string, EnvelopeNote>();
    for (let i = 0; i < taskIds.length; i += READ_CHUNK) {
      const ids = taskIds.slice(i, i + READ_CHUNK);
      const reply = await this.coordinator.store.runScript(readEnvelopeNotes, [NOTES_KEY], ids);
      const values = Array.isArray(reply) ? reply : [];
      for (const [k, id] of ids.entries()) {
        const note = parseNote(values[k]);
        if (note !== null) notes.set(id, note);
      }
    }
    return notes;
  }
}

/** A tenant as a note keeps it: "" for none, else a digest (a client may make a tenant as long as it likes). */
export function tenantDigest(tenant: string): string {
  return tenant === "" ? "" : createHash("sha256").update(tenant).digest("base64url");
}

function parseNote(value: ScriptReply | undefined): EnvelopeNote | null {
  if (typeof value !== "string") return null;
  try {
    const parsed: unknown = JSON.parse(value);
    if (Array.isArray(parsed) && parsed.length === 2 && parsed.every((v) => typeof v === "string"))
      return { tenant: parsed[0] as string, context: parsed[1] as string };
  } catch {
    // not a note this class wrote: read as none
  }
  return null;
}

export const noteEnvelope = defineScript(
  import.meta.url,
  "note-envelope-2.lua",
  (db, [notes, saved], args) => {
    const [id, note, now, oldest, most, ttl] = args as [string, string, string, string, string, string];
    db.hset(notes!, { [id]: note });
    db.zadd(saved!, Number(now), id);
    const old = db
      .zrangeByScore(saved!, Number(oldest))
      .filter(([, s]) => s < Number(oldest))
      .slice(0, Number(most));
    for (const [m] of old) {
      db.hdel(notes!, m);
      db.zrem(saved!, m);
    }
    db.pexpire(notes!, Number(ttl));
    db.pexpire(saved!, Number(ttl));
    return old.length;
  },
);

export const readEnvelopeNotes = defineScript(
  import.meta.url,
  "read-envelope-notes-1.lua",
  (db, [notes], args) => args.map((id) => db.hget(notes!, id)),
);
