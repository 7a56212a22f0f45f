import { defineScript } from "./script.js";

/** The store's own scripts: compare-and-set for transaction(), and the lease life cycle. */

export const compareAndSet = defineScript(
  import.meta.url,
  "compare-and-set-1.lua",
  (db, [key], [seen, expected, next]) => {
    const current = db.get(key!);
    if (seen === "0" ? current !== null : current !== expected) return 0;
    db.set(key!, next!, { keepTtl: true });
    return 1;
  },
);

export const acquireLease = defineScript(
  import.meta.url,
  "acquire-lease-2.lua",
  (db, [lease, fence], [owner, ttl]) => {
    if (db.exists(lease!)) return 0;
    const token = db.incrBy(fence!, 1);
    db.hset(lease!, { owner: owner!, token: String(token), acquired_at: String(db.timeMs()) });
    db.pexpire(lease!, Number(ttl));
    return token;
  },
);

export const renewLease = defineScript(
  import.meta.url,
  "renew-lease-1.lua",
  (db, [lease], [owner, ttl, token]) => {
    if (db.hget(lease!, "owner") !== owner) return 0;
    const current = Number(db.hget(lease!, "token"));
    if (token !== "" && Number(token) !== current) return 0;
    db.pexpire(lease!, Number(ttl));
    return current;
  },
);

export const releaseLease = defineScript(
  import.meta.url,
  "release-lease-1.lua",
  (db, [lease], [owner, token]) => {
    if (db.hget(lease!, "owner") !== owner) return 0;
    if (token !== "" && Number(token) !== Number(db.hget(lease!, "token"))) return 0;
    db.del(lease!);
    return 1;
  },
);

export const getLease = defineScript(import.meta.url, "get-lease-1.lua", (db, [lease]) => {
  const owner = db.hget(lease!, "owner");
  if (owner === null) return null;
  return [
    owner,
    Number(db.hget(lease!, "token")),
    Number(db.hget(lease!, "acquired_at")),
    db.timeMs(),
    db.pttl(lease!),
  ];
});
