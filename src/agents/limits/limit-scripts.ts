import { readFileSync } from "node:fs";
import type { MemoryKeyspace, ScriptReply, StoreScript } from "../../core/store/index.js";
import { defineScript, withPrelude } from "../../core/store/index.js";

/**
 * The per-task-type limits' atomic steps. Each Lua file documents its KEYS, ARGV and replies;
 * the functions here are their twins for the embedded engine, line for line.
 */

const RATE_STARTS = readFileSync(new URL("./scripts/rate-starts.lua", import.meta.url), "utf8");

type LimitSpec = { concurrency?: number; rate_per_s?: number };

const hlen = (db: MemoryKeyspace, key: string): number => Object.keys(db.hgetall(key)).length;

function specOf(db: MemoryKeyspace, config: string, type: string): LimitSpec | null {
  const raw = db.hget(config, type);
  return raw === null ? null : (JSON.parse(raw) as LimitSpec);
}

/** See rateWait in acquire-slots-1.lua. */
function rateWait(db: MemoryKeyspace, prefix: string, type: string, rate: number, now: number): number {
  const window = rate < 1 ? 1000 / rate : 1000;
  const cap = Math.max(1, Math.floor((rate * window) / 1000 + 1e-9));
  const size = window / 10;
  const b = Math.floor(now / size);
  const key = `${prefix}rate:${type}`;
  let count = 0;
  let oldest = b;
  for (const [field, value] of Object.entries(db.hgetall(key))) {
    const f = Number(field);
    if (f < b - 10) db.hdel(key, field);
    else {
      count += Number(value);
      if (f < oldest) oldest = f;
    }
  }
  if (count >= cap) return Math.max(1, Math.ceil((oldest + 11) * size - now));
  const bucket = String(b);
  db.hset(key, { [bucket]: String(Number(db.hget(key, bucket) ?? 0) + 1) });
  db.pexpire(key, Math.ceil(window * 2));
  return 0;
}

export const acquireSlots = defineScript(import.meta.url, "acquire-slots-1.lua", (db, [config], args) => {
  const [prefix, dist] = args as [string, string];
  const now = db.timeMs();
  const token = `r:${now}:${dist}`;
  const out: ScriptReply[] = [token];
  for (let i = 2; i < args.length; i += 2) {
    const [type, id] = [args[i]!, args[i + 1]!];
    const spec = specOf(db, config!, type);
    const held = `${prefix}held:${type}`;
    if (spec === null) out.push(-2);
    else if (db.hget(held, id) !== null) out.push(-1);
    else if (spec.concurrency !== undefined && hlen(db, held) >= spec.concurrency) out.push(-1);
    else {
      const wait = spec.rate_per_s !== undefined ? rateWait(db, prefix, type, spec.rate_per_s, now) : 0;
      if (wait > 0) out.push(wait);
      else {
        db.hset(held, { [id]: token });
        db.hset(`${prefix}holding`, { [id]: type });
        out.push(0);
      }
    }
  }
  return out;
});

/** See count_start in scripts/rate-starts.lua (prepended to the scripts that call it). */
function countStart(
  db: MemoryKeyspace,
  config: string,
  prefix: string,
  type: string,
  reservation: string,
  delta: 1 | -1,
) {
  const at = /^r:(\d+):/.exec(reservation);
  if (at === null) return;
  const spec = specOf(db, config, type);
  if (spec?.rate_per_s === undefined) return;
  const window = spec.rate_per_s < 1 ? 1000 / spec.rate_per_s : 1000;
  const key = `${prefix}rate:${type}`;
  const b = String(Math.floor(Number(at[1]) / (window / 10)));
  const count = Number(db.hget(key, b) ?? 0);
  if (delta > 0) {
    db.hset(key, { [b]: String(count + 1) });
    db.pexpire(key, Math.ceil(window * 2));
  } else if (count > 0) {
    if (count - 1 <= 0) db.hdel(key, b);
    else db.hset(key, { [b]: String(count - 1) });
  }
}

/** A script of these that calls count_start: scripts/rate-starts.lua is defined before its text. */
function defineRateScript(...args: Parameters<typeof defineScript>): StoreScript {
  return withPrelude(defineScript(...args), RATE_STARTS);
}

