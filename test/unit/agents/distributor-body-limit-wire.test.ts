import { describe, expect, it } from "vitest";
import { DistributorDirectory } from "../../../src/agents/coordinator/distributor-directory.js";
import { parseAgentPayload } from "../../../src/agents/parse-payload.js";

/**
 * `max_body_bytes` on a distributor's register_distributor and heartbeat: optional and additive.
 * A positive integer is taken; anything else is dropped, never the message it came with; absent
 * (an older distributor) is as before. A peer coordinator's view (not parsed by the protocol) is
 * held to the same check by the directory.
 */

const heartbeat = (extra: Record<string, unknown> = {}) => ({
  kind: "distributor_status",
  status: "idle",
  load: 0,
  capacity: 4,
  url: "http://127.0.0.1:4200",
  owns_lease: true,
  workers: [],
  done: 0,
  ...extra,
});
const register = (extra: Record<string, unknown> = {}) => ({
  kind: "register_distributor",
  distributor_id: "d1",
  url: "http://127.0.0.1:4200",
  ...extra,
});

/** The payload as the receiver takes it (a refused one throws, naming why). */
function parse(payload: unknown): Record<string, unknown> {
  const parsed = parseAgentPayload(payload);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value as Record<string, unknown>;
}

const malformed = ["65536", -1, 0, 1.5, null, true, { bytes: 1 }, Number.POSITIVE_INFINITY];

describe("a distributor's max_body_bytes on the wire", () => {
  it.each([
    ["heartbeat", heartbeat],
    ["register_distributor", register],
  ])("on its %s: taken when a positive integer", (_name, make) => {
    expect(parse(make({ max_body_bytes: 65_536 }))).toMatchObject({ max_body_bytes: 65_536 });
  });

  it.each([
    ["heartbeat", heartbeat],
    ["register_distributor", register],
  ])("on its %s: absent (an older release) or malformed, the message is taken without it", (_name, make) => {
    expect(parse(make()).max_body_bytes).toBeUndefined();
    for (const bad of malformed) {
      const parsed = parse(make({ max_body_bytes: bad }));
      expect(parsed, String(bad)).toMatchObject({ kind: make().kind, url: "http://127.0.0.1:4200" });
      expect(parsed.max_body_bytes, String(bad)).toBeUndefined();
    }
  });
});

describe("a distributor's max_body_bytes in the coordinator's directory", () => {
  const view = (extra: Record<string, unknown>) => ({
    ...heartbeat(),
    id: "d1",
    last_heartbeat_at: new Date().toISOString(),
    age_ms: 0,
    ...extra,
  });

  it("is what it last stated, first-hand or through another coordinator's view", () => {
    const dir = new DistributorDirectory();
    dir.heartbeat("d1", parse(heartbeat({ max_body_bytes: 70_000 })) as never);
    expect(dir.get("d1")?.maxBodyBytes).toBe(70_000);
    // A heartbeat that states none (an earlier release's) keeps it.
    dir.heartbeat("d1", parse(heartbeat()) as never);
    expect(dir.get("d1")?.maxBodyBytes).toBe(70_000);
    dir.heardElsewhere(view({ max_body_bytes: 80_000 }) as never, "c2");
    expect(dir.get("d1")?.maxBodyBytes).toBe(80_000);
  });

  it("from a peer coordinator's view, malformed, is dropped", () => {
    for (const bad of malformed) {
      const dir = new DistributorDirectory();
      dir.heardElsewhere(view({ max_body_bytes: bad }) as never, "c2");
      expect(dir.get("d1")?.status, String(bad)).toBe("idle");
      expect(dir.get("d1")?.maxBodyBytes, String(bad)).toBeUndefined();
    }
  });
});
