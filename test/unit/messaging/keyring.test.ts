import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { isTriadError } from "../../../src/core/errors.js";
import { Keyring, MAX_KEYS } from "../../../src/core/messaging/keyring.js";

const hmac = (secret: string, input: string) => createHmac("sha256", secret).update(input).digest("hex");

describe("Keyring", () => {
  it("signs with the current key: lowercase hex HMAC-SHA256 keyed with the secret's UTF-8 bytes", () => {
    const ring = new Keyring({ id: "k1", secret: "sécret" });
    expect(ring.sign('{"a":1}')).toBe(hmac("sécret", '{"a":1}'));
    expect(ring.sign("x")).toMatch(/^[0-9a-f]{64}$/);
  });

  it("verifies against every key and names the one that matched", () => {
    const ring = new Keyring({ id: "new", secret: "s2" }, [{ id: "old", secret: "s1" }]);
    expect(ring.verify("m", hmac("s2", "m"))).toBe("new");
    expect(ring.verify("m", hmac("s1", "m"))).toBe("old");
    expect(ring.verify("m", hmac("s3", "m"))).toBeNull();
    expect(ring.verify("other", hmac("s2", "m"))).toBeNull();
  });

  it("refuses signatures that are not 64 lowercase hex digits without comparing", () => {
    const ring = new Keyring({ id: "k", secret: "s" });
    const good = hmac("s", "m");
    for (const bad of [
      undefined,
      null,
      42,
      "",
      good.slice(2),
      `${good}00`,
      good.toUpperCase(),
      `${good.slice(1)}g`,
    ]) {
      expect(ring.verify("m", bad)).toBeNull();
    }
    expect(ring.verify("m", good)).toBe("k");
  });

  it("rotates: the new key signs, the old one still verifies until it is retired", () => {
    const ring = new Keyring({ id: "2025", secret: "old" });
    const oldSig = ring.sign("m");
    ring.rotate("2026", "new");
    expect(ring.currentId).toBe("2026");
    expect(ring.sign("m")).toBe(hmac("new", "m"));
    expect(ring.verify("m", oldSig)).toBe("2025");
    expect(ring.retire("2025")).toBe(true);
    expect(ring.verify("m", oldSig)).toBeNull();
    expect(ring.retire("2025")).toBe(false);
  });

  it("adds an accept-only key ahead of a rollout, and rotating to it promotes it", () => {
    const ring = new Keyring({ id: "a", secret: "sa" });
    ring.addPrevious("b", "sb");
    expect(ring.sign("m")).toBe(hmac("sa", "m"));
    expect(ring.verify("m", hmac("sb", "m"))).toBe("b");
    ring.rotate("b", "sb");
    expect(ring.ids()).toEqual(["b", "a"]);
  });

  it("refuses to retire the signing key, duplicate ids, empty secrets and an oversized ring", () => {
    const ring = new Keyring({ id: "a", secret: "sa" });
    const codeOf = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return isTriadError(err) ? err.code : "other";
      }
      return "none";
    };
    expect(codeOf(() => ring.retire("a"))).toBe("ERR_INVALID_CONFIG");
    expect(codeOf(() => new Keyring({ id: "a", secret: "x" }, [{ id: "a", secret: "y" }]))).toBe(
      "ERR_INVALID_CONFIG",
    );
    expect(codeOf(() => new Keyring({ id: "a", secret: "" }))).toBe("ERR_INVALID_CONFIG");
    const many = Array.from({ length: MAX_KEYS }, (_, i) => ({ id: `p${i}`, secret: `s${i}` }));
    expect(codeOf(() => new Keyring({ id: "a", secret: "sa" }, many))).toBe("ERR_INVALID_CONFIG");
    // A failed change leaves the ring as it was.
    const full = new Keyring({ id: "a", secret: "sa" }, many.slice(1));
    expect(codeOf(() => full.rotate("z", "sz"))).toBe("ERR_INVALID_CONFIG");
    expect(full.currentId).toBe("a");
  });
});
