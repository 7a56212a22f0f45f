import type { JsonValue } from "../../core/json.js";
import type { RedisClient } from "../../core/store/index.js";
import type { CoordinatorView } from "./coordinator-peers.js";
import { goneCoordinatorsScript } from "./gone-coordinators-scripts.js";

/** A coordinator seen alive that is gone: its last view, and how it went. */
export type GoneCoordinator = {
  view: CoordinatorView;
  /** It said it stops (a graceful stop: its registry entry removed, or its view says `stopping`); else it crashed. */
  stopped: boolean;
  /** Monotonic ms when it was seen gone. */
  since: number;
};

/**
 * The other coordinators that this one saw alive and then gone (several coordinators), or that
 * the store says another saw gone before this one started (GoneRecord), or that it found
 * registered with its view expired as it started (killed alone: nobody saw it go): listed as
 * dead for the dead-agent retention (timing.deadRetentionMs), as dead distributors and workers
 * are, then forgotten. One that comes back is alive again.
 */
export class GoneCoordinators {
  private readonly gone = new Map<string, GoneCoordinator>();

  constructor(private readonly retentionMs: () => number) {}

  /** Coordinator `view.id`, alive at the last look, is gone now (since `now`, monotonic ms). */
  went(view: CoordinatorView, stopped: boolean, now: number): void {
    this.gone.set(view.id, { view, stopped, since: now });
  }

  /** `id`, listed gone, stopped gracefully after all (the store's record says so). */
  stopped(id: string): void {
    const g = this.gone.get(id);
    if (g !== undefined) g.stopped = true;
  }

  /** `id` is alive (again); whether it was listed gone. */
  alive(id: string): boolean {
    return this.gone.delete(id);
  }

  has(id: string): boolean {
    return this.gone.has(id);
  }

  /** Forgets those gone longer than the retention. */
  prune(now: number): void {
    const retention = this.retentionMs();
    for (const [id, g] of this.gone) if (now - g.since > retention) this.gone.delete(id);
  }

  list(): GoneCoordinator[] {
    return [...this.gone.values()];
  }
}

/** The hash of the coordinators seen gone (scripts/gone-coordinators-1.lua). */
const GONE_KEY = "coordinators:gone";
/** Entries the hash keeps at most (the oldest dropped beyond). */
export const MAX_GONE = 1_000;

/** A coordinator the store lists gone: its trimmed last view, how it went, and how long ago (the store's clock). */
export type RecordedGone = { view: CoordinatorView; stopped: boolean; ageMs: number };

/**
 * The coordinators seen gone, kept in the store (one hash, scripts/gone-coordinators-1.lua with
 * its embedded twin) so that one that restarts or joins later lists the same dead coordinators
 * as those that saw them go, for what is left of the retention. Ages are measured on the
 * store's clock (its TIME), so no two coordinators' clocks are compared. Bounded: entries older
 * than the retention, and the oldest beyond MAX_GONE, are dropped; the key expires a retention
 * after its last write.
 */
export class GoneRecord {
  constructor(
    private readonly store: RedisClient,
    private readonly retentionMs: () => number,
    /** Entries kept at most (the oldest sightings dropped beyond). */
    private readonly maxEntries = MAX_GONE,
  ) {}

  /** The retention as the script takes it: whole ms, at least 1. */
  private get retention(): number {
    return Math.max(1, Math.round(this.retentionMs()));
  }

  /** Records that `view.id` went (the first sighting's time is kept; `stopped` once anyone saw a graceful stop). */
  async went(view: CoordinatorView, stopped: boolean): Promise<void> {
    await this.store.runScript(
      goneCoordinatorsScript,
      [GONE_KEY],
      ["went", this.retention, this.maxEntries, view.id, stopped ? "1" : "0", JSON.stringify(trimmed(view))],
    );
  }

  /** `ids` are alive (again): off the record. */
  async alive(ids: string[]): Promise<void> {
    if (ids.length > 0) await this.store.runScript(goneCoordinatorsScript, [GONE_KEY], ["alive", ...ids]);
  }

  /** Those the store lists gone within the retention; an entry that cannot be read is left out. */
  async read(): Promise<RecordedGone[]> {
    const reply = await this.store.runScript(goneCoordinatorsScript, [GONE_KEY], ["read", this.retention]);
    if (!Array.isArray(reply) || reply.length === 0) return [];
    const now = Number(reply[0]);
    const out: RecordedGone[] = [];
    for (let i = 1; i + 1 < reply.length; i += 2) {
      const entry = parse(String(reply[i + 1]));
      if (entry === null || entry.view.id !== String(reply[i])) continue;
      out.push({ view: entry.view, stopped: entry.stopped, ageMs: Math.max(0, now - entry.at) });
    }
    return out;
  }
}

/** What a dead coordinator's listing needs of its last view (GET /agents, the dashboard). */
function trimmed(view: CoordinatorView): CoordinatorView {
  return {
    id: view.id,
    url: view.url,
    ...(view.api_url !== undefined ? { api_url: view.api_url } : {}),
    started_at: view.started_at,
    ...(view.published_at !== undefined ? { published_at: view.published_at } : {}),
    shards: [],
    stats: view.stats ?? {},
    distributors: [],
  };
}

function parse(raw: string): { at: number; stopped: boolean; view: CoordinatorView } | null {
  let entry: JsonValue;
  try {
    entry = JSON.parse(raw) as JsonValue;
  } catch {
    return null;
  }
  if (entry === null || typeof entry !== "object" || Array.isArray(entry)) return null;
  const { at, stopped, view } = entry as { at?: unknown; stopped?: unknown; view?: unknown };
  if (typeof at !== "number" || view === null || typeof view !== "object" || Array.isArray(view)) return null;
  const v = view as Partial<CoordinatorView>;
  if (typeof v.id !== "string") return null;
  const stats: Record<string, number> = {};
  for (const [k, n] of Object.entries(v.stats ?? {})) if (typeof n === "number") stats[k] = n;
  return {
    at,
    stopped: stopped === true,
    view: {
      id: v.id,
      url: typeof v.url === "string" ? v.url : null,
      ...(typeof v.api_url === "string" || v.api_url === null ? { api_url: v.api_url } : {}),
      started_at: typeof v.started_at === "string" ? v.started_at : "",
      ...(typeof v.published_at === "string" ? { published_at: v.published_at } : {}),
      shards: [],
      stats,
      distributors: [],
    },
  };
}
