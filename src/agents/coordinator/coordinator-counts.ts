import type { RedisClient, ScriptReply } from "../../core/store/index.js";
import { coordinatorCounts } from "./coordinator-counts-scripts.js";

/** Counters by name (CoordinatorStats' fields). */
export type Counts = Record<string, number>;

const KEY = "coordinator-counts";
const RETIRED = "retired";

export type CoordinatorCountsOptions = {
  store: RedisClient;
  coordinatorId: string;
  /** This incarnation's start (its view's started_at): a restart counts under a new field. */
  startedAt: string;
  /** This coordinator's counters since it started. */
  counts: () => Counts;
  /**
   * The counts the store keeps itself (TaskLedger.endCounts): the tasks it recorded (submitted),
   * the ends (completed, failed, abandoned) and the tasks taken off dead distributors
   * (reassigned, reassigned-tasks-1.lua), each once in the step that recorded it. The
   * totals take these, not the coordinators' own counts (a report taken by two, or lost with one
   * that died, was counted twice or never; the submits a coordinator counted and died with before
   * its tick's write were never counted).
   */
  ended?: () => Promise<Counts>;
};

/** The counts the store keeps itself (CoordinatorCountsOptions.ended). */
const STORE_COUNTED = ["submitted", "completed", "failed", "abandoned", "reassigned"] as const;
const ENDS = ["completed", "failed", "abandoned"] as const;

/**
 * The whole cluster's task counts, kept in the store (scripts/coordinator-counts-1.lua), so
 * that a coordinator that dies, stops or restarts does not take its counts out of the totals
 * (GET /agents' cluster_tasks, `triad status`, the dashboard): they never go down while the
 * store keeps its data. Each coordinator writes its own counts every tick and reads the
 * others'; whoever sees a field whose coordinator is no longer alive folds it into "retired".
 * A coordinator whose field was folded while it lived (frozen past its view, say) counts on
 * under a new field from what it wrote last, so nothing is counted twice. The submits and the
 * ends (submitted, completed, failed, abandoned) and the reassignments are not taken from these
 * fields but from the store's own counts (`ended`): counted once each, where the task, its end
 * or its reassignment is recorded, whichever coordinator hears of it, or none; only the
 * coordinator's other counters come from the fields. A field leaves those out: what a field
 * holds of them was counted by an earlier release (which did not count in the store), and is
 * added to the store's counts, so a store upgraded from one goes on from there.
 */
export class CoordinatorCounts {
  /** Bumped when this incarnation's field was folded: the next field. */
  private serial = 0;
  /** The current field was written at least once (else the next write creates it). */
  private created = false;
  /** What earlier fields of this incarnation counted (folded into "retired"). */
  private base: Counts = {};
  /** What the current field holds (counts less base). */
  private written: Counts = {};
  /** Every other field's counts summed, as last read. */
  private others: Counts = {};
  /** The submits and ends the store counted, as last read (null: never read). */
  private ends: Counts | null = null;

  constructor(private readonly o: CoordinatorCountsOptions) {}

  /** The cluster's totals: every other field as last read ("retired" holds this one's earlier fields), plus this one's counts now. */
  totals(): Counts {
    const totals = add({ ...this.others }, minus(this.o.counts(), this.base));
    if (this.ends === null) return totals;
    // The store's counts, plus what fields written by an earlier release (which counted these
    // itself; this one's fields leave them out) counted: a store upgraded from one goes on from
    // there instead of restarting at 0.
    for (const k of STORE_COUNTED) totals[k] = (this.ends[k] ?? 0) + (this.others[k] ?? 0);
    // Every task that ended was recorded: one recorded before the store counted (an earlier
    // release's) counts as submitted once its end is counted, so submitted is never less than the ends.
    totals.submitted = Math.max(
      totals.submitted ?? 0,
      ENDS.reduce((sum, k) => sum + (totals[k] ?? 0), 0),
    );
    return totals;
  }

  /** Writes this coordinator's counts (also as it stops: its last counts stay in the totals). */
  async write(): Promise<void> {
    // Folded meanwhile: at once under the next field (a tick later, a crash in between lost them).
    for (let attempt = 0; attempt < 2; attempt++) {
      const counts = minus(this.o.counts(), this.base);
      // Counted by the store (`ended`): left out of the field, so that whatever a field holds of
      // them was counted by an earlier release, which the store did not count (totals()).
      if (this.o.ended !== undefined) for (const k of STORE_COUNTED) delete counts[k];
      const wrote = await this.run("write", this.field(), JSON.stringify(counts), this.created ? "0" : "1");
      if (wrote === 1) {
        this.created = true;
        this.written = counts;
        return;
      }
      this.folded();
    }
  }

  /**
   * Writes this coordinator's counts, reads the others', and folds the fields of coordinators
   * that `alive` does not know (gone, or an earlier incarnation of a coordinator that restarted).
   */
  async tick(alive: (coordinatorId: string, startedAt: string) => boolean): Promise<void> {
    await this.write();
    // Read beside the fields (a failed read keeps the last one: the counts never go down).
    const ended = this.o.ended?.().catch(() => null);
    const reply = await this.run("read");
    const flat = Array.isArray(reply) ? reply.map(String) : [];
    const mine = this.field();
    const others: Counts = {};
    const gone: string[] = [];
    let seen = false;
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const field = flat[i]!;
      if (field === mine) {
        seen = true;
        continue;
      }
      add(others, parseCounts(flat[i + 1]!));
      if (field !== RETIRED && !isAlive(field, alive)) gone.push(field);
    }
    // Folded between the write and the read: "retired" holds what it held.
    if (!seen && this.created) this.folded();
    this.others = others;
    if (ended !== undefined) this.ends = (await ended) ?? this.ends;
    if (gone.length > 0) await this.run("fold", ...gone);
  }

  /** The current field was folded into "retired" with what it held: count on under the next one. */
  private folded(): void {
    add(this.base, this.written);
    this.written = {};
    this.serial++;
    this.created = false;
  }

  private field(): string {
    return JSON.stringify([this.o.coordinatorId, this.o.startedAt, this.serial]);
  }

  private run(...args: string[]): Promise<ScriptReply> {
    return this.o.store.runScript(coordinatorCounts, [KEY], args);
  }
}

/** A field names [coordinator id, started at, serial]; one that does not parse is folded too. */
function isAlive(field: string, alive: (coordinatorId: string, startedAt: string) => boolean): boolean {
  try {
    const parsed = JSON.parse(field) as unknown;
    return (
      Array.isArray(parsed) &&
      typeof parsed[0] === "string" &&
      typeof parsed[1] === "string" &&
      alive(parsed[0], parsed[1])
    );
  } catch {
    return false;
  }
}

function parseCounts(raw: string): Counts {
  try {
    const parsed = JSON.parse(raw) as unknown;
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return {};
    const out: Counts = {};
    for (const [k, v] of Object.entries(parsed))
      if (typeof v === "number" && Number.isFinite(v) && v >= 0) out[k] = v;
    return out;
  } catch {
    return {};
  }
}

function add(into: Counts, counts: Counts): Counts {
  for (const [k, v] of Object.entries(counts)) into[k] = (into[k] ?? 0) + v;
  return into;
}

function minus(counts: Counts, base: Counts): Counts {
  const out: Counts = {};
  for (const [k, v] of Object.entries(counts)) out[k] = v - (base[k] ?? 0);
  return out;
}
