import { afterEach, describe, expect, it, vi } from "vitest";
import { resolveSecret } from "../../../src/agents/agent-base.js";
import { isTriadError } from "../../../src/core/errors.js";
import { checkSharedSecret, MIN_SECRET_BYTES } from "../../../src/core/messaging/index.js";

/**
 * A deployment's shared secret (TRIAD_SECRET) signs every message with HMAC-SHA256: one shorter
 * than 16 bytes can be guessed, so it is refused with ERR_SECRET_TOO_SHORT wherever it is read,
 * by the CLI (test/e2e/cli-input-checks.test.ts) and by agents taking it from the environment.
 * A secret a program passes in code is its own choice (the seed's examples pass "secret").
 */

const refusal = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    return err;
  }
  return undefined;
};

describe("the shared secret's length", () => {
  afterEach(() => vi.unstubAllEnvs());

  it("is at least 16 bytes of UTF-8", () => {
    expect(MIN_SECRET_BYTES).toBe(16);
    expect(checkSharedSecret("0123456789abcdef", "TRIAD_SECRET")).toBe("0123456789abcdef");
    // Eight two-byte characters are 16 bytes: what the HMAC is keyed with.
    expect(checkSharedSecret("éééééééé", "TRIAD_SECRET")).toBe("éééééééé");
    const err = refusal(() => checkSharedSecret("0123456789abcde", "TRIAD_SECRET"));
    expect(isTriadError(err, "ERR_SECRET_TOO_SHORT")).toBe(true);
    expect((err as Error).message).toMatch(
      /^TRIAD_SECRET is 15 bytes long: .* at least 16 .*openssl rand -hex 32/,
    );
    expect((err as Error).message).not.toContain("0123456789abcde");
  });

  it("an agent refuses a short TRIAD_SECRET from the environment", () => {
    vi.stubEnv("TRIAD_SECRET", "short");
    const err = refusal(() => resolveSecret(undefined));
    expect(isTriadError(err, "ERR_SECRET_TOO_SHORT")).toBe(true);
    expect((err as Error).message).toMatch(/^TRIAD_SECRET is 5 bytes long/);
    vi.stubEnv("TRIAD_SECRET", "a-long-enough-secret-0123");
    expect(resolveSecret(undefined)).toBe("a-long-enough-secret-0123");
  });

  it("a secret passed in code is the program's and taken as given", () => {
    vi.stubEnv("TRIAD_SECRET", "short");
    expect(resolveSecret("secret")).toBe("secret");
  });
});
