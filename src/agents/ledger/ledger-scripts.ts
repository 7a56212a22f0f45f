import type { StoreScript } from "../../core/store/index.js";
import { defineScript } from "../../core/store/index.js";
import { recordSchedule } from "../schedule-controls/task-schedule.js";
import { eachGroup, groupedOpenScript, groupedScript, withGroups } from "./grouped-script.js";
import {
  abandonOpen,
  defineOpenScript,
  endedOrRetired,
  hincrby,
  leaveDue,
  type OpenTally,
  openAdd,
  openEndTallied,
  openIds,
  openTally,
  openTallyWrite,
} from "./open-index.js";

/**
 * The task ledger's atomic steps. Each Lua file documents its KEYS, ARGV and replies; the
 * functions here are their twins for the embedded engine, line for line.
 */

const OPEN = new Set(["pending", "in_progress"]);

/** A record's retry limits when it has none: submit-tasks leaves these defaults out. */
export const DEFAULT_MAX_RETRIES = 2;
export const DEFAULT_BACKOFF_MS = 200;

/** The rest of a plain task's submit values (see submit-tasks-1.lua): none given. */
const PLAIN_REST = ["", "", "", "", "", "", ""];

export const submitTasks = groupedOpenScript(import.meta.url, "submit-tasks-1.lua", (db, _keys, args) => {
  const [, dist] = args as [string, string];
  const out: number[] = [];
  const tally: OpenTally = new Map();
  eachGroup(args, 2, 5, (prefix, item) => {
    const [id, type, payload, createdAt, rest] = item;
    const [maxRetries, backoffMs, deps, policy, parent, inputTimeout, schedule] =
      rest === "" ? PLAIN_REST : (JSON.parse(rest!) as string[]);
    const rec = `${prefix}task:${id}`;
    if (db.exists(rec)) {
      out.push(0);
      return;
    }
    db.hset(rec, { type: type!, payload: payload!, status: "pending", created_at: createdAt! });
    // Fields a record holds only when given (OPTIONAL in the Lua).
    const optional = {
      max_retries: maxRetries,
      backoff_ms: backoffMs,
      on_dependency_failure: policy,
      parent_id: parent,
      input_timeout_ms: inputTimeout,
    };
    for (const [field, value] of Object.entries(optional))
      if (value !== "") db.hset(rec, { [field]: value! });
    openAdd(db, prefix, id!);
    openTally(tally, prefix, "submitted");
    const delayed = recordSchedule(db, prefix, id!, schedule!);
    if (deps !== "") {
      db.hset(rec, { depends_on: deps! });
      for (const dep of JSON.parse(deps!) as string[]) db.sadd(`${prefix}wait:${id}`, dep);
      db.sadd(`${prefix}waiting`, id!);
    } else if (dist !== "" && !delayed) {
      db.hset(rec, { distributor: dist });
      db.sadd(`${prefix}dist:${dist}`, id!);
    }
    out.push(1);
  });
  openTallyWrite(db, tally);
  return out;
});

export const assignTasks = defineScript(import.meta.url, "assign-tasks-1.lua", (db, [distSet], args) => {
  const [prefix, dist, owner, from] = args as [string, string, string, string];
  if (owner !== "" && db.get(`${prefix}owner`) !== owner) return args.slice(4).map(() => -1);
  return args.slice(4).map((id) => {
    const rec = `${prefix}task:${id}`;
    const status = db.hget(rec, "status");
    const old = db.hget(rec, "distributor");
    if (status === null || !OPEN.has(status) || db.exists(`${prefix}wait:${id}`)) return 0;
    if (from !== "" && old !== from && old !== dist) return old ?? "";
    const moved = old !== dist;
    if (moved && old) db.srem(`${prefix}dist:${old}`, id);
    const ended = status === "in_progress" && moved;
    if (ended) {
      hincrby(db, rec, "fence", 1);
      db.hset(rec, { status: "pending", assigned_to: "" });
    }
    db.hset(rec, { distributor: dist });
    db.sadd(distSet!, id);
    return ended ? 2 : 1;
  });
});

