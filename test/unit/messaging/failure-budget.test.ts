import { describe, expect, it } from "vitest";
import { FailureBudget, peerKey } from "../../../src/core/messaging/http/failure-budget.js";

/** A budget on a clock the test moves by hand. */
function budget(burst = 20, perSecond = 5) {
  const clock = { ms: 0 };
  return { clock, b: new FailureBudget({ burst, perSecond, now: () => clock.ms }) };
}

describe("FailureBudget: what a peer may cost in messages that fail admission", () => {
  it("lets a peer fail `burst` times, then refuses it with the seconds until it may send again", () => {
    const { b } = budget();
    for (let i = 1; i < 20; i++) expect(b.charge("10.0.0.1")).toBe(true);
    expect(b.retryAfter("10.0.0.1")).toBe(0);
    expect(b.charge("10.0.0.1")).toBe(false); // the 20th: nothing left to verify with
    expect(b.retryAfter("10.0.0.1")).toBe(1); // one token back in 0.2 s, said as whole seconds
  });

  it("earns a peer back `perSecond` failures a second, and forgets it once full again", () => {
    const { b, clock } = budget();
    for (let i = 0; i < 20; i++) b.charge("10.0.0.1");
    expect(b.retryAfter("10.0.0.1")).toBeGreaterThan(0);
    clock.ms += 199;
    expect(b.retryAfter("10.0.0.1")).toBeGreaterThan(0);
    clock.ms += 1;
    expect(b.retryAfter("10.0.0.1")).toBe(0);
    expect(b.charge("10.0.0.1")).toBe(false); // one earned, one spent: empty again
    clock.ms += 4_000; // 20 tokens: full, so nothing is kept for it
    expect(b.retryAfter("10.0.0.1")).toBe(0);
    expect(b.size).toBe(0);
  });

  it("keeps peers apart: one peer's failures cost another nothing", () => {
    const { b } = budget(3, 1);
    for (let i = 0; i < 3; i++) b.charge("10.0.0.1");
    expect(b.retryAfter("10.0.0.1")).toBeGreaterThan(0);
    expect(b.retryAfter("10.0.0.2")).toBe(0);
    expect(b.charge("10.0.0.2")).toBe(true);
  });

  it("says a refused stretch once: the first refusal is to be logged, the rest only counted", () => {
    const { b, clock } = budget(2, 1);
    b.charge("10.0.0.1");
    b.charge("10.0.0.1");
    expect(b.firstRefusal("10.0.0.1")).toBe(true);
    expect(b.firstRefusal("10.0.0.1")).toBe(false);
    clock.ms += 1_000;
    expect(b.retryAfter("10.0.0.1")).toBe(0); // a token back: the stretch is over
    b.charge("10.0.0.1");
    expect(b.firstRefusal("10.0.0.1")).toBe(true);
  });

  it("counts an IPv6 peer by its /64, and an IPv4-mapped one as IPv4", () => {
    expect(peerKey("2001:db8:1:2:aaaa:bbbb:cccc:dddd")).toBe("2001:db8:1:2::/64");
    expect(peerKey("2001:db8:1:2::7")).toBe("2001:db8:1:2::/64");
    expect(peerKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(peerKey("::1")).toBe("0:0:0:0::/64");
    expect(peerKey("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
    expect(peerKey("::ffff:10.0.0.1")).toBe("10.0.0.1");
    expect(peerKey("10.0.0.1")).toBe("10.0.0.1");
    const { b } = budget(2, 1);
    b.charge("2001:db8:1:2::1");
    b.charge("2001:db8:1:2::2");
    expect(b.retryAfter("2001:db8:1:2::3")).toBeGreaterThan(0);
    expect(b.retryAfter("2001:db8:1:3::1")).toBe(0);
  });
});
