import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { OPEN_BUCKETS, openBucketOf } from "../../../src/agents/ledger/open-index.js";

// The embedded engine must put an id in the bucket the Lua twin does: 24 bits of the SHA-1 of
// the id's UTF-8 bytes (redis.sha1hex), whichever way node computes it.
const reference = (id: string, level: number) =>
  createHash("sha1").update(new TextEncoder().encode(id)).digest().readUIntBE(0, 3) % OPEN_BUCKETS[level]!;

describe("openBucketOf", () => {
  it("hashes an id's UTF-8 bytes, as the Lua does, at every level", () => {
    const ids = ["t-1", "g1-3-999", "", "é-ü-任务", "emoji-😀", "lone-\ud800-surrogate", "x".repeat(64)];
    for (const id of ids)
      for (let level = 0; level < OPEN_BUCKETS.length; level++)
        expect(openBucketOf(id, level), `${JSON.stringify(id)} at level ${level}`).toBe(reference(id, level));
  });
});