export const dispatchTasks = groupedOpenScript(import.meta.url, "dispatch-tasks-1.lua", (db, _keys, args) => {
  const [dist, worker, startedAt, nowMs, retentionMs] = args as [string, string, string, string, string];
  const out: Array<[number] | [number, number]> = [];
  eachGroup(args, 5, 1, (prefix, [id]) => {
    const rec = `${prefix}task:${id}`;
    const status = db.hget(rec, "status");
    if (status === null) out.push([-1]);
    else if (!OPEN.has(status)) out.push([-2]);
    else if (db.hget(rec, "distributor") !== dist) out.push([-3]);
    else if (
      db.hget(rec, "expires_at") !== null &&
      Number(db.hget(rec, "attempts") ?? 0) === 0 &&
      status === "pending" &&
      (db.zscore(`${prefix}expiring`, id!) ?? Number.POSITIVE_INFINITY) <= Number(nowMs)
    ) {
      abandonOpen(db, prefix, id!, dist, "expired", startedAt, retentionMs);
      out.push([-4]);
    } else {
      const fence = hincrby(db, rec, "fence", 1);
      const attempts = hincrby(db, rec, "attempts", 1);
      db.hset(rec, { status: "in_progress", assigned_to: worker, started_at: startedAt });
      if (db.hget(rec, "run_at") !== null || db.hget(rec, "expires_at") !== null) leaveDue(db, prefix, id!);
      out.push([fence, attempts]);
    }
  });
  return out;
});

export const commitResults = groupedOpenScript(import.meta.url, "commit-results-1.lua", (db, _keys, args) => {
  const [completedAt, nowMs, retentionMs] = args as [string, string, string];
  const out: Array<[number] | [number, number, string, string, string]> = [];
  const tally: OpenTally = new Map();
  eachGroup(args, 3, 5, (prefix, [id, fence, outcome, value, spawn]) => {
    const rec = `${prefix}task:${id}`;
    const status = db.hget(rec, "status");
    const dist = db.hget(rec, "distributor");
    const current = db.hget(rec, "fence");
    if (current === null || Number(current) !== Number(fence)) {
      out.push([0]);
      return;
    }
    if (status !== "in_progress") {
      out.push([status === null ? 0 : 5]); // the same fence, no longer in progress: a resend
      return;
    }
    const attempts = Number(db.hget(rec, "attempts") ?? 0);
    const worker = db.hget(rec, "assigned_to") ?? "";
    const started = db.hget(rec, "started_at") ?? "";
    const end = (terminal: string, field: "result" | "error") => {
      db.hset(rec, {
        status: terminal,
        [field]: value!,
        ...(field === "result" ? { error: "" } : {}),
        completed_at: completedAt,
      });
      openEndTallied(db, tally, prefix, id!, terminal);
      if (dist !== null) db.srem(`${prefix}dist:${dist}`, id!);
      if (db.hget(rec, "run_at") !== null || db.hget(rec, "expires_at") !== null) leaveDue(db, prefix, id!);
      db.pexpire(rec, Number(retentionMs));
    };
    if (outcome === "completed") {
      end("completed", "result");
      if (spawn !== "") db.hset(rec, { spawn: spawn! });
      endedOrRetired(db, prefix, id!, spawn !== "");
      out.push([1, attempts, worker, started, ""]);
      return;
    }
    if (outcome === "input_required") {
      const nl = value!.indexOf("\n");
      const deadline = db.timeMs() + Number(db.hget(rec, "input_timeout_ms") ?? 86_400_000);
      db.hset(rec, {
        status: "input_required",
        input_request: value!.slice(nl + 1),
        input_key: value!.slice(0, nl),
        assigned_to: "",
      });
      db.hdel(rec, "distributor");
      if (dist !== null) db.srem(`${prefix}dist:${dist}`, id!);
      db.zadd(`${prefix}input_due`, deadline, id!);
      out.push([4, attempts, worker, started, String(deadline)]);
      return;
    }
    const failures = hincrby(db, rec, "failures", 1);
    if (
      outcome !== "failed_final" &&
      failures <= Number(db.hget(rec, "max_retries") ?? DEFAULT_MAX_RETRIES)
    ) {
      const backoffMs = Number(db.hget(rec, "backoff_ms") ?? DEFAULT_BACKOFF_MS);
      const notBefore = Number(nowMs) + backoffMs * 2 ** (failures - 1);
      db.hset(rec, { status: "pending", error: value!, assigned_to: "", not_before: String(notBefore) });
      out.push([2, attempts, worker, started, String(notBefore)]);
    } else {
      end("failed", "error");
      endedOrRetired(db, prefix, id!);
      out.push([3, attempts, worker, started, ""]);
    }
  });
  openTallyWrite(db, tally);
  return out;
});

