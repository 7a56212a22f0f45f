import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { RedisClient } from "../../../src/index.js";
import { EnvelopeNotes, tenantDigest } from "../../../src/server/a2a-gateway/envelope-notes.js";
import { contextDigest } from "../../../src/server/a2a-gateway/rejected-tasks.js";
import { testEngines } from "../../helpers/engines.js";

/**
 * The notes ListTasks filters by (tenant and context of each A2A envelope): written and read the
 * same by the Lua scripts and their embedded-engine twins, and let go with the retention.
 */
describe.each(testEngines("envelope-notes", { cluster: true }))("envelope notes on $name", (engine) => {
  let store: RedisClient;
  const ledger = { retentionMs: 60_000 };
  beforeAll(async () => {
    await engine.setup();
    store = new RedisClient(engine.config());
    expect(await store.connect()).toBe(true);
  }, 60_000);
  afterAll(async () => {
    await store.disconnect();
    await engine.teardown();
  });

  it("keeps each task's tenant and context digests, reads them in the order asked, and none for a task without", async () => {
    const notes = new EnvelopeNotes({ store, ledger } as never);
    await notes.note("t1", "acme", "ctx-1");
    await notes.note("t2", "", undefined);
    await notes.note("t1", "acme", "ctx-1"); // again: the same note
    const read = await notes.read(["t2", "nope", "t1"]);
    expect([...read.entries()]).toEqual([
      ["t2", { tenant: "", context: "" }],
      ["t1", { tenant: tenantDigest("acme"), context: contextDigest("ctx-1") }],
    ]);
    expect(tenantDigest("")).toBe("");
    expect(tenantDigest("acme")).not.toBe(tenantDigest("acme2"));
    // Past the Lua unpack limit in one list: read in chunks.
    const many = Array.from({ length: 2500 }, (_, i) => `m${i}`);
    expect((await notes.read(many)).size).toBe(0);
  });

  it("a note older than the retention goes at the next save", async () => {
    const notes = new EnvelopeNotes({ store, ledger } as never);
    await notes.note("old", "acme", "c");
    // The retention passes on the caller's clock (the notes' save times are its own).
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + 2 * ledger.retentionMs });
    try {
      await notes.note("new", "acme", "c");
    } finally {
      vi.useRealTimers();
    }
    const read = await notes.read(["old", "new"]);
    expect([...read.keys()]).toEqual(["new"]);
  });
});