export const bindSlots = defineRateScript(import.meta.url, "bind-slots-1.lua", (db, [config], args) => {
  const [prefix, token] = args as [string, string];
  const out: number[] = [];
  for (let i = 2; i < args.length; i += 3) {
    const [id, type, fence] = [args[i]!, args[i + 1]!, args[i + 2]!];
    const held = `${prefix}held:${type}`;
    const value = db.hget(held, id);
    const mine = value === token;
    if (fence === "") {
      if (mine) {
        db.hdel(held, id);
        db.hdel(`${prefix}holding`, id);
        countStart(db, config!, prefix, type, token, -1);
      }
      out.push(1);
    } else if (mine) {
      db.hset(held, { [id]: fence });
      out.push(1);
    } else if (value === fence) out.push(1);
    else {
      const spec = specOf(db, config!, type);
      if (spec === null || spec.concurrency === undefined || hlen(db, held) < spec.concurrency) {
        if (spec !== null) {
          db.hset(held, { [id]: fence });
          db.hset(`${prefix}holding`, { [id]: type });
          countStart(db, config!, prefix, type, token, 1);
        }
        out.push(1);
      } else out.push(0);
    }
  }
  return out;
});

export const releaseSlots = defineRateScript(import.meta.url, "release-slots-1.lua", (db, [config], args) => {
  const prefix = args[0]!;
  const holding = `${prefix}holding`;
  const out: number[] = [];
  for (let i = 1; i < args.length; i += 2) {
    const id = args[i]!;
    const type = db.hget(holding, id);
    if (type !== null && db.hget(`${prefix}held:${type}`, id) === args[i + 1]) {
      db.hdel(`${prefix}held:${type}`, id);
      db.hdel(holding, id);
      countStart(db, config!, prefix, type, args[i + 1]!, -1);
      out.push(1);
    } else out.push(0);
  }
  return out;
});

export const setLimit = defineScript(import.meta.url, "set-limit-1.lua", (db, [config], args) => {
  const [prefix, type, spec, max] = args as [string, string, string, string | undefined];
  const had = db.hget(config!, type) !== null ? 1 : 0;
  if (spec !== "" && had === 0 && max !== undefined && db.hlen(config!) >= Number(max)) return -1;
  if (spec !== "") {
    db.hset(config!, { [type]: spec });
    return had;
  }
  db.hdel(config!, type);
  const held = `${prefix}held:${type}`;
  for (const id of Object.keys(db.hgetall(held))) db.hdel(`${prefix}holding`, id);
  db.del(held);
  db.del(`${prefix}rate:${type}`);
  db.del(`${prefix}waiting:${type}`);
  return had;
});

export const readLimits = defineScript(import.meta.url, "read-limits-1.lua", (db, [config], args) => {
  const [prefix, dist, withHolders] = args as [string, string, string];
  const now = db.timeMs();
  for (let i = 3; i < args.length; i += 2) {
    const key = `${prefix}waiting:${args[i]}`;
    if (args[i + 1] === "0") db.hdel(key, dist);
    else {
      db.hset(key, { [dist]: `${args[i + 1]}:${now}` });
      db.pexpire(key, 60_000);
    }
  }
  const limits: ScriptReply[] = [];
  for (const [type, spec] of Object.entries(db.hgetall(config!))) {
    const key = `${prefix}waiting:${type}`;
    let waiting = 0;
    for (const [reporter, report] of Object.entries(db.hgetall(key))) {
      const m = /^(\d+):(\d+)$/.exec(report);
      if (m !== null && now - Number(m[2]) <= 10_000) waiting += Number(m[1]);
      else db.hdel(key, reporter);
    }
    limits.push([type, spec, hlen(db, `${prefix}held:${type}`), waiting]);
  }
  const holders: string[] = [];
  if (withHolders === "1") {
    for (const [id, type] of Object.entries(db.hgetall(`${prefix}holding`))) {
      const value = db.hget(`${prefix}held:${type}`, id);
      if (value !== null) holders.push(id, type, value);
      else db.hdel(`${prefix}holding`, id);
    }
  }
  return [now, limits, holders];
});