export const requeueTasks = defineScript(import.meta.url, "requeue-tasks-1.lua", (db, _keys, args) => {
  const [prefix, dist] = args as [string, string];
  const out: number[] = [];
  for (let i = 2; i < args.length; i += 2) {
    const rec = `${prefix}task:${args[i]}`;
    const ok =
      db.hget(rec, "status") === "in_progress" &&
      Number(db.hget(rec, "fence")) === Number(args[i + 1]) &&
      db.hget(rec, "distributor") === dist;
    if (ok) {
      hincrby(db, rec, "fence", 1);
      db.hset(rec, { status: "pending", assigned_to: "" });
    }
    out.push(ok ? 1 : 0);
  }
  return out;
});

export const abandonTasks = defineOpenScript(import.meta.url, "abandon-tasks-1.lua", (db, _keys, args) => {
  const [prefix, completedAt, retentionMs, reason, owner] = args as [string, string, string, string, string];
  if (owner !== "" && db.get(`${prefix}owner`) !== owner) return args.slice(5).map(() => -1);
  return args.slice(5).map((id) => {
    const rec = `${prefix}task:${id}`;
    const status = db.hget(rec, "status");
    if (status === null || !(OPEN.has(status) || status === "input_required")) return 0;
    abandonOpen(db, prefix, id, db.hget(rec, "distributor"), reason, completedAt, retentionMs);
    return 1;
  });
});

/** defineScript for a script that reads one answer per task: scripts/each-group.lua's read_each walks its groups. */
function defineReadScript(file: string, memory: Parameters<typeof defineScript>[2]): StoreScript {
  return withGroups(defineScript(import.meta.url, file, memory));
}

export const readTasks = defineReadScript("read-tasks-1.lua", (db, _keys, args) => {
  const out: string[][] = [];
  eachGroup(args, 0, 1, (prefix, [id]) => {
    const hash = db.hgetall(`${prefix}task:${id}`);
    const flat = Object.entries(hash).flat();
    const waiting = db.smembers(`${prefix}wait:${id}`);
    if (waiting.length > 0) flat.push("waiting_on", JSON.stringify(waiting));
    if (hash.run_at !== undefined) {
      const due = db.zscore(`${prefix}delayed`, id!);
      flat.push("delayed_until", due === null ? "" : String(due));
    }
    out.push(flat);
  });
  return out;
});

export const readStatuses = defineReadScript("read-statuses-1.lua", (db, _keys, args) => {
  const out: string[] = [];
  eachGroup(args, 0, 1, (prefix, [id]) => {
    out.push(db.hget(`${prefix}task:${id}`, "status") ?? "");
  });
  return out;
});

export const listSets = defineScript(import.meta.url, "list-sets-1.lua", (db, _keys, args) => {
  const [name, ...prefixes] = args as string[];
  return prefixes.flatMap((prefix) => db.smembers(`${prefix}${name}`));
});

export const readEndCounts = defineScript(import.meta.url, "read-end-counts-1.lua", (db, _keys, prefixes) =>
  prefixes.flatMap((prefix) => Object.entries(db.hgetall(`${prefix}end-counts`)).flat()),
);

export const watchDependencies = groupedScript(
  import.meta.url,
  "watch-dependencies-1.lua",
  (db, _keys, args) => {
    const out: string[] = [];
    eachGroup(args, 0, 2, (prefix, [dep, dependent]) => {
      const status = db.hget(`${prefix}task:${dep}`, "status");
      if (status === null) out.push("unknown");
      else if (OPEN.has(status) || status === "input_required") {
        db.sadd(`${prefix}dependents:${dep}`, dependent!);
        out.push("");
      } else {
        const deps = `${prefix}dependents:${dep}`;
        db.sadd(deps, dependent!);
        const rec = `${prefix}task:${dep}`;
        const ttl = db.pttl(rec);
        if (ttl > 0) db.pexpire(deps, ttl);
        // memory:// keeps at most memoryMaxFinished finished records: the set goes with its
        // record (one still to be settled is retired by settleEnded, with its set).
        if (db.sismember(`${prefix}ended`, dep!) === 0) db.retire(rec, [deps]);
        out.push(status);
      }
    });
    return out;
  },
);

export const dependencyEnded = groupedOpenScript(import.meta.url, "dependency-ended-1.lua", (db, _, args) => {
  const [completedAt, retentionMs, nowMs] = args as [string, string, string];
  const out: Array<Array<number | string>> = [];
  const withRecord = (verdict: number, rec: string) => [verdict, ...Object.entries(db.hgetall(rec)).flat()];
  eachGroup(args, 3, 3, (prefix, [id, dep, depStatus]) => {
    const rec = `${prefix}task:${id}`;
    const wait = `${prefix}wait:${id}`;
    if (db.srem(wait, dep!) === 0) {
      out.push([0]);
      return;
    }
    if (db.hget(rec, "status") !== "pending") {
      // Not reached (see the Lua): a guard, changing nothing.
      out.push([0]);
    } else if (depStatus !== "completed" && db.hget(rec, "on_dependency_failure") !== "run") {
      abandonOpen(db, prefix, id!, null, `dependency ${dep} ${depStatus}`, completedAt, retentionMs);
      out.push(withRecord(3, rec));
    } else if (!db.exists(wait)) {
      db.srem(`${prefix}waiting`, id!);
      const due = db.zscore(`${prefix}delayed`, id!);
      if (due !== null && due > Number(nowMs)) {
        out.push(withRecord(4, rec));
        return;
      }
      if (due !== null) db.zrem(`${prefix}delayed`, id!);
      out.push(withRecord(2, rec));
    } else out.push([1]);
  });
  return out;
});

export const settleEnded = groupedScript(import.meta.url, "settle-ended-1.lua", (db, _keys, args) => {
  const [retentionMs] = args as [string];
  const out: number[] = [];
  eachGroup(args, 1, 2, (prefix, [id, spawned]) => {
    if (db.srem(`${prefix}ended`, id!) === 0) {
      out.push(0);
      return;
    }
    const rec = `${prefix}task:${id}`;
    if (spawned !== "" && db.exists(rec)) {
      db.hset(rec, { spawned: spawned! });
      db.hdel(rec, "spawn");
    }
    db.pexpire(`${prefix}dependents:${id}`, Number(retentionMs));
    // Every dependent has heard of its end: the record is a finished one like any other now, and
    // its dependents' set goes with it (memory:// only, as endedOrRetired).
    db.retire(rec, [`${prefix}dependents:${id}`]);
    out.push(1);
  });
  return out;
});

export const readDependents = defineReadScript("read-dependents-1.lua", (db, _keys, args) => {
  const out: string[][] = [];
  eachGroup(args, 0, 1, (prefix, [id]) => {
    out.push(db.smembers(`${prefix}dependents:${id}`));
  });
  return out;
});

export const readEnded = defineReadScript("read-ended-1.lua", (db, _keys, args) => {
  const out: string[][] = [];
  eachGroup(args, 0, 1, (prefix, [id]) => {
    const rec = `${prefix}task:${id}`;
    out.push([
      db.hget(rec, "status") ?? "",
      db.hget(rec, "spawn") === null ? "" : "1",
      db.hget(rec, "canceled") === null ? "" : "1",
      ...db.smembers(`${prefix}dependents:${id}`),
    ]);
  });
  return out;
});

export const readOutcomes = defineReadScript("read-outcomes-1.lua", (db, _keys, args) => {
  const out: string[][] = [];
  eachGroup(args, 0, 1, (prefix, [id]) => {
    const rec = `${prefix}task:${id}`;
    out.push(["status", "result", "error"].map((field) => db.hget(rec, field) ?? ""));
  });
  return out;
});

export const openTasks = defineOpenScript(import.meta.url, "open-tasks-1.lua", (db, _keys, [prefix]) =>
  openIds(db, prefix!),
);
